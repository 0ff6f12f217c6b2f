/**
 * The host model against our guest (issue #5): whole sessions of our host
 * and our guest machines over an in-memory pair (`runMemorySession`), in
 * scenarios that steer the host down different paths (releases, extensions
 * on/off, data mode or not, Ctrl-C, a failing child, channels cut, stalled
 * or holding stale bytes). The host's live run is recorded through XState
 * inspection (every event it received, every transition it took); the same
 * event sequence walked through the model (`xstate/graph` machinery, with
 * the live session's input) must take the same transitions and end in the
 * same state with the same sent bytes. Reports how much of `hostSession`
 * real conversations with our guest reach.
 */
// @ts-nocheck


import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AnyEventObject, InspectionEvent } from 'xstate';
import { runMemorySession, type MemorySessionOptions } from '../../memory/session.js';
import { createTrace, type Trace } from '../../trace/recorder.js';
import { hostSession } from '../../machines/hostSession.js';
import { MemoryTransport } from '../../transports/memory.js';
import { coverage, coverageLine, describeEmitted, transitionKey, walk } from './graphModel.js';
import { hostSpec } from './hostModel.js';

const hupChild = { start: [['stdout', 'tick\n']] as const, onHup: [['stdout', 'bye\n']] as const, hupExitCode: 0 };

const SCENARIOS: Record<string, MemorySessionOptions> = {
  'default (data mode, extensions, child exits 0)': {},
  'child exits 3': { child: { start: [['stdout', 'x\n']], exitCode: 3 } },
  'no data mode': { wantData: false },
  'SystemTap host (no extensions)': { hostExtensions: false },
  'SystemTap guest (no extensions)': { guestExtensions: false, helloSettleMs: 5 },
  'guest 1.7: no options': { guestRelease: '1.7' },
  'guest 1.7, no data mode': { guestRelease: '1.7', wantData: false },
  'Ctrl-C while the module runs': { child: hupChild, interruptAfterMs: 5 },
  'staprun missing': { child: { missing: ['staprun'] } },
  'verbose guest reply to a .so module without stapdyn': { module: { name: 'm.so', bytes: new Uint8Array([1]) }, child: { missing: ['stapdyn'] } },
  'guest cut during the hello': { guestToHost: { cut: { bytes: 5, mode: 'close' } } },
  // Byte offsets in the guest's replies: hello with nonce 54, `OK` to option data 57, to option status 60, to file 63, to run 66.
  'guest reset during the upload': { child: hupChild, guestToHost: { cut: { bytes: 60, mode: 'reset' } } },
  'guest reset while the module runs': { child: hupChild, guestToHost: { cut: { bytes: 70, mode: 'reset' } } },
  'guest silent before the file reply': { guestToHost: { stallAfter: 60 }, replyTimeoutMs: 50 },
  'guest silent before the run reply': { guestToHost: { stallAfter: 63 }, replyTimeoutMs: 50 },
  'guest closes before the run reply': { guestToHost: { cut: { bytes: 63, mode: 'close' } } },
  'guest silent after the hello': { guestToHost: { stallAfter: 30 }, replyTimeoutMs: 50 },
  'host side half-closed after the hello (the guest ends during options)': { hostToGuest: { cut: { bytes: 20, mode: 'half-close' } } },
  'Ctrl-C during the options': { guestToHost: { delayMs: 20 }, interruptAfterMs: 0 },
  'the guest refuses the module name': { module: { name: 'a-b.ko', bytes: new Uint8Array([1, 2]) } },
  'over 1 MiB of stale lines before the hello': { guestToHost: { stale: new TextEncoder().encode(`${'x'.repeat(1023)}\n`.repeat(1100)) } },
  'stale lines before the hello': { guestToHost: { stale: new TextEncoder().encode('junk\nstapsh 4.8 x86_64 old nonce=DEAD\n') } },
  'stale hello on a channel without EOF': { guestExtensions: false, helloSettleMs: 5, guestToHost: { stale: new TextEncoder().encode('stapsh 4.8 x86_64 old\n') } },
};

interface LiveHost {
  input: unknown;
  events: AnyEventObject[];
  transitions: string[];
  states: Set<string>;
  sent: string[];
  value: unknown;
}

function recordingTrace(live: LiveHost): Trace {
  const trace = createTrace();
  return {
    ...trace,
    recorders: (session, actor) => {
      const r = trace.recorders(session, actor);
      if (actor !== 'host') return r;
      return {
        ...r,
        inspect: (ev: InspectionEvent) => {
          r.inspect(ev);
          const ref = ev.actorRef as unknown as { logic?: unknown; getSnapshot(): { value: unknown; context: { input: unknown } } };
          if (ref.logic !== hostSession) return;
          if (ev.type === '@xstate.event' && ev.event.type !== 'xstate.init') live.events.push(ev.event);
          if (ev.type === '@xstate.snapshot') {
            const snap = ev.snapshot as unknown as { value: unknown; context: { input: unknown }; _nodes: { id: string; parent?: unknown }[] };
            live.input ??= snap.context.input;
            live.value = snap.value;
          }
          if (ev.type === '@xstate.microstep') {
            const m = ev as unknown as { _transitions: unknown[]; snapshot: { _nodes: { id: string; parent?: unknown }[] } };
            for (const t of m._transitions) live.transitions.push(transitionKey(t));
            for (const n of m.snapshot._nodes) if (n.parent) live.states.add(n.id);
          }
        },
      };
    },
  };
}

/**
 * Record what the host's end of the memory pair is asked to write: the
 * transport's outgoing bytes, not what the session says it sent. A spy that
 * calls through (the write happens as always).
 */
function recordHostWrites(): { bytes: () => string } {
  const written: Buffer[] = [];
  const original = MemoryTransport.prototype.write;
  vi.spyOn(MemoryTransport.prototype, 'write').mockImplementation(function (this: MemoryTransport, bytes: Uint8Array) {
    if (this.name === 'memory:host') written.push(Buffer.from(bytes));
    return original.call(this, bytes);
  });
  return { bytes: () => Buffer.concat(written).toString('latin1') };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('hostSession model against our guest (runMemorySession)', () => {
  const covered = { states: new Set<string>(), transitions: new Set<string>() };

  for (const [name, options] of Object.entries(SCENARIOS)) {
    it(`${name}: the model predicts the live host`, async () => {
      const live: LiveHost = { input: undefined, events: [], transitions: [], states: new Set(), sent: [], value: undefined };
      const trace = recordingTrace(live);
      const wire = recordHostWrites();
      const result = await runMemorySession({ replyTimeoutMs: 1_000, ...options, trace });
      trace.close();
      expect(live.input).toBeDefined();
      const path = walk(hostSpec(live.input as never), live.events);
      const modelTransitions = path.steps.flatMap((s) => s.transitions);
      expect(modelTransitions).toEqual(live.transitions);
      expect(path.steps[path.steps.length - 1]!.snapshot.value).toEqual(live.value);
      const modelOutput = path.steps[path.steps.length - 1]!.snapshot.output as { ok: boolean } | undefined;
      expect(modelOutput?.ok).toBe(result.host.ok);
      // What the host wrote to its transport, byte for byte, is what the model
      // says it sends, plus the module upload (header and payload, sent by
      // the session's file sender, which the model only invokes).
      const modelSends = path.steps.flatMap((s) => s.emitted).filter((e) => e.type === 'send') as unknown as { bytes: Uint8Array }[];
      expect(modelSends.length).toBeGreaterThan(0);
      expect(describeEmitted(modelSends as never).length).toBe(modelSends.length);
      const module = options.module ?? { name: 'stap_1.ko', bytes: new Uint8Array([0x7f, 0x45, 0x4c, 0x46]) };
      // The protocol's `file SIZE NAME` line (REFERENCE.md), then the bytes.
      const upload = `file ${module.bytes.length} ${module.name}\n${Buffer.from(module.bytes).toString('latin1')}`;
      const written = wire.bytes();
      const at = written.indexOf(upload);
      const withoutUpload = at < 0 ? written : written.slice(0, at) + written.slice(at + upload.length);
      expect(withoutUpload).toBe(Buffer.concat(modelSends.map((e) => e.bytes)).toString('latin1'));
      live.states.forEach((s) => covered.states.add(s));
      path.steps.forEach((s) => s.states.forEach((x) => covered.states.add(x)));
      live.transitions.forEach((t) => covered.transitions.add(t));
    });
  }

  it('reports the coverage real conversations with our guest reach', () => {
    const c = coverage(hostSession, covered);
    console.log(`${coverageLine('hostSession vs our guest', c)}\n  not reached by these scenarios:\n  ${c.transitions.missing.join('\n  ')}`);
    expect(c.states.covered.length).toBeGreaterThan(0);
  });
});

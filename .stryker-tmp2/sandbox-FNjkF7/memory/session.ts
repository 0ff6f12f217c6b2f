/**
 * A whole session in memory: our host and our guest machines joined by an
 * in-memory transport pair (with its scripted faults), the guest's child
 * scripted. Microseconds per session, no OS: for property tests over
 * releases, chunkings and cuts, and for benchmarking the machines alone.
 */
// @ts-nocheck


import { createMemoryPair, type MemoryDirection, type MemoryFault } from '../transports/memory.js';
import { concatBytes } from '../protocol/bytes.js';
import { driveGuest } from '../guest/driver.js';
import type { GuestOutput } from '../machines/guestStapsh.js';
import type { GuestLimits } from '../machines/guestReplies.js';
import { ioFromTransports } from '../guest/session.js';
import { startSession, type SessionResult } from '../host/session.js';
import { guestStapsh } from '../machines/guestStapsh.js';
import { memoryGuestEffects, type ChildScript, type MemoryWorld } from './actors.js';
import { recordGuestActor, type Trace, type WireRecorder } from '../trace/recorder.js';

export interface MemorySessionOptions {
  readonly hostRelease?: string;
  readonly guestRelease?: string;
  readonly child?: ChildScript;
  /** Faults of the host → guest direction. */
  readonly hostToGuest?: MemoryDirection;
  /** Faults of the guest → host direction. */
  readonly guestToHost?: MemoryDirection;
  readonly wantData?: boolean;
  readonly module?: { readonly name: string; readonly bytes: Uint8Array };
  readonly moduleArgs?: readonly string[];
  readonly replyTimeoutMs?: number;
  readonly guestLimits?: Partial<GuestLimits>;
  /** Interrupt (as Ctrl-C) this many ms after the hello; never when absent. */
  readonly interruptAfterMs?: number;
  /** stapflow's extensions on the host side (default true; false: SystemTap's host). */
  readonly hostExtensions?: boolean;
  /** ... and on the guest side (default true; false: SystemTap's guest of `guestRelease`). */
  readonly guestExtensions?: boolean;
  /** The host's hold on a hello without its nonce on a channel without EOF (default 250 ms). */
  readonly helloSettleMs?: number;
  /** Record the session (frames, both machines' states, child events, each scripted fault as it takes effect). */
  readonly trace?: Trace;
  /** Session id in the trace (default `memory`). */
  readonly traceSession?: string;
}

const FAULT_DIRECTION = { aToB: 'host->guest', bToA: 'guest->host' } as const;

function faultText(f: MemoryFault): string {
  switch (f.what) {
    case 'stale':
      return `${f.bytes} stale bytes waiting before the session`;
    case 'stall':
      return `stalled after ${f.bytes} bytes (no data, no EOF)`;
    case 'cut':
      return `${f.mode ?? 'close'} after ${f.bytes} bytes`;
  }
}

export interface MemorySessionResult {
  readonly host: SessionResult;
  readonly guest: GuestOutput;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly world: MemoryWorld;
}

const IGNORE_WIRE: WireRecorder = Object.assign(() => undefined, { end: () => undefined, flush: () => undefined });

export async function runMemorySession(options: MemorySessionOptions = {}): Promise<MemorySessionResult> {
  const trace = options.trace;
  const traceSession = options.traceSession ?? 'memory';
  const host = trace?.recorders(traceSession, 'host');
  const guestInspect = trace?.recorders(traceSession, 'guest').inspect;
  const [hostEnd, guestEnd] = createMemoryPair({
    names: ['memory:host', 'memory:guest'],
    ...(trace === undefined
      ? {}
      : {
          onFault: (f: MemoryFault) =>
            trace.emit({ t: trace.clock(), session: traceSession, actor: 'proxy', kind: 'transport', what: 'fault', direction: FAULT_DIRECTION[f.direction], message: faultText(f) }),
        }),
    ...(options.hostToGuest ? { aToB: options.hostToGuest } : {}),
    ...(options.guestToHost ? { bToA: options.guestToHost } : {}),
  });
  const { effects, world } = memoryGuestEffects(options.child ?? { start: [['stdout', 'hello\n']], exitCode: 0 });
  const guestIo = ioFromTransports(guestEnd);
  const guestDone = driveGuest(
    guestStapsh,
    {
      effects,
      release: options.guestRelease ?? '4.8',
      machine: 'x86_64',
      kernelRelease: '6.1.0-memory',
      bindir: '/usr/bin',
      workdir: '/tmp/stapsh.MEMORY',
      listening: false,
      limits: { graceMs: 100, ...options.guestLimits },
      extensions: options.guestExtensions ?? true,
    },
    guestIo,
    trace === undefined
      ? {}
      : {
          ...(guestInspect ? { inspect: guestInspect } : {}),
          // The host's recorder already decodes both directions: the guest adds its child events.
          onActor: (actor) => void recordGuestActor(actor, trace.emit, IGNORE_WIRE, { session: traceSession, actor: 'guest', clock: trace.clock }),
        },
  )
    // What the guest wrote last (its `quit` after a gap) is out before its end closes.
    .then(async (out) => (await guestIo.flush(), out))
    .finally(() => void guestEnd.close());
  const session = startSession(hostEnd, {
    module: options.module ?? { name: 'stap_1.ko', bytes: new Uint8Array([0x7f, 0x45, 0x4c, 0x46]) },
    moduleArgs: options.moduleArgs ?? [],
    remote: 'memory:',
    wantData: options.wantData ?? true,
    release: options.hostRelease ?? '4.8',
    replyTimeoutMs: options.replyTimeoutMs ?? 1_000,
    extensions: options.hostExtensions ?? true,
    ...(options.helloSettleMs === undefined ? {} : { helloSettleMs: options.helloSettleMs }),
    ...(host ? { onWire: host.onWire, inspect: host.inspect } : {}),
  });
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  session.output$.subscribe((c) => (c.stream === 'stdout' ? out : err).push(c.bytes.slice()));
  if (options.interruptAfterMs !== undefined) {
    const ms = options.interruptAfterMs;
    void session.hello.then(
      () => setTimeout(() => session.interrupt(), ms),
      () => undefined,
    );
  }
  const hostResult = await session.done;
  // The host is done with its end: the guest sees EOF (or the fault's own end).
  await hostEnd.close();
  const guest = await guestDone;
  return { host: hostResult, guest, stdout: concatBytes(out), stderr: concatBytes(err), world };
}

/** Pure trace analysis: bytes (unescape, hex), quoted-printable run lines, command/reply pairs, phases, clock alignment and merging. */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { concatBytes, utf8 } from '../../protocol/bytes.js';
import { qpEncode } from '../../protocol/quotedPrintable.js';
import { pairCommands, sessionPhases } from '../../trace/analysis.js';
import { decodeRunLine, frameBytes, hexDump, parseHexDump, unescapeBytes } from '../../trace/bytes.js';
import { escapeBytes, type TraceEvent, type TraceFrameEvent, type TraceHeader } from '../../trace/format.js';
import { estimateOffset, mergeTraces, numberFrames, offsetBounds } from '../../trace/merge.js';
import { wireRecorder } from '../../trace/recorder.js';
import { renderText } from '../../trace/render.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 100);
const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

describe('bytes', () => {
  test.prop([fc.uint8Array({ maxLength: 300 })], { numRuns: runs })('unescapeBytes inverts escapeBytes', (bytes) => {
    expect(unescapeBytes(escapeBytes(bytes, Infinity).text)).toEqual(bytes);
  });

  test.prop([fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 1 << 20 })], { numRuns: runs })('a hex dump holds the bytes, 16 a line, text beside', (bytes, offset) => {
    const dump = hexDump(bytes, offset);
    expect(parseHexDump(dump)).toEqual(bytes);
    const lines = dump === '' ? [] : dump.split('\n');
    expect(lines).toHaveLength(Math.ceil(bytes.length / 16));
    lines.forEach((l, k) => {
      expect(l.slice(0, 8)).toBe((offset + 16 * k).toString(16).padStart(8, '0'));
      const row = bytes.subarray(16 * k, 16 * k + 16);
      expect(l.endsWith(`|${latin1(row.map((b) => (b >= 0x20 && b < 0x7f ? b : 0x2e)))}|`)).toBe(true);
    });
  });

  it('draws the usual layout', () => {
    expect(hexDump(utf8('data stdout 3\nhi\n'))).toBe(
      '00000000  64 61 74 61 20 73 74 64  6f 75 74 20 33 0a 68 69  |data stdout 3.hi|\n00000010  0a                                                |.|',
    );
  });

  const base = { t: 0, session: 's', actor: 'host', kind: 'frame' } as const;
  it('gives a frame its recorded bytes, and says when the trace kept less', () => {
    const data: TraceFrameEvent = { ...base, direction: 'guest->host', frame: 'data', stream: 'stdout', size: 3, summary: 'data stdout 3', bytes: 17, preview: 'a\\x00\\n' };
    expect(frameBytes(data)).toEqual({ bytes: utf8('data stdout 3\na\x00\n'), total: 17, complete: true });
    const big: TraceFrameEvent = { ...data, size: 100, bytes: 115, preview: 'x'.repeat(64), previewTruncated: true };
    const fb = frameBytes(big);
    expect(fb.complete).toBe(false);
    expect(fb.bytes).toHaveLength('data stdout 100\n'.length + 64);
    expect(fb.note).toBe('the trace keeps the header and the first 64 of 100 payload bytes');
    const cmd: TraceFrameEvent = { ...base, direction: 'host->guest', frame: 'command', command: 'option', summary: 'option data', bytes: 12 };
    expect(frameBytes(cmd)).toEqual({ bytes: utf8('option data\n'), total: 12, complete: true });
    const burst: TraceFrameEvent = { ...data, frames: 3, size: 9, bytes: 51 };
    expect(frameBytes(burst).note).toMatch(/^3 frames recorded as one event/);
  });
});

describe('run lines', () => {
  it('decode quoted-printable arguments, keeping the raw words', () => {
    const run = decodeRunLine('run -R ./m.ko ticks=3D3 msg=3Dhi=20there')!;
    expect(run.decoded).toBe('run -R ./m.ko ticks=3 "msg=hi there"');
    expect(run.raw).toEqual(['run', '-R', './m.ko', 'ticks=3D3', 'msg=3Dhi=20there']);
    expect(run.args).toEqual(['-R', './m.ko', 'ticks=3', 'msg=hi there']);
    expect(run.changed).toBe(true);
    expect(decodeRunLine('run ./m.ko')!.changed).toBe(false);
    expect(decodeRunLine('option data')).toBeNull();
    // An invalid encoding is shown as sent.
    expect(decodeRunLine('run a=ZZ')!.args).toEqual([null]);
  });

  test.prop([fc.array(fc.uint8Array({ minLength: 1, maxLength: 20 }), { maxLength: 8 })], { numRuns: runs })('decode what the host encodes', (args) => {
    const line = concatBytes([utf8('run'), ...args.map((a) => utf8(` ${qpEncode(a)}`))]);
    const run = decodeRunLine(escapeBytes(line, Infinity).text)!;
    expect(run.args).toEqual(args.map(latin1));
  });
});

/** A scripted session recorded with a clock that advances 1 ms a reading: latencies are exact. */
function scripted(): TraceEvent[] {
  const events: TraceEvent[] = [];
  let now = 0;
  const rec = wireRecorder((e) => events.push(e), { session: 's', actor: 'host', coalesceData: false, clock: () => (now += 0.001) });
  const send = (s: string) => rec('host->guest', utf8(s));
  const hear = (s: string) => rec('guest->host', utf8(s));
  send('stap 4.8\n');
  hear('stapsh 4.8 x86_64 6.1\n');
  send('option data\n');
  hear('OK\n');
  send('file 3 m.ko\nabc');
  hear('OK\n');
  send('run ./m.ko ticks=3D3 msg=3Da=20b\n');
  hear('OK\ndata stdout 2\nhi');
  hear('data stdout 3\nyo\n');
  send('quit\n');
  hear('quit\n');
  rec.end('host->guest');
  rec.end('guest->host');
  return events;
}

describe('pairs and phases', () => {
  it('pair every command of a scripted session with its reply and latency, in the text timeline', () => {
    const events = scripted();
    const pairs = pairCommands(events);
    const words = pairs.map((p) => [(events[p.command] as TraceFrameEvent).command, p.reply === null ? null : (events[p.reply] as TraceFrameEvent).summary, Math.round(p.latency! * 1e6) / 1e3]);
    expect(words).toEqual([
      ['stap', 'stapsh 4.8 x86_64 6.1', 1],
      ['option', 'OK', 1],
      ['file', 'OK', 2],
      ['run', 'OK', 1],
    ]);
    const text = renderText(events);
    expect(text).toContain('host → guest  stap 4.8  (9 B)  [stap → hello 1.0 ms]');
    expect(text).toContain('host → guest  option data  (12 B)  [option → OK 1.0 ms]');
    expect(text).toContain('host → guest  file 3 m.ko  (12 B)  [file → OK 2.0 ms]');
    expect(text).toContain('host → guest  run ./m.ko ticks=3 "msg=a b"  [raw: run ./m.ko ticks=3D3 msg=3Da=20b]  (33 B)  [run → OK 1.0 ms]');
    expect(text).toContain('guest → host  OK  (3 B)  [answers run, 1.0 ms]');
    // Every command that expects a reply got one.
    for (const c of ['stap', 'option', 'file', 'run']) expect(text).toMatch(new RegExp(`\\[${c} → \\S+ \\d+\\.\\d+ ms\\]`));
    // A Δt column: each line's time minus the previous one's.
    const lines = text.split('\n').filter((l) => /^ +\d+\.\d{4} +\+\d/.test(l));
    expect(lines).toHaveLength(events.length);
    expect(lines[1]).toMatch(/^ +0\.0020 +\+0\.0010 {2}/);
    // The waterfall, one line per phase.
    const phases = sessionPhases(events);
    expect(phases.map((p) => p.name)).toEqual(['hello', 'options', 'upload', 'run', 'streaming', 'quit']);
    for (const name of ['hello', 'options', 'upload', 'run', 'streaming', 'quit']) expect(text).toMatch(new RegExp(`^  ${name} +\\d+\\.\\d{4} +\\d+\\.\\d+ ms  \\|[ #]{40}\\|$`, 'm'));
  });

  test.prop([fc.array(fc.tuple(fc.constantFrom('stap', 'option', 'file', 'run'), fc.nat({ max: 5 })), { maxLength: 30 })], { numRuns: runs })(
    'replies answer the oldest unanswered command, never before it',
    (script) => {
      // Commands in order, each reply `lag` commands later (replies keep order).
      const events: TraceEvent[] = [];
      const base = { session: 's', actor: 'proxy' as const, kind: 'frame' as const };
      let t = 0;
      const due: number[] = [];
      script.forEach(([command, lag], k) => {
        events.push({ ...base, t: (t += 0.001), direction: 'host->guest', frame: 'command', command, summary: command, bytes: 1 });
        due.push(k + lag);
        while (due.length > 0 && due[0]! <= k) {
          due.shift();
          const first = events.filter((e) => e.kind === 'frame' && e.frame === 'reply').length === 0 && script[0]![0] === 'stap';
          events.push({ ...base, t: (t += 0.001), direction: 'guest->host', frame: 'reply', reply: first ? 'hello' : 'ok', summary: 'OK', bytes: 3 });
        }
      });
      const pairs = pairCommands(events);
      const answered = pairs.filter((p) => p.reply !== null);
      for (let k = 1; k < answered.length; k++) expect(answered[k]!.reply!).toBeGreaterThan(answered[k - 1]!.reply!);
      for (const p of answered) {
        expect(p.reply!).toBeGreaterThan(p.command);
        expect(p.latency).toBeGreaterThanOrEqual(0);
      }
      // Answered commands are a prefix: nothing later is answered before an earlier one.
      const firstOpen = pairs.findIndex((p) => p.reply === null);
      if (firstOpen >= 0) expect(pairs.slice(firstOpen).every((p) => p.reply === null)).toBe(true);
    },
  );
});

describe('clock alignment', () => {
  /** Frames between A and B with a true offset θ (B's clock reads true − θ): each recorded by its sender, then by its receiver after `delay`. */
  const exchange = fc.record({
    // Microseconds, as traces keep them.
    theta: fc.integer({ min: -100e6, max: 100e6 }).map((us) => us / 1e6),
    frames: fc.array(
      fc.record({ at: fc.integer({ min: 0, max: 10e6 }).map((us) => us / 1e6), delay: fc.integer({ min: 0, max: 50_000 }).map((us) => us / 1e6), aSends: fc.boolean() }),
      { minLength: 1, maxLength: 30 },
    ),
  });

  test.prop([exchange], { numRuns: runs })('the true offset lies within the stated error', ({ theta, frames }) => {
    const pairs = frames.map((f) => (f.aSends ? { a: f.at, b: f.at + f.delay - theta, aSends: true } : { a: f.at + f.delay, b: f.at - theta, aSends: false }));
    const bounds = offsetBounds(pairs);
    const est = estimateOffset(bounds);
    expect(est.inconsistent).toBe(false);
    const both = frames.some((f) => f.aSends) && frames.some((f) => !f.aSends);
    if (both) {
      expect(est.error).not.toBeNull();
      expect(Math.abs(est.offset - theta)).toBeLessThanOrEqual(est.error! + 1e-9);
      // No wider than the fastest round trip allows.
      expect(est.error!).toBeLessThanOrEqual(0.05 + 1e-9);
    } else {
      expect(est.error).toBeNull();
      if (frames.every((f) => f.aSends)) expect(est.offset).toBeGreaterThanOrEqual(bounds.lower);
      else expect(est.offset).toBeLessThanOrEqual(bounds.upper);
    }
  });

  const header = (ms: number): TraceHeader => ({ type: 'header', version: 1, tool: 'stapflow', started: new Date(ms).toISOString() });

  test.prop([fc.integer({ min: -5000, max: 5000 }), fc.array(fc.double({ min: 0, max: 0.01, noNaN: true }), { minLength: 8, maxLength: 8 }), fc.boolean()], { numRuns: runs })(
    'merging a host and a guest trace of one session (nonce or content) aligns them within the stated error',
    (skewMs, delays, withNonce) => {
      // The guest's header is `skewMs` off; each frame takes delays[k] to arrive.
      const nonce = withNonce ? ' nonce=abc' : '';
      const script: [TraceFrameEvent['direction'], string, TraceFrameEvent['frame']][] = [
        ['host->guest', `stap 4.8${nonce}`, 'command'],
        ['guest->host', `stapsh 4.8 x 6${nonce}`, 'reply'],
        ['host->guest', 'option data', 'command'],
        ['guest->host', 'OK', 'reply'],
        ['host->guest', 'run ./m.ko', 'command'],
        ['guest->host', 'OK', 'reply'],
        ['guest->host', 'data stdout 1', 'data'],
        ['host->guest', 'quit', 'command'],
      ];
      const host: TraceEvent[] = [];
      const guest: TraceEvent[] = [];
      let now = 1;
      script.forEach(([direction, summary, frame], k) => {
        const e = { session: 'x', kind: 'frame', direction, frame, summary, bytes: summary.length + 1, ...(frame === 'command' ? { command: summary.split(' ')[0] } : {}) } as const;
        const send = now;
        const recv = now + delays[k]!;
        now = recv + 0.001;
        host.push({ ...e, actor: 'host', t: direction === 'host->guest' ? send : recv } as TraceEvent);
        // The guest's trace started at skewMs on the host's clock, but its header says 0.
        guest.push({ ...e, session: 'y', actor: 'guest', t: (direction === 'host->guest' ? recv : send) - skewMs / 1000 } as TraceEvent);
      });
      const merged = mergeTraces([
        { name: 'h', header: header(0), events: host },
        { name: 'g', header: header(0), events: guest },
      ]);
      const g = merged.members.find((m) => m.actor === 'guest')!;
      expect(g.by).toBe(withNonce ? 'nonce' : 'content');
      expect(g.error).not.toBeNull();
      expect(Math.abs(g.offset - skewMs / 1000)).toBeLessThanOrEqual(g.error! + 1e-9);
      expect(new Set(merged.events.map((e) => e.session))).toEqual(new Set(['x']));
      // Every frame numbered the same on both sides.
      const seqs = (a: string) => merged.events.flatMap((e) => (e.kind === 'frame' && e.actor === a ? [`${e.direction} ${e.seq} ${e.summary}`] : []));
      expect(seqs('guest')).toEqual(seqs('host'));
    },
  );

  it('numbers data bursts by the frames they cover, and keeps sessions apart by order when content repeats', () => {
    const f = (t: number, session: string, frames?: number): TraceEvent => ({ t, session, actor: 'host', kind: 'frame', direction: 'guest->host', frame: 'data', stream: 'stdout', summary: 'd', bytes: 1, ...(frames ? { frames } : {}) });
    expect(numberFrames([f(0, 'a', 3), f(1, 'a'), f(2, 'b')]).map((e) => (e as TraceFrameEvent).seq)).toEqual([0, 3, 0]);
    const cmd = (t: number, session: string, actor: 'host' | 'guest'): TraceEvent => ({ t, session, actor, kind: 'frame', direction: 'host->guest', frame: 'command', command: 'stap', summary: 'stap 4.8', bytes: 9 });
    const merged = mergeTraces([
      { name: 'h', header: header(0), events: [cmd(0, 'h1', 'host'), cmd(5, 'h2', 'host')] },
      { name: 'g', header: header(0), events: [cmd(0.001, 'g1', 'guest'), cmd(5.001, 'g2', 'guest')] },
    ]);
    expect(merged.members.map((m) => `${m.session}→${m.merged}`)).toEqual(['h1→h1', 'g1→h1', 'h2→h2', 'g2→h2']);
  });
});

/** The JSONL file sink: size-capped rotation under a writer far over the cap. */
// @ts-nocheck

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTrace, type TraceEvent } from '../../trace/format.js';
import { createTrace, traceSink } from '../../trace/recorder.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-trace-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const frame = (i: number): TraceEvent => ({
  t: i / 1000,
  session: 's1',
  actor: 'guest',
  kind: 'frame',
  direction: 'guest->host',
  frame: 'data',
  stream: 'stdout',
  size: 7,
  summary: 'data stdout 7',
  bytes: 21,
  preview: `tick ${i}\\n`,
});

describe('traceSink', () => {
  it('writes a buffered event within flushMs, without waiting for the buffer to fill or the sink to close', async () => {
    const path = join(dir, 'live.jsonl');
    const sink = traceSink(path, { flushMs: 50 });
    const lines = () => readFileSync(path, 'utf8').split('\n').filter(Boolean).length;
    // The header alone is buffered too until the first flush.
    sink.write(frame(1));
    expect(lines()).toBe(0);
    const t0 = Date.now();
    while (lines() < 2) {
      if (Date.now() - t0 > 5_000) throw new Error('the event never reached the file');
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(parseTrace(readFileSync(path, 'utf8')).events).toEqual([frame(1)]);
    sink.close();
  });

  it("writes a session's end at once: a transport eof or error, a machine that stopped", () => {
    const path = join(dir, 'ends.jsonl');
    const sink = traceSink(path, { flushMs: 60_000 });
    const count = () => parseTrace(readFileSync(path, 'utf8')).events.length;
    sink.write(frame(1));
    expect(count()).toBe(0);
    sink.write({ t: 0.002, session: 's1', actor: 'host', kind: 'transport', what: 'fault', message: 'a fault is not an end' });
    expect(count()).toBe(0);
    sink.write({ t: 0.003, session: 's1', actor: 'host', kind: 'transport', what: 'eof', direction: 'guest->host' });
    expect(count()).toBe(3);
    sink.write(frame(4));
    expect(count()).toBe(3);
    sink.write({ t: 0.005, session: 's1', actor: 'host', kind: 'state', machine: 'hostSession', from: 'streaming', to: 'done', status: 'done' });
    expect(count()).toBe(5);
    sink.close();
  });

  it('keeps every file under maxBytes and at most `keep` old files', () => {
    const path = join(dir, 'trace.jsonl');
    const maxBytes = 8192;
    const sink = traceSink(path, { maxBytes, keep: 3 });
    const n = 5000; // ~ 700 KB of lines: ~ 90 times the cap
    for (let i = 0; i < n; i++) sink.write(frame(i));
    sink.close();
    sink.close(); // idempotent
    expect(readdirSync(dir).sort()).toEqual(['trace.jsonl', 'trace.jsonl.1', 'trace.jsonl.2', 'trace.jsonl.3']);
    expect(sink.rotations).toBeGreaterThan(50);
    expect(sink.dropped).toBe(0);
    let last = -1;
    for (const name of ['trace.jsonl.3', 'trace.jsonl.2', 'trace.jsonl.1', 'trace.jsonl']) {
      const file = join(dir, name);
      expect(statSync(file).size).toBeLessThanOrEqual(maxBytes);
      const parsed = parseTrace(readFileSync(file, 'utf8'));
      // Each file stands alone: a header first, whole lines only.
      expect(parsed.header?.tool).toBe('stapflow');
      expect(parsed.errors).toEqual([]);
      expect(readFileSync(file, 'utf8').startsWith('{"type":"header"')).toBe(true);
      // In order across the set, newest last, with no gaps (the oldest ones were deleted).
      for (const e of parsed.events) {
        if (last < 0) last = Math.round(e.t * 1000) - 1;
        expect(e.t).toBeCloseTo((last + 1) / 1000, 9);
        last++;
      }
    }
    expect(last).toBe(n - 1);
  });

  it('writes nothing but the header before the first event, and flushes on close', () => {
    const path = join(dir, 't.jsonl');
    const sink = traceSink(path);
    sink.write(frame(0));
    expect(readFileSync(path, 'utf8')).toBe(''); // buffered
    sink.close();
    const parsed = parseTrace(readFileSync(path, 'utf8'));
    expect(parsed.events).toEqual([frame(0)]);
    sink.write(frame(1));
    expect(sink.dropped).toBe(1);
  });

  it('with keep 0 keeps only the current file; refuses silly caps', () => {
    const path = join(dir, 'k.jsonl');
    const sink = traceSink(path, { maxBytes: 4096, keep: 0 });
    for (let i = 0; i < 1000; i++) sink.write(frame(i));
    sink.close();
    expect(readdirSync(dir)).toEqual(['k.jsonl']);
    expect(existsSync(`${path}.1`)).toBe(false);
    expect(() => traceSink(join(dir, 'x'), { maxBytes: 10 })).toThrow(RangeError);
  });

  it('subscribes to a live trace and closes when it completes', () => {
    const path = join(dir, 'live.jsonl');
    const trace = createTrace();
    const sink = traceSink(path, { header: trace.header });
    trace.events$.subscribe(sink);
    const { onWire } = trace.recorders('s1', 'host');
    onWire('host->guest', new TextEncoder().encode('stap 4.8\noption data\n'));
    trace.close();
    const parsed = parseTrace(readFileSync(path, 'utf8'));
    expect(parsed.header).toEqual(trace.header);
    expect(parsed.events.map((e) => (e.kind === 'frame' ? e.summary : ''))).toEqual(['stap 4.8', 'option data']);
  });
});

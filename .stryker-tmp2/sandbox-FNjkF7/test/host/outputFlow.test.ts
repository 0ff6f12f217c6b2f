/**
 * The host's output flow (host/output.ts): consumers with demand, a tap
 * without, the source paused exactly while a consumer holds the high-water
 * mark or more. Pure logic: a property over any interleaving of pushes,
 * reads, consumers leaving and the end.
 */
// @ts-nocheck


import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { OutputFlow, OutputGate, type OutputChunk } from '../../host/output.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);

/** A source that records what it was asked. */
function recordingSource() {
  const log: ('pause' | 'resume')[] = [];
  return { log, pause: () => log.push('pause'), resume: () => log.push('resume') };
}

const chunk = (stream: 'stdout' | 'stderr', n: number, fill = 0): OutputChunk => ({ stream, bytes: new Uint8Array(n).fill(fill) });

type Step =
  | { readonly op: 'push'; readonly stream: 'stdout' | 'stderr'; readonly size: number }
  | { readonly op: 'read'; readonly consumer: number }
  | { readonly op: 'leave'; readonly consumer: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('push' as const), stream: fc.constantFrom('stdout' as const, 'stderr' as const), size: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('read' as const), consumer: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ op: fc.constant('leave' as const), consumer: fc.integer({ min: 0, max: 2 }) }),
);

describe('OutputFlow', () => {
  test.prop([fc.array(step, { maxLength: 120 }), fc.integer({ min: 1, max: 100 })], { numRuns: runs })(
    'every consumer gets its chunks in order, and the source is paused exactly while one holds the mark',
    async (steps, hwm) => {
      const source = recordingSource();
      const flow = new OutputFlow(source, hwm);
      // Consumer 0: everything; 1: stdout only; 2: stderr only.
      const wants = [() => true, (c: OutputChunk) => c.stream === 'stdout', (c: OutputChunk) => c.stream === 'stderr'];
      const consumers = wants.map((w) => flow.consumer(w));
      const expected: OutputChunk[][] = [[], [], []];
      const got: OutputChunk[][] = [[], [], []];
      const held = [0, 0, 0];
      const left = [false, false, false];
      let serial = 0;
      for (const s of steps) {
        if (s.op === 'push') {
          const c = chunk(s.stream, s.size, serial++ & 0xff);
          flow.push(c);
          for (let i = 0; i < 3; i++) {
            if (!left[i] && wants[i]!(c)) {
              expected[i]!.push(c);
              held[i]! += c.bytes.length;
            }
          }
        } else if (s.op === 'read') {
          const i = s.consumer;
          if (left[i] || held[i] === 0) continue;
          const r = await consumers[i]!.next();
          expect(r.done).toBe(false);
          got[i]!.push(r.value as OutputChunk);
          held[i]! -= (r.value as OutputChunk).bytes.length;
        } else {
          const i = s.consumer;
          if (left[i]) continue;
          await consumers[i]!.return!();
          left[i] = true;
          held[i] = 0;
        }
        const full = held.some((h) => h >= hwm);
        expect(flow.paused).toBe(full);
        expect(flow.backlog).toBe(Math.max(...held));
        // Pause and resume alternate, starting with pause: never asked twice in a row.
        source.log.forEach((what, k) => expect(what).toBe(k % 2 === 0 ? 'pause' : 'resume'));
      }
      flow.end();
      expect(flow.paused).toBe(false);
      for (let i = 0; i < 3; i++) {
        if (left[i]) continue;
        for (;;) {
          const r = await consumers[i]!.next();
          if (r.done) break;
          got[i]!.push(r.value);
        }
        expect(got[i]).toEqual(expected[i]);
      }
    },
  );

  it('the tap sees every chunk and never pauses the source; with no consumer nothing is held', () => {
    const source = recordingSource();
    const flow = new OutputFlow(source, 10);
    const tapped: number[] = [];
    flow.tap$.subscribe((c) => tapped.push(c.bytes.length));
    for (let i = 1; i <= 5; i++) flow.push(chunk('stdout', 100 * i));
    expect(tapped).toEqual([100, 200, 300, 400, 500]);
    expect(source.log).toEqual([]);
    expect(flow.backlog).toBe(0);
  });

  it('a consumer asked for after the end gets the end at once', async () => {
    const flow = new OutputFlow(recordingSource(), 10);
    flow.push(chunk('stdout', 3));
    flow.end();
    expect(await flow.consumer().next()).toEqual({ value: undefined, done: true });
  });

  it('a Readable per stream: backpressure until read, its bytes exact, destroy lets the flow go', async () => {
    const source = recordingSource();
    const flow = new OutputFlow(source, 1000);
    const out = flow.readable('stdout');
    // The Readable pulls a little ahead into its own buffer; the flow still pauses once the mark is held.
    for (let i = 0; i < 100; i++) flow.push(chunk('stdout', 100, i));
    await new Promise((r) => setImmediate(r));
    expect(flow.paused).toBe(true);
    expect(source.log).toEqual(['pause']);
    const received: Buffer[] = [];
    out.on('data', (b: Buffer) => received.push(b));
    await new Promise((r) => setImmediate(r));
    expect(flow.paused).toBe(false);
    flow.end();
    await new Promise((r) => out.on('end', r));
    const all = Buffer.concat(received);
    expect(all.length).toBe(10_000);
    for (let i = 0; i < 100; i++) expect(all[i * 100]).toBe(i);
    // A destroyed stream no longer holds the flow.
    const flow2 = new OutputFlow(recordingSource(), 10);
    const out2 = flow2.readable('stderr');
    flow2.push(chunk('stderr', 50));
    await new Promise((r) => setImmediate(r));
    out2.destroy();
    await new Promise((r) => setImmediate(r));
    flow2.push(chunk('stderr', 50));
    expect(flow2.paused).toBe(false);
  });

  it('a gate opens and closes with the flow, for producers that can wait', async () => {
    const gate = new OutputGate();
    const flow = new OutputFlow(gate, 10);
    const c = flow.consumer();
    flow.push(chunk('stdout', 20));
    let opened = false;
    void gate.open().then(() => (opened = true));
    await Promise.resolve();
    expect(opened).toBe(false);
    await c.next();
    await Promise.resolve();
    expect(opened).toBe(true);
  });
});

// @ts-nocheck
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  applyToStream,
  DirectionPipeline,
  mulberry32,
  parseToxic,
  parseToxicsJson,
  planConnection,
  ToxicSpecError,
  type Toxic,
} from '../../proxy/toxics.js';

const concat = (parts: readonly Uint8Array[]) => Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
const chunksArb = fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 20 });
const pipeline = (specs: string[], seed: number, dir: 'upstream' | 'downstream' = 'upstream') => planConnection(specs.map(parseToxic), seed, 0)[dir];

describe('parseToxic', () => {
  it('parses each toxic with its attributes, aliases and defaults', () => {
    expect(parseToxic('latency:both:ms=100,jitter=10')).toEqual({ spec: 'latency:both:ms=100,jitter=10', name: 'latency', direction: 'both', toxicity: 1, ms: 100, jitter: 10 });
    expect(parseToxic('latency:upstream:latency=5')).toMatchObject({ name: 'latency', ms: 5, jitter: 0 });
    expect(parseToxic('bandwidth:downstream:rate=64')).toMatchObject({ name: 'bandwidth', direction: 'downstream', rate: 64 });
    expect(parseToxic('slicer:both:avg=10,var=3,delay_us=50')).toMatchObject({ name: 'slicer', avg: 10, var: 3, delayUs: 50 });
    expect(parseToxic('slicer:both:average_size=1')).toMatchObject({ avg: 1, var: 0, delayUs: 0 });
    expect(parseToxic('limit_data:downstream:bytes=200')).toMatchObject({ name: 'limit_data', bytes: 200 });
    expect(parseToxic('timeout:upstream:ms=0')).toMatchObject({ name: 'timeout', ms: 0 });
    expect(parseToxic('timeout:upstream')).toMatchObject({ name: 'timeout', ms: 0 });
    expect(parseToxic('reset_peer:both:timeout=500')).toMatchObject({ name: 'reset_peer', ms: 500 });
    expect(parseToxic('slow_close:downstream:delay=20')).toMatchObject({ name: 'slow_close', ms: 20 });
    expect(parseToxic('down:both:toxicity=0.25')).toMatchObject({ name: 'down', toxicity: 0.25 });
  });

  it.each([
    ['nope:both', "unknown toxic 'nope'"],
    ['latency', 'expected NAME:DIRECTION'],
    ['latency:sideways:ms=1', "direction must be upstream, downstream or both, not 'sideways'"],
    ['latency:both', 'latency needs ms='],
    ['latency:both:ms=-1', "ms must be a non-negative number, not '-1'"],
    ['latency:both:ms=x', "ms must be a non-negative number, not 'x'"],
    ['latency:both:ms', "expected key=value, not 'ms'"],
    ['latency:both:ms=1,bogus=2', "unknown attribute 'bogus' for latency"],
    ['latency:both:ms=1,ms=2', 'attribute ms given twice'],
    ['latency:both:ms=1,toxicity=2', "toxicity must be a number in 0..1, not '2'"],
    ['bandwidth:both:rate=0', 'rate must be above 0'],
    ['slicer:both:avg=0', 'avg must be at least 1'],
    ['slicer:both:avg=2,var=2', 'var (2) must be below avg (2)'],
    ['limit_data:both:bytes=1.5', 'bytes must be an integer'],
    ['down:both:ms=1', 'it takes none'],
  ])('%s is refused: %s', (spec, reason) => {
    expect(() => parseToxic(spec)).toThrow(ToxicSpecError);
    expect(() => parseToxic(spec)).toThrow(`bad toxic '${spec}': `);
    expect(() => parseToxic(spec)).toThrow(reason);
  });

  it('accepts a JSON file of toxics (and Toxiproxy field names), refusing bad entries by index', () => {
    const toxics = parseToxicsJson(
      JSON.stringify([
        { name: 'latency', direction: 'upstream', attributes: { ms: 5 } },
        { type: 'limit_data', name: 'my limit', stream: 'downstream', toxicity: 0.5, attributes: { bytes: 9 } },
        { name: 'down', direction: 'both' },
      ]),
      'f.json',
    );
    expect(toxics.map((t) => [t.name, t.direction, t.toxicity])).toEqual([
      ['latency', 'upstream', 1],
      ['limit_data', 'downstream', 0.5],
      ['down', 'both', 1],
    ]);
    expect(() => parseToxicsJson('{}', 'f.json')).toThrow('f.json: expected a JSON array');
    expect(() => parseToxicsJson('[{"name":"latency","direction":"up"}]', 'f.json')).toThrow("bad toxic 'f.json[0] latency:up'");
    expect(() => parseToxicsJson('[1]', 'f.json')).toThrow("bad toxic 'f.json[0]': expected an object");
  });
});

describe('toxics on a byte stream', () => {
  test.prop([chunksArb, fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 39 }), fc.nat()])(
    'slicer keeps every byte, in order, in pieces of avg±var bytes, for any seed',
    (chunks, avg, v, seed) => {
      const variation = Math.min(v, avg - 1);
      const { pieces } = applyToStream(pipeline([`slicer:both:avg=${avg},var=${variation},delay_us=100`], seed), chunks);
      expect(concat(pieces.map((p) => p.bytes)).equals(concat(chunks))).toBe(true);
      for (const p of pieces) {
        expect(p.bytes.length).toBeGreaterThanOrEqual(1);
        expect(p.bytes.length).toBeLessThanOrEqual(avg + variation);
      }
      // Only the last piece of a chunk may be shorter than avg - var.
      const last = new Map(pieces.map((p, i) => [p.chunk, i]));
      pieces.forEach((p, i) => {
        if (last.get(p.chunk) !== i) expect(p.bytes.length).toBeGreaterThanOrEqual(avg - variation);
      });
    },
  );

  test.prop([chunksArb, fc.integer({ min: 0, max: 2000 }), fc.nat()])('limit_data forwards exactly min(N, total) bytes, the stream prefix', (chunks, n, seed) => {
    const { pieces, limitReached, dropped } = applyToStream(pipeline([`limit_data:upstream:bytes=${n}`, 'slicer:upstream:avg=7,var=3'], seed), chunks);
    const all = concat(chunks);
    const out = concat(pieces.map((p) => p.bytes));
    expect(out.equals(all.subarray(0, Math.min(n, all.length)))).toBe(true);
    expect(dropped).toBe(all.length - out.length);
    // Reached exactly when a chunk took the count to N (an empty stream never reaches it).
    let total = 0;
    const reached = n > 0 ? chunks.some((c) => c.length > 0 && (total += c.length) >= n) : chunks.length > 0;
    expect(limitReached).toBe(reached);
  });

  it('limit_data=0 is reached at the start', () => {
    expect(pipeline(['limit_data:upstream:bytes=0'], 1).limitReachedAtStart).toBe(true);
    expect(pipeline(['limit_data:upstream:bytes=1'], 1).limitReachedAtStart).toBe(false);
  });

  test.prop([chunksArb])('timeout forwards nothing in its direction, the other direction is untouched', (chunks) => {
    const plan = planConnection([parseToxic('timeout:upstream:ms=0')], 3, 0);
    const up = applyToStream(plan.upstream, chunks);
    expect(up.pieces).toEqual([]);
    expect(up.dropped).toBe(concat(chunks).length);
    expect(concat(applyToStream(plan.downstream, chunks).pieces.map((p) => p.bytes)).equals(concat(chunks))).toBe(true);
    expect(plan.closeAfterMs).toBeNull();
    expect(planConnection([parseToxic('timeout:upstream:ms=40')], 3, 0).closeAfterMs).toBe(40);
  });

  test.prop([chunksArb, fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 }), fc.nat()])('latency delays each chunk by ms±jitter, never below 0', (chunks, ms, jitter, seed) => {
    const p = pipeline([`latency:downstream:ms=${ms},jitter=${jitter}`], seed, 'downstream');
    for (const c of chunks) {
      const plan = p.push(c);
      expect(plan.latencyMs).toBeGreaterThanOrEqual(Math.max(0, ms - jitter));
      expect(plan.latencyMs).toBeLessThanOrEqual(ms + jitter);
      expect(concat(plan.pieces.map((x) => x.bytes)).equals(Buffer.from(c))).toBe(true);
    }
  });

  it('bandwidth delays each piece by its transmission time', () => {
    const p = pipeline(['bandwidth:upstream:rate=1'], 0);
    const plan = p.push(new Uint8Array(2048));
    expect(plan.pieces).toHaveLength(1);
    expect(plan.pieces[0]!.delayMs).toBeCloseTo(2000, 6);
    const sliced = pipeline(['slicer:upstream:avg=512', 'bandwidth:upstream:rate=1'], 0).push(new Uint8Array(1024));
    expect(sliced.pieces.map((x) => x.delayMs)).toEqual([500, 500]);
  });

  it('toxics act only in their direction; connection-level effects are planned', () => {
    const plan = planConnection(
      ['slicer:upstream:avg=1', 'reset_peer:both:ms=30', 'reset_peer:both:ms=10', 'slow_close:downstream:ms=5', 'slow_close:both:ms=2'].map(parseToxic),
      9,
      0,
    );
    expect(applyToStream(plan.upstream, [new Uint8Array(3)]).pieces).toHaveLength(3);
    expect(applyToStream(plan.downstream, [new Uint8Array(3)]).pieces).toHaveLength(1);
    expect(plan.resetAfterMs).toBe(10);
    expect(plan.slowCloseMs).toEqual({ upstream: 2, downstream: 7 });
    expect(plan.down).toBe(false);
    expect(planConnection([parseToxic('down:both')], 9, 0).down).toBe(true);
  });

  test.prop([fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { maxLength: 10 }), fc.nat(), fc.nat({ max: 50 })])(
    'deterministic for a seed: the same toxics, pieces and delays',
    (chunks, seed, index) => {
      const specs: Toxic[] = ['slicer:both:avg=8,var=5,delay_us=10', 'latency:both:ms=20,jitter=15', 'limit_data:downstream:bytes=500,toxicity=0.5', 'bandwidth:upstream:rate=3,toxicity=0.5'].map(parseToxic);
      const run = () => {
        const plan = planConnection(specs, seed, index);
        const shape = (d: DirectionPipeline) => chunks.map((c) => d.push(c)).map((x) => ({ l: x.latencyMs, p: x.pieces.map((y) => [y.bytes.length, y.delayMs]), r: x.limitReached }));
        return { active: plan.active.map((t) => t.spec), up: shape(plan.upstream), down: shape(plan.downstream) };
      };
      expect(run()).toEqual(run());
    },
  );

  it('toxicity decides per connection, deterministically, with about the right frequency', () => {
    const t = [parseToxic('down:both:toxicity=0.3')];
    const downs = Array.from({ length: 2000 }, (_, i) => planConnection(t, 42, i).down);
    expect(downs).toEqual(Array.from({ length: 2000 }, (_, i) => planConnection(t, 42, i).down));
    const rate = downs.filter(Boolean).length / downs.length;
    expect(rate).toBeGreaterThan(0.25);
    expect(rate).toBeLessThan(0.35);
    expect(Array.from({ length: 50 }, (_, i) => planConnection([parseToxic('down:both:toxicity=0')], 1, i).down).some(Boolean)).toBe(false);
    // Different seeds give different sequences.
    expect(Array.from({ length: 50 }, (_, i) => planConnection(t, 43, i).down)).not.toEqual(downs.slice(0, 50));
  });

  it('mulberry32 is a deterministic uniform PRNG in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });
});

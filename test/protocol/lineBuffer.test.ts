/**
 * LineBuffer against a flat byte-array model: any sequence of pushes, newline
 * searches, takes, chunk takes, drops and `own()` gives the same bytes and
 * offsets as slicing one array. The decoders' own tests reach it only through
 * lines and payloads; this pins the buffer itself (views vs copies across
 * chunk boundaries, the resumed newline search, compaction after many chunks).
 * The seed is printed on failure (fast-check's report, test/support/fcGlobal.ts).
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { LineBuffer, MAX_LINE_BYTES } from '../../protocol/lineBuffer.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);

type Op =
  | { readonly op: 'push'; readonly bytes: number[] }
  | { readonly op: 'find' }
  | { readonly op: 'take'; readonly n: number; readonly skip: number }
  | { readonly op: 'chunk'; readonly max: number }
  | { readonly op: 'drop'; readonly n: number }
  | { readonly op: 'own' };

// Small alphabet so newlines are frequent; short chunks so lines span many of them.
const byte = fc.constantFrom(0x0a, 0x61, 0x62, 0x00);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('push' as const), bytes: fc.array(byte, { maxLength: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('find' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('take' as const), n: fc.nat(12), skip: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('chunk' as const), max: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), n: fc.nat(8) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('own' as const) }) },
);

function check(ops: readonly Op[]): void {
  const b = new LineBuffer();
  let model: number[] = [];
  for (const o of ops) {
    switch (o.op) {
      case 'push': {
        const chunk = Uint8Array.from(o.bytes);
        b.push(chunk);
        model.push(...o.bytes);
        break;
      }
      case 'find':
        expect(b.findNewline()).toBe(model.indexOf(0x0a));
        break;
      case 'take': {
        // Callers never take past what is held.
        const n = Math.min(o.n, model.length);
        const skip = Math.min(o.skip, model.length - n);
        expect([...b.take(n, skip)]).toEqual(model.slice(0, n));
        model = model.slice(n + skip);
        break;
      }
      case 'chunk': {
        const got = [...b.takeChunk(o.max)];
        if (model.length > 0) expect(got.length).toBeGreaterThan(0);
        expect(got.length).toBeLessThanOrEqual(o.max);
        expect(got).toEqual(model.slice(0, got.length));
        model = model.slice(got.length);
        break;
      }
      case 'drop': {
        const n = Math.min(o.n, model.length);
        b.drop(n);
        model = model.slice(n);
        break;
      }
      case 'own':
        b.own();
        break;
    }
    expect(b.bufferedBytes).toBe(model.length);
  }
  expect(b.findNewline()).toBe(model.indexOf(0x0a));
  expect([...b.take(model.length, 0)]).toEqual(model);
  expect(b.bufferedBytes).toBe(0);
}

describe('LineBuffer', () => {
  test.prop([fc.array(opArb, { maxLength: 60 })], { numRuns: runs })('equals a flat byte array under any operations', (ops) => check(ops));

  test.prop([fc.array(fc.array(byte, { minLength: 1, maxLength: 3 }), { minLength: 70, maxLength: 200 }), fc.nat(5)], { numRuns: Math.ceil(runs / 4) })(
    'stays exact across the compaction of many consumed chunks',
    (chunks, step) => {
      // Many one-to-three-byte chunks consumed a few bytes at a time: `first` passes 64 and the chunk list is compacted.
      const ops: Op[] = chunks.map((bytes) => ({ op: 'push', bytes }));
      for (let i = 0; i < chunks.length; i++) ops.push({ op: 'take', n: step + 1, skip: 0 }, { op: 'find' });
      check(ops);
    },
  );

  it('takes a view of the pushed chunk when the bytes lie in one, a copy across chunks', () => {
    const b = new LineBuffer();
    const c1 = Uint8Array.from([1, 2, 3]);
    const c2 = Uint8Array.from([4, 5]);
    b.push(c1);
    b.push(new Uint8Array(0));
    b.push(c2);
    expect(b.bufferedBytes).toBe(5);
    const view = b.take(2, 0);
    expect(view.buffer).toBe(c1.buffer);
    const copy = b.take(2, 0);
    expect([...copy]).toEqual([3, 4]);
    expect(copy.buffer).not.toBe(c1.buffer);
    expect(copy.buffer).not.toBe(c2.buffer);
    // A whole untouched chunk comes back as itself.
    const rest = new LineBuffer();
    rest.push(c2);
    expect(rest.takeChunk(10)).toBe(c2);
    expect(rest.takeChunk(10).length).toBe(0);
  });

  it('own() copies what is held, so the caller may reuse its chunks', () => {
    const b = new LineBuffer();
    const c1 = Uint8Array.from([0x61, 0x62, 0x63]);
    const c2 = Uint8Array.from([0x64, 0x0a]);
    b.push(c1);
    b.push(c2);
    b.drop(1);
    b.own();
    c1.fill(0);
    c2.fill(0);
    expect(b.findNewline()).toBe(3);
    expect([...b.take(4, 0)]).toEqual([0x62, 0x63, 0x64, 0x0a]);
    // own() on an empty buffer is a no-op.
    b.own();
    expect(b.bufferedBytes).toBe(0);
  });

  it('a newline search after own() starts afresh (own() renumbers the chunks)', () => {
    const b = new LineBuffer();
    b.push(Uint8Array.from([0x61, 0x62]));
    b.push(Uint8Array.from([0x63, 0x64]));
    b.take(2, 0);
    expect(b.findNewline()).toBe(-1);
    b.own();
    b.push(Uint8Array.from([0x0a]));
    expect(b.findNewline()).toBe(2);
    // Taking exactly a whole chunk is a view of it, too.
    const c = Uint8Array.from([1, 2, 3]);
    const w = new LineBuffer();
    w.push(c);
    expect(w.take(3, 0).buffer).toBe(c.buffer);
  });

  it('bounds a line at 64 KiB', () => {
    expect(MAX_LINE_BYTES).toBe(65536);
  });
});

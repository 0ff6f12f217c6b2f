// @ts-nocheck
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { createMemoryPair, type MemoryDirection } from '../../transports/memory.js';
import { collect, readBytes, settlesWithin, sleep, within } from './helpers.js';
import { eventually } from '../support/procs.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 100);

const chunking = fc.oneof(
  fc.integer({ min: 1, max: 50 }),
  fc.record({ seed: fc.integer(), max: fc.integer({ min: 1, max: 40 }) }),
  fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 10 }).map((sizes) => (i: number) => sizes[i % sizes.length]!),
);
const writes = fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 });
const concat = (parts: Uint8Array[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));

/** Write everything from `a` then close its write side; collect what `b` gets. */
async function pump(spec: MemoryDirection, parts: Uint8Array[]) {
  const [a, b] = createMemoryPair({ aToB: spec });
  const got = collect(b.incoming$, 5000);
  for (const p of parts) await a.write(p).catch(() => undefined);
  await a.closeWrite();
  return got;
}

describe('memory pair', () => {
  it('carries bytes both ways, EOF on closeWrite, names and capabilities', async () => {
    const [a, b] = createMemoryPair({ names: ['host', 'guest'] });
    expect([a.name, b.name]).toEqual(['host', 'guest']);
    expect(a.capabilities).toEqual({ eofVisible: true, separateStderr: false, exitStatus: false });
    const atB = collect(b.incoming$);
    await a.write(Buffer.from('stap 4.8\n'));
    await a.closeWrite();
    expect(await atB).toMatchObject({ end: 'complete', completions: 1 });
    const atA = readBytes(a.incoming$, 6);
    await b.write(Buffer.from('stapsh'));
    expect((await atA).toString()).toBe('stapsh');
    await expect(a.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('copies on write: the caller may reuse its buffer', async () => {
    const [a, b] = createMemoryPair();
    const got = readBytes(b.incoming$, 3);
    const buf = Buffer.from('abc');
    await a.write(buf);
    buf.fill(0);
    expect((await got).toString()).toBe('abc');
  });

  test.prop([writes, chunking], { numRuns: runs })('any chunking yields the same bytes', async (parts, c) => {
    const r = await pump({ chunking: c }, parts);
    expect(r.end).toBe('complete');
    expect(r.bytes).toEqual(concat(parts));
  });

  test.prop([writes, fc.integer({ min: 1, max: 20 })], { numRuns: runs })('fixed chunking never exceeds the size', async (parts, size) => {
    const [a, b] = createMemoryPair({ aToB: { chunking: size } });
    const sizes: number[] = [];
    const done = new Promise<void>((resolve) => b.incoming$.subscribe({ next: (c) => sizes.push(c.length), complete: resolve }));
    for (const p of parts) await a.write(p);
    await a.closeWrite();
    await within(done, 2000, 'eof');
    expect(sizes.every((s) => s >= 1 && s <= size)).toBe(true);
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(concat(parts).length);
  });

  test.prop([writes, fc.nat({ max: 400 }), fc.constantFrom('close' as const, 'reset' as const, 'half-close' as const), fc.option(chunking, { nil: undefined })], {
    numRuns: runs,
  })('a cut after N delivers exactly min(N, total) bytes', async (parts, n, mode, c) => {
    const total = concat(parts);
    const r = await pump({ cut: { bytes: n, mode }, ...(c === undefined ? {} : { chunking: c }) }, parts);
    expect(r.bytes).toEqual(total.subarray(0, Math.min(n, total.length)));
    if (n <= total.length) {
      expect(r.end).toBe(mode === 'reset' ? 'error' : 'complete');
      if (mode === 'reset') expect(r.error).toMatchObject({ code: 'ECONNRESET' });
    } else {
      expect(r.end).toBe('complete'); // the writer's own EOF
    }
  });

  test.prop([fc.uint8Array({ maxLength: 40 }), writes], { numRuns: runs })('stale bytes come first', async (stale, parts) => {
    const r = await pump({ stale }, parts);
    expect(r.bytes).toEqual(Buffer.concat([Buffer.from(stale), concat(parts)]));
  });

  it('cut flavours: close ends both directions, reset breaks both, half-close only one', async () => {
    {
      const [a, b] = createMemoryPair({ aToB: { cut: { bytes: 3, mode: 'close' } } });
      const atB = collect(b.incoming$);
      const atA = collect(a.incoming$);
      await a.write(Buffer.from('abcdef'));
      expect(await atB).toMatchObject({ end: 'complete' });
      expect((await atA).end).toBe('complete');
      await expect(a.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'EPIPE' });
      await expect(b.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'EPIPE' });
    }
    {
      const [a, b] = createMemoryPair({ aToB: { cut: { bytes: 3, mode: 'reset' } } });
      const atB = collect(b.incoming$);
      const atA = collect(a.incoming$);
      await a.write(Buffer.from('abcdef'));
      expect(await atB).toMatchObject({ end: 'error', error: { code: 'ECONNRESET' } });
      expect(await atA).toMatchObject({ end: 'error', error: { code: 'ECONNRESET' } });
      await expect(b.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'ECONNRESET' });
    }
    {
      const [a, b] = createMemoryPair({ aToB: { cut: { bytes: 3, mode: 'half-close' } } });
      const atB = collect(b.incoming$);
      await a.write(Buffer.from('abcdef'));
      expect((await atB).bytes.toString()).toBe('abc');
      await expect(a.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'EPIPE' });
      const atA = readBytes(a.incoming$, 5);
      await b.write(Buffer.from('still'));
      expect((await atA).toString()).toBe('still');
    }
  });

  it('stall: delivers N bytes, then nothing, not even EOF', async () => {
    const [a, b] = createMemoryPair({ aToB: { stallAfter: 4 } });
    const r = collect(b.incoming$, 5000);
    await a.write(Buffer.from('0123456789'));
    await a.closeWrite();
    expect(await settlesWithin(r, 100)).toBe(false);
    await b.close();
    expect(await r).toMatchObject({ end: 'complete', completions: 1 });
    expect((await r).bytes.toString()).toBe('0123');
  });

  it('reports each scripted fault as it takes effect (onFault)', async () => {
    const faults: unknown[] = [];
    const [a, b] = createMemoryPair({
      aToB: { stale: Buffer.from('old\n'), stallAfter: 6 },
      bToA: { cut: { bytes: 2, mode: 'reset' } },
      onFault: (f) => faults.push(f),
    });
    expect(faults).toEqual([{ direction: 'aToB', what: 'stale', bytes: 4 }]);
    const atB = collect(b.incoming$, 5000);
    const atA = collect(a.incoming$, 5000);
    await a.write(Buffer.from('0123456789'));
    await eventually(() => faults.length === 2, 2_000, 'the stall');
    expect(faults[1]).toEqual({ direction: 'aToB', what: 'stall', bytes: 6 });
    await b.write(Buffer.from('xyz')).catch(() => undefined);
    expect(await atA).toMatchObject({ end: 'error' });
    expect(faults[2]).toEqual({ direction: 'bToA', what: 'cut', bytes: 2, mode: 'reset' });
    expect(faults).toHaveLength(3);
    await atB;
  });

  it('no-EOF: closing one end is not seen by the other (virtio-serial)', async () => {
    const [a, b] = createMemoryPair({ aToB: { noEof: true } });
    expect(b.capabilities.eofVisible).toBe(false);
    expect(a.capabilities.eofVisible).toBe(true);
    const r = collect(b.incoming$, 5000);
    await a.write(Buffer.from('quit\n'));
    await a.close();
    expect(await settlesWithin(r, 100)).toBe(false);
    await b.close();
    expect((await r).bytes.toString()).toBe('quit\n');
  });

  it('delay: writes show up after delayMs, in order', async () => {
    const [a, b] = createMemoryPair({ aToB: { delayMs: 60 } });
    const seen: string[] = [];
    b.incoming$.subscribe((c) => seen.push(Buffer.from(c).toString()));
    const t0 = Date.now();
    await a.write(Buffer.from('one'));
    await a.write(Buffer.from('two'));
    await sleep(20);
    expect(seen).toEqual([]);
    await within(
      (async () => {
        while (seen.length < 2) await sleep(5);
      })(),
      2000,
      'delayed',
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55);
    expect(seen).toEqual(['one', 'two']);
  });

  it('nothing is lost before the first subscription; pause() holds, resume() releases', async () => {
    const [a, b] = createMemoryPair();
    await a.write(Buffer.from('early'));
    await sleep(10);
    const seen: string[] = [];
    b.pause();
    const sub = b.incoming$.subscribe((c) => seen.push(Buffer.from(c).toString()));
    await sleep(10);
    expect(seen).toEqual([]);
    b.resume();
    await sleep(0);
    expect(seen).toEqual(['early']);
    sub.unsubscribe();
  });

  it('backpressure: needsDrain above the high-water mark, drained() once read', async () => {
    const [a, b] = createMemoryPair({ aToB: { highWaterMark: 1000 } });
    const w1 = a.write(new Uint8Array(800));
    expect(a.needsDrain).toBe(false);
    const w2 = a.write(new Uint8Array(800));
    expect(a.needsDrain).toBe(true);
    expect(await settlesWithin(w2, 50)).toBe(false);
    const drained = a.drained();
    expect(await settlesWithin(drained, 50)).toBe(false);
    const got = readBytes(b.incoming$, 1600);
    await within(Promise.all([w1, w2, drained]), 1000, 'drained');
    expect(a.needsDrain).toBe(false);
    expect((await got).length).toBe(1600);
  });

  it('close(): idempotent, ends incoming$ once; the peer sees EOF and its writes fail with EPIPE', async () => {
    const [a, b] = createMemoryPair();
    const atA = collect(a.incoming$);
    const atB = collect(b.incoming$);
    await Promise.all([a.close(), a.close()]);
    expect(await atA).toMatchObject({ end: 'complete', completions: 1 });
    expect(await atB).toMatchObject({ end: 'complete', completions: 1 });
    await expect(b.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'EPIPE' });
    await expect(a.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'CLOSED' });
  });

  // Its speed is a benchmark's business (bench/run.mjs), not a test's.
  it('streams 256 MiB, every byte, under backpressure', async () => {
    const [a, b] = createMemoryPair();
    const chunk = new Uint8Array(64 * 1024).fill(1);
    const total = 256 * 1024 * 1024;
    let got = 0;
    const done = new Promise<void>((resolve) => b.incoming$.subscribe({ next: (c) => (got += c.length), complete: resolve }));
    for (let sent = 0; sent < total; sent += chunk.length) {
      const p = a.write(chunk);
      if (a.needsDrain) await p;
    }
    await a.closeWrite();
    await within(done, 120_000, '256 MiB');
    expect(got).toBe(total);
  }, 180_000);
});

// @ts-nocheck
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { concatBytes, latin1, utf8 } from '../../protocol/bytes.js';
import { prefixLines } from '../../host/runner.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);

describe('--remote-prefix lines', () => {
  it('prefixes whole lines, holding a partial one until its newline or the end', () => {
    const p = prefixLines(2);
    const out = [...p.push(utf8('a\nb')), ...p.push(utf8('c\n\nd')), ...p.end()].map(latin1);
    expect(out).toEqual(['2: a\n', '2: bc\n', '2: \n', '2: d']);
  });

  test.prop([fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 20 })], { numRuns: runs })(
    'removing the prefixes gives back the bytes, however they were chunked',
    (chunks) => {
      const p = prefixLines(7);
      const out = [...chunks.flatMap((c) => p.push(c)), ...p.end()];
      for (const line of out) expect(latin1(line.subarray(0, 3))).toBe('7: ');
      expect([...concatBytes(out.map((l) => l.subarray(3)))]).toEqual([...concatBytes(chunks)]);
    },
  );
});

/**
 * strverscmp against glibc's own answers (test/fixtures/strverscmp-glibc.json,
 * made by calling libc through python3 ctypes on Debian bookworm, glibc 2.36:
 *   import ctypes, json; libc = ctypes.CDLL('libc.so.6')
 *   sign = lambda a, b: (lambda r: (r > 0) - (r < 0))(libc.strverscmp(a.encode(), b.encode()))
 * for each pair), plus the manual's examples and order properties.
 */
// @ts-nocheck

import { fc, test } from '@fast-check/vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareRelease, isAtLeast, strverscmp } from '../../protocol/version.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);
const fixture = JSON.parse(readFileSync(resolve(import.meta.dirname, '../fixtures/strverscmp-glibc.json'), 'utf8')) as {
  pairs: [string, string, number][];
};
const sign = (n: number) => (n > 0 ? 1 : n < 0 ? -1 : 0);

describe('strverscmp', () => {
  it(`agrees with glibc on ${fixture.pairs.length} pairs`, () => {
    const wrong = fixture.pairs.filter(([a, b, s]) => sign(strverscmp(a, b)) !== s);
    expect(wrong).toEqual([]);
  });

  it("orders the man page's example sequence", () => {
    const order = ['000', '00', '01', '010', '09', '0', '1', '9', '10'];
    for (let i = 0; i + 1 < order.length; i++) {
      expect(strverscmp(order[i]!, order[i + 1]!), `${order[i]} < ${order[i + 1]}`).toBeLessThan(0);
    }
  });

  it("gives the glibc manual's examples (signs checked against libc)", () => {
    const cases: [string, string, number][] = [
      ['no digit', 'no digit', 0],
      ['item#99', 'item#100', -1],
      ['alpha1', 'alpha001', 1],
      ['part1_f012', 'part1_f01', 1],
      ['foo.009', 'foo.0', -1],
      ['jan9', 'jan10', -1],
    ];
    for (const [a, b, s] of cases) expect(sign(strverscmp(a, b)), `${a} vs ${b}`).toBe(s);
  });

  it('orders release strings the way the host gates on them', () => {
    const cases: [string, string, number][] = [
      ['2.10', '2.9', 1],
      ['1.010', '1.09', -1],
      ['4.8-rc1', '4.8', 1], // '-' sorts after the end of the string
      ['4.8', '4.8.1', -1],
      ['1.05', '1.5', -1], // a leading zero makes a fraction
      ['2.4', '2.10', -1],
      ['', '1.5', -1],
      ['devel', '5.5', 1],
    ];
    for (const [a, b, s] of cases) expect(sign(strverscmp(a, b)), `${a} vs ${b}`).toBe(s);
  });

  it('stops at NUL, like C', () => {
    expect(strverscmp('4.8\u0000x', '4.8')).toBe(0);
  });

  const version = fc.stringMatching(/^[0-9a-c.-]{0,8}$/);
  const dotted = fc.array(fc.oneof(fc.nat({ max: 120 }).map(String), fc.constantFrom('0', '00', '01', '010', '09')), { minLength: 1, maxLength: 4 }).map((p) => p.join('.'));
  const anyVersion = fc.oneof(version, dotted);

  test.prop([anyVersion], { numRuns: runs })('is reflexive', (a) => {
    expect(strverscmp(a, a)).toBe(0);
  });
  test.prop([anyVersion, anyVersion], { numRuns: runs })('is antisymmetric, and 0 only for equal strings', (a, b) => {
    expect(sign(strverscmp(a, b))).toBe(-sign(strverscmp(b, a)) || 0);
    if (a !== b) expect(strverscmp(a, b)).not.toBe(0);
  });
  test.prop([anyVersion, anyVersion, anyVersion], { numRuns: runs })('is transitive', (a, b, c) => {
    if (strverscmp(a, b) <= 0 && strverscmp(b, c) <= 0) expect(strverscmp(a, c)).toBeLessThanOrEqual(0);
  });
  test.prop([fc.array(anyVersion, { maxLength: 12 })], { numRuns: runs })('sorts consistently (sorted output is pairwise ordered)', (xs) => {
    const sorted = [...xs].sort(compareRelease);
    for (let i = 0; i + 1 < sorted.length; i++) expect(strverscmp(sorted[i]!, sorted[i + 1]!)).toBeLessThanOrEqual(0);
  });
  test.prop([fc.array(fc.nat({ max: 999 }), { minLength: 1, maxLength: 4 }), fc.array(fc.nat({ max: 999 }), { minLength: 1, maxLength: 4 })], {
    numRuns: runs,
  })('orders plain dotted numbers numerically', (x, y) => {
    // Without leading zeros and with the same number of parts, the order is numeric, part by part.
    const n = Math.min(x.length, y.length);
    const a = x.slice(0, n);
    const b = y.slice(0, n);
    const i = a.findIndex((v, k) => v !== b[k]);
    const expected = i < 0 ? 0 : sign(a[i]! - b[i]!);
    expect(sign(strverscmp(a.join('.'), b.join('.')))).toBe(expected);
  });
});

describe('compareRelease, isAtLeast', () => {
  it('reduce strverscmp to -1/0/1 and a minimum check', () => {
    expect(compareRelease('2.10', '2.9')).toBe(1);
    expect(compareRelease('2.9', '2.10')).toBe(-1);
    expect(compareRelease('4.8', '4.8')).toBe(0);
    expect(['5.1', '1.10', '1.9', '4.8-rc1', '4.8'].sort(compareRelease)).toEqual(['1.9', '1.10', '4.8', '4.8-rc1', '5.1']);
    expect(isAtLeast('2.4', '2.4')).toBe(true);
    expect(isAtLeast('2.10', '2.4')).toBe(true);
    expect(isAtLeast('2.3.9', '2.4')).toBe(false);
  });
});

/**
 * strverscmp against glibc's own answers (test/fixtures/strverscmp-glibc.json,
 * made by calling libc through python3 ctypes:
 *   libc.strverscmp(a.encode(), b.encode()) for each pair), plus properties.
 */
import { fc, test } from '@fast-check/vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { strverscmp } from '../../protocol/version.js';
import { featuresOf, NEWEST_RELEASE, optionNames, RELEASES } from '../../protocol/releases.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);
const fixture = JSON.parse(readFileSync(resolve(import.meta.dirname, '../fixtures/strverscmp-glibc.json'), 'utf8')) as {
  pairs: [string, string, number][];
};

describe('strverscmp', () => {
  it(`agrees with glibc on ${fixture.pairs.length} pairs`, () => {
    const wrong = fixture.pairs.filter(([a, b, sign]) => Math.sign(strverscmp(a, b)) !== sign);
    expect(wrong).toEqual([]);
  });

  it('orders the manual page example', () => {
    const order = ['000', '00', '01', '010', '09', '0', '1', '9', '10'];
    for (let i = 0; i + 1 < order.length; i++) expect(strverscmp(order[i]!, order[i + 1]!)).toBeLessThan(0);
    expect(strverscmp('2.10', '2.9')).toBeGreaterThan(0);
  });

  const version = fc.stringMatching(/^[0-9a-c.-]{0,8}$/);
  const sign = (n: number) => (n > 0 ? 1 : n < 0 ? -1 : 0);
  test.prop([version], { numRuns: runs })('is reflexive', (a) => {
    expect(sign(strverscmp(a, a))).toBe(0);
  });
  test.prop([version, version], { numRuns: runs })('is antisymmetric', (a, b) => {
    expect(sign(strverscmp(a, b))).toBe(-sign(strverscmp(b, a)) || 0);
  });
  test.prop([version, version, version], { numRuns: runs })('is transitive', (a, b, c) => {
    if (strverscmp(a, b) <= 0 && strverscmp(b, c) <= 0) expect(strverscmp(a, c)).toBeLessThanOrEqual(0);
  });
});

describe('release table', () => {
  it('lists the releases in order, newest 5.5', () => {
    expect(RELEASES.map((r) => r.release)).toEqual(['1.5', '1.6', '1.7', '2.4', '2.5', '3.2', '4.8', '5.1', '5.5']);
    expect(NEWEST_RELEASE).toBe('5.5');
  });

  it('maps any version string to the newest row not newer than it', () => {
    expect(featuresOf('0.9').draft).toBe(true);
    expect(featuresOf('1.5').draft).toBe(false);
    expect(featuresOf('2.3').options).toBe(false);
    expect(featuresOf('2.10').options).toBe(true);
    expect(featuresOf('4.8-rc1').dyninst).toBe(true);
    expect(featuresOf('4.8-rc1').bpf).toBe(false);
    expect(featuresOf('5.1').bpf).toBe(true);
    expect(optionNames('4.8')).toEqual(['verbose', 'data', 'dyninst']);
    expect(optionNames('1.7')).toEqual([]);
  });
});

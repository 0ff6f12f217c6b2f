// @ts-nocheck
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { featuresOf, FIRST_RELEASE, NEWEST_RELEASE, optionNames, RELEASES, releaseRowOf, type Features } from '../../protocol/releases.js';
import { strverscmp } from '../../protocol/version.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);
const FLAGS: readonly (keyof Features)[] = ['options', 'renameFlag', 'remoteIdFlag', 'eofAfterRead', 'dyninst', 'bpf'];

describe('release table', () => {
  it('lists the releases in order, oldest 1.5, newest 5.5', () => {
    expect(RELEASES.map((r) => r.release)).toEqual(['1.5', '1.6', '1.7', '2.4', '2.5', '3.2', '4.8', '5.1', '5.5']);
    for (let i = 0; i + 1 < RELEASES.length; i++) expect(strverscmp(RELEASES[i]!.release, RELEASES[i + 1]!.release)).toBeLessThan(0);
    expect(NEWEST_RELEASE).toBe(RELEASES.at(-1)!.release);
    expect(FIRST_RELEASE).toBe(RELEASES[0]!.release);
  });

  it('gives each feature from the release that introduced it', () => {
    const firstWith = (flag: keyof Features) => RELEASES.find((r) => r.features[flag])?.release;
    expect(firstWith('renameFlag')).toBe('1.6');
    expect(firstWith('remoteIdFlag')).toBe('1.7');
    expect(firstWith('options')).toBe('2.4');
    expect(firstWith('eofAfterRead')).toBe('2.5');
    expect(firstWith('dyninst')).toBe('3.2');
    expect(firstWith('bpf')).toBe('5.1');
  });

  it('never takes a feature away, and no listed release is the draft', () => {
    for (let i = 0; i + 1 < RELEASES.length; i++) {
      for (const flag of FLAGS) if (RELEASES[i]!.features[flag]) expect(RELEASES[i + 1]!.features[flag], flag).toBe(true);
    }
    for (const r of RELEASES) expect(r.features.draft).toBe(false);
  });

  it('lists the options each release accepts', () => {
    expect(optionNames('1.7')).toEqual([]);
    expect(optionNames('2.4')).toEqual(['verbose', 'data']);
    expect(optionNames('3.2')).toEqual(['verbose', 'data', 'dyninst']);
    expect(optionNames('4.8')).toEqual(['verbose', 'data', 'dyninst']);
    expect(optionNames('5.1')).toEqual(['verbose', 'data', 'dyninst', 'bpf']);
    expect(optionNames('1.0')).toEqual([]);
  });

  it('is frozen', () => {
    expect(Object.isFrozen(RELEASES)).toBe(true);
    expect(Object.isFrozen(RELEASES[0]!.features)).toBe(true);
    expect(Object.isFrozen(RELEASES[0]!.options)).toBe(true);
  });
});

describe('featuresOf', () => {
  it('maps any version string to the newest row not newer than it', () => {
    expect(featuresOf('0.9').draft).toBe(true);
    expect(featuresOf('1.4.9').draft).toBe(true);
    expect(featuresOf('').draft).toBe(true);
    expect(featuresOf('1.5').draft).toBe(false);
    expect(featuresOf('1.5').renameFlag).toBe(false);
    expect(featuresOf('1.6').renameFlag).toBe(true);
    expect(featuresOf('2.3').options).toBe(false);
    expect(featuresOf('2.10').options).toBe(true); // "2.10" > "2.4", not < it
    expect(featuresOf('2.4').eofAfterRead).toBe(false);
    expect(featuresOf('4.8-rc1').dyninst).toBe(true);
    expect(featuresOf('4.8-rc1').bpf).toBe(false);
    expect(featuresOf('5.0.9').bpf).toBe(false);
    expect(featuresOf('5.1-rc1').bpf).toBe(true); // '-' sorts after the end: 5.1-rc1 > 5.1
    expect(featuresOf('5.1').bpf).toBe(true);
    expect(featuresOf('99').bpf).toBe(true);
    expect(releaseRowOf('4.9')?.release).toBe('4.8');
    expect(releaseRowOf('1.4')).toBeNull();
  });

  it('gives every listed release its own row', () => {
    for (const r of RELEASES) expect(releaseRowOf(r.release)).toBe(r);
  });

  test.prop([fc.stringMatching(/^[0-9.a-z-]{0,8}$/), fc.stringMatching(/^[0-9.a-z-]{0,8}$/)], { numRuns: runs })(
    'is monotonic in strverscmp order',
    (a, b) => {
      const [lo, hi] = strverscmp(a, b) <= 0 ? [a, b] : [b, a];
      const fl = featuresOf(lo);
      const fh = featuresOf(hi);
      for (const flag of FLAGS) if (fl[flag]) expect(fh[flag], flag).toBe(true);
      if (!fl.draft) expect(fh.draft).toBe(false);
    },
  );
});

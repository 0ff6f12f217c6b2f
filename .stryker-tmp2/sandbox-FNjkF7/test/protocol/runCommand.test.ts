/** The child's argv as stap's host builds it (`make_run_command`), by runtime and guest release. */
// @ts-nocheck

import { describe, expect, it } from 'vitest';
import { runArguments, runtimeOf } from '../../protocol/runCommand.js';
import { mulberry32 } from '../../protocol/random.js';

const base = { module: 'stap_1.ko', remoteIndex: 0, remoteUri: 'ssh://h' } as const;

describe('runArguments', () => {
  it('names the runtime by the module file name', () => {
    expect(runtimeOf('a.ko')).toBe('kernel');
    expect(runtimeOf('a.so')).toBe('dyninst');
    expect(runtimeOf('a.bo')).toBe('bpf');
    expect(runtimeOf('so.ko')).toBe('kernel');
    expect(runtimeOf('bo.x')).toBe('kernel');
  });

  it('kernel: -R from 1.6 (not with -m), -r IDX:URI from 1.7, then the module and its arguments', () => {
    expect(runArguments({ ...base, guestRelease: '1.5' })).toEqual(['./stap_1.ko']);
    expect(runArguments({ ...base, guestRelease: '1.6' })).toEqual(['-R', './stap_1.ko']);
    expect(runArguments({ ...base, guestRelease: '4.8', remoteIndex: 2, moduleArgs: ['x=1', 'y'] })).toEqual([
      '-R',
      '-r',
      '2:ssh://h',
      './stap_1.ko',
      'x=1',
      'y',
    ]);
    expect(runArguments({ ...base, guestRelease: '4.8', moduleNameForced: true })).toEqual(['-r', '0:ssh://h', './stap_1.ko']);
    expect(runArguments({ ...base, guestRelease: '4.8', moduleNameForced: false })).toEqual(['-R', '-r', '0:ssh://h', './stap_1.ko']);
  });

  it('dyninst: module, arguments, then _stp_dyninst_remote from 1.7; bpf: module and arguments only', () => {
    expect(runArguments({ ...base, module: 'm.so', guestRelease: '4.8', remoteIndex: 1, moduleArgs: ['a'] })).toEqual([
      './m.so',
      'a',
      '_stp_dyninst_remote=1:ssh://h',
    ]);
    expect(runArguments({ ...base, module: 'm.so', guestRelease: '1.6' })).toEqual(['./m.so']);
    expect(runArguments({ ...base, module: 'm.bo', guestRelease: '4.8', moduleArgs: ['a'] })).toEqual(['./m.bo', 'a']);
  });
});

describe('mulberry32', () => {
  it('is the reference generator: same seed, same schedule; uniform in [0, 1)', () => {
    // First outputs of the reference mulberry32 (a += 0x6D2B79F5; …; / 2^32) for seed 1:
    // recorded fault schedules replay only if these stay put.
    const r = mulberry32(1);
    const first = [r(), r(), r()];
    expect(first.map((x) => Math.round(x * 2 ** 32))).toEqual([2693262067, 11749833, 2265367787]);
    const again = mulberry32(1);
    expect([again(), again(), again()]).toEqual(first);
    const s = mulberry32(42);
    for (let i = 0; i < 1000; i++) {
      const x = s();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });
});

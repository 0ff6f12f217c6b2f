/**
 * The run command's argv as stap 4.8 builds it (remote.cxx appends
 * `-r IDX:URI` after make_run_command's argv): `-R ./NAME ARGS… -r IDX:URI`
 * for kernel modules, `./NAME ARGS… _stp_dyninst_remote=IDX:URI` for
 * dyninst, `./NAME ARGS…` for bpf (as real stap 4.8 sent in
 * shared/protocol/transcripts: `run ./stap_4599.bo`).
 */

import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { RELEASES, featuresOf } from '../../protocol/releases.js';
import { runArguments, runtimeOf } from '../../protocol/runCommand.js';
import { mulberry32 } from '../../protocol/random.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);
/** Beside the repository, as test/trace/render.test.ts reads them. */
const TRANSCRIPTS = resolve(import.meta.dirname, '../../../shared/protocol/transcripts');

describe('runArguments', () => {
  it('kernel: -R, the module and its arguments, then the remote id', () => {
    expect(runArguments({ module: 'm.ko', moduleArgs: ['a=1', 'b=2'], guestRelease: '4.8', remoteIndex: 0, remoteUri: 'unix:/s' })).toEqual([
      '-R',
      './m.ko',
      'a=1',
      'b=2',
      '-r',
      '0:unix:/s',
    ]);
    expect(runArguments({ module: 'm.ko', guestRelease: '1.6', remoteIndex: 2, remoteUri: 'x' })).toEqual(['-R', './m.ko']);
    expect(runArguments({ module: 'm.ko', guestRelease: '1.5', remoteIndex: 2, remoteUri: 'x' })).toEqual(['./m.ko']);
    expect(runArguments({ module: 'm.ko', guestRelease: '4.8', remoteIndex: 1, remoteUri: 'x', moduleNameForced: true })).toEqual(['./m.ko', '-r', '1:x']);
  });

  it('dyninst and bpf', () => {
    expect(runArguments({ module: 'm.so', moduleArgs: ['a=1'], guestRelease: '4.8', remoteIndex: 1, remoteUri: 'u' })).toEqual(['./m.so', 'a=1', '_stp_dyninst_remote=1:u']);
    expect(runArguments({ module: 'm.bo', moduleArgs: ['a=1'], guestRelease: '5.1', remoteIndex: 1, remoteUri: 'u' })).toEqual(['./m.bo', 'a=1']);
  });

  it("matches what real stap 4.8 sent for a bpf module in the recorded transcripts", () => {
    const runs = readdirSync(TRANSCRIPTS)
      .flatMap((f) => readFileSync(`${TRANSCRIPTS}/${f}`, 'utf8').split('\n'))
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { dir: string; text?: string })
      .filter((e) => e.dir === 'host->guest' && e.text?.startsWith('run '));
    expect(runs.length).toBeGreaterThan(0);
    for (const r of runs) {
      const module = /\.\/(\S+\.bo)/.exec(r.text!)![1]!;
      expect(r.text).toBe(`run ${runArguments({ module, guestRelease: '4.8', remoteIndex: 0, remoteUri: 'unix:/x' }).join(' ')}\n`);
    }
  });

  const release = fc.constantFrom(...RELEASES.map((r) => r.release));
  const arg = fc.string({ minLength: 1, maxLength: 12 });
  test.prop([release, fc.constantFrom('ko', 'so', 'bo'), fc.array(arg, { maxLength: 6 }), fc.nat(9), fc.string({ maxLength: 20 })], { numRuns: runs })(
    'the module path then its arguments in order, and the remote id only last, by release',
    (rel, ext, args, index, uri) => {
      const out = runArguments({ module: `m.${ext}`, moduleArgs: args, guestRelease: rel, remoteIndex: index, remoteUri: uri });
      const f = featuresOf(rel);
      const at = out.indexOf(`./m.${ext}`);
      expect(out.slice(at + 1, at + 1 + args.length)).toEqual(args);
      const tail = out.slice(at + 1 + args.length);
      if (ext === 'ko') {
        expect(out.slice(0, at)).toEqual(f.renameFlag ? ['-R'] : []);
        expect(tail).toEqual(f.remoteIdFlag ? ['-r', `${index}:${uri}`] : []);
      } else if (ext === 'so') {
        expect(at).toBe(0);
        expect(tail).toEqual(f.remoteIdFlag ? [`_stp_dyninst_remote=${index}:${uri}`] : []);
      } else {
        expect(out).toEqual([`./m.bo`, ...args]);
      }
    },
  );
});

describe('runtimeOf', () => {
  it('names the runtime by the module file name', () => {
    expect(runtimeOf('a.ko')).toBe('kernel');
    expect(runtimeOf('a.so')).toBe('dyninst');
    expect(runtimeOf('a.bo')).toBe('bpf');
    expect(runtimeOf('so.ko')).toBe('kernel');
    expect(runtimeOf('bo.x')).toBe('kernel');
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

/** The pure parts of compiling for remotes (host/compile.ts): grouping, the cache key, stap's argv, where the cache lives. */

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { cacheKey, compileFor, CompileError, defaultCacheDir, groupHellos, resolveStap, stapArguments, type CacheKeyParts } from '../../host/compile.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);
const hello = fc.record({ machine: fc.constantFrom('x86_64', 'aarch64', 's390x'), kernelRelease: fc.constantFrom('6.1.0-1', '6.1.0-2', '5.10.0') });

describe('groupHellos', () => {
  test.prop([fc.array(hello, { maxLength: 30 })], { numRuns: runs })(
    'partitions the remotes by (machine, release): each once, one group per distinct pair, in order of first appearance',
    (hellos) => {
      const groups = groupHellos(hellos);
      expect(groups.flatMap((g) => g.remotes).sort((a, b) => a - b)).toEqual(hellos.map((_, i) => i));
      const pairs = groups.map((g) => `${g.machine} ${g.kernelRelease}`);
      expect(new Set(pairs).size).toBe(pairs.length);
      expect(pairs).toEqual([...new Set(hellos.map((h) => `${h.machine} ${h.kernelRelease}`))]);
      for (const g of groups) for (const i of g.remotes) expect(hellos[i]).toEqual({ machine: g.machine, kernelRelease: g.kernelRelease });
    },
  );
});

describe('cacheKey', () => {
  const parts = fc.record({
    script: fc.string(),
    scriptArgs: fc.array(fc.string(), { maxLength: 3 }),
    runtime: fc.constantFrom('kernel' as const, 'dyninst' as const, 'bpf' as const),
    stapOptions: fc.array(fc.string(), { maxLength: 3 }),
    machine: fc.string(),
    kernelRelease: fc.string(),
    kernelTree: fc.option(fc.string(), { nil: null }),
    stap: fc.string(),
  });
  test.prop([parts, parts], { numRuns: runs })('is the same exactly when every part is', (a: CacheKeyParts, b: CacheKeyParts) => {
    expect(cacheKey(a) === cacheKey(b)).toBe(JSON.stringify(a) === JSON.stringify(b));
  });
  it('does not confuse how parts are split (options vs script arguments, tree vs none)', () => {
    const base: CacheKeyParts = { script: 's', scriptArgs: ['a b'], runtime: 'bpf', stapOptions: [], machine: 'x86_64', kernelRelease: 'r', kernelTree: null, stap: '/usr/bin/stap' };
    expect(cacheKey(base)).not.toBe(cacheKey({ ...base, scriptArgs: ['a', 'b'] }));
    expect(cacheKey(base)).not.toBe(cacheKey({ ...base, scriptArgs: [], stapOptions: ['a b'] }));
    expect(cacheKey(base)).not.toBe(cacheKey({ ...base, kernelTree: '' }));
    expect(cacheKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("stap's argv", () => {
  it('-p4, the runtime, -a, -r RELEASE or the tree, -m, the options, then the script and its arguments', () => {
    expect(
      stapArguments({ runtime: 'bpf', machine: 'x86_64', release: '6.1.0', kernelTree: null, moduleName: 'stapflow_0123', stapOptions: ['-g', '-D', 'X=1'], script: { text: 'probe begin{}', args: ['a'] } }),
    ).toEqual(['-p4', '--runtime=bpf', '-a', 'x86_64', '-r', '6.1.0', '-m', 'stapflow_0123', '-g', '-D', 'X=1', '-e', 'probe begin{}', 'a']);
    const withTree = stapArguments({ runtime: 'kernel', machine: 'aarch64', release: '6.1.0', kernelTree: '/trees/6.1', moduleName: 'n', stapOptions: [], script: { file: '/s/x.stp' } });
    expect(withTree).toEqual(['-p4', '--runtime=kernel', '-a', 'arm64', '-r', '/trees/6.1', '-m', 'n', '/s/x.stp']);
  });
});

describe('where things are', () => {
  it('the cache: $XDG_CACHE_HOME/stapflow/modules, else ~/.cache/stapflow/modules (a relative XDG path is ignored, as the spec says)', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/c', HOME: '/h' })).toBe('/c/stapflow/modules');
    expect(defaultCacheDir({ HOME: '/h' })).toBe('/h/.cache/stapflow/modules');
    expect(defaultCacheDir({ XDG_CACHE_HOME: 'rel', HOME: '/h' })).toBe('/h/.cache/stapflow/modules');
  });

  it('stap: a path as given, a name on PATH, null when missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stapflow-resolve-'));
    try {
      const exe = join(dir, 'mystap');
      writeFileSync(exe, '#!/bin/sh\n');
      chmodSync(exe, 0o755);
      writeFileSync(join(dir, 'plain'), '');
      expect(resolveStap(exe)).toBe(exe);
      expect(resolveStap('mystap', { PATH: `/nonexistent:${dir}` })).toBe(exe);
      expect(resolveStap('plain', { PATH: dir })).toBeNull();
      expect(resolveStap('mystap', { PATH: '/nonexistent' })).toBeNull();
      expect(resolveStap(join(dir, 'absent'))).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compileFor without a stap fails with a CompileError before anything runs', async () => {
    const e = await compileFor([{ machine: 'x86_64', kernelRelease: 'r' }], { text: 'probe begin{}' }, { stap: '/nonexistent/stap', cache: false }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CompileError);
    expect((e as CompileError).reason).toBe('error');
    expect((e as CompileError).message).toMatch(/cannot find stap/);
  });
});

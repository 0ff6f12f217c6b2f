/** Module file names as stap's `-m` rule and the runtimes' extensions take them (protocol/moduleName.ts). */

import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { checkModuleFileName, compiledModuleName, isModuleName, isRuntime, stapArchitecture } from '../../protocol/moduleName.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);
const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_';
const goodName = fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 40 });
const ext = fc.constantFrom(['.ko', 'kernel'] as const, ['.so', 'dyninst'] as const, ['.bo', 'bpf'] as const);

describe('checkModuleFileName', () => {
  it('says what is wrong in one line, naming the file or the name', () => {
    expect(checkModuleFileName('m.txt')).toEqual({
      ok: false,
      problem: "'m.txt' is not a compiled module: its name must end in .ko (kernel), .so (dyninst) or .bo (bpf)",
    });
    expect(checkModuleFileName('my mod.ko')).toEqual({
      ok: false,
      problem: "module name 'my mod' contains a space: stap's module names are letters, digits and underscores only",
    });
    expect(checkModuleFileName('a-b.bo')).toMatchObject({ ok: false, problem: expect.stringContaining("contains '-'") });
    expect(checkModuleFileName('.ko')).toMatchObject({ ok: false, problem: "'.ko' has no module name before .ko" });
    expect(checkModuleFileName('stap_1234.ko')).toEqual({ ok: true, runtime: 'kernel', name: 'stap_1234' });
    // stap 4.8 takes `-m Foo` (its pattern is matched ignoring case, measured).
    expect(checkModuleFileName('Foo.bo')).toEqual({ ok: true, runtime: 'bpf', name: 'Foo' });
  });

  test.prop([goodName, ext], { numRuns: runs })('accepts every letters-digits-underscore name with a runtime extension', (name, [e, runtime]) => {
    expect(checkModuleFileName(`${name}${e}`)).toEqual({ ok: true, runtime, name });
  });

  test.prop([goodName, fc.string({ minLength: 1, maxLength: 3 }).filter((c) => /[^a-z0-9_]/i.test(c)), goodName, ext], { numRuns: runs })(
    'refuses a name with any other character, and the message names it',
    (before, bad, after, [e]) => {
      const name = `${before}${bad}${after}`;
      const r = checkModuleFileName(`${name}${e}`);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problem.split('\n')).toHaveLength(1);
    },
  );

  test.prop([goodName, fc.string({ maxLength: 5 }).filter((s) => !['.ko', '.so', '.bo'].some((e) => s.endsWith(e)) && !/\.(ko|so|bo)$/.test(s))], { numRuns: runs })(
    'refuses any other extension',
    (name, tail) => {
      const file = `${name}${tail}`;
      if (/\.(ko|so|bo)$/.test(file)) return;
      expect(checkModuleFileName(file).ok).toBe(false);
    },
  );
});

describe('names', () => {
  it('isModuleName and isRuntime', () => {
    expect(isModuleName('stap_1')).toBe(true);
    expect(isModuleName('')).toBe(false);
    expect(isModuleName('a.b')).toBe(false);
    expect(['kernel', 'dyninst', 'bpf', 'ko'].map(isRuntime)).toEqual([true, true, true, false]);
  });

  test.prop([fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 })], { numRuns: runs })(
    'compiledModuleName is a module name stap takes, from the key alone',
    (key) => {
      const name = compiledModuleName(key);
      expect(isModuleName(name)).toBe(true);
      expect(name).toBe(`stapflow_${key.slice(0, 16)}`);
      expect(name.length).toBeLessThan(56);
    },
  );

  it('compiledModuleName refuses what is not a hex key', () => {
    expect(() => compiledModuleName('xyz')).toThrow(/not a hex cache key/);
  });
});

describe('stapArchitecture', () => {
  it("maps uname -m to the kernel's ARCH as stap does, leaves the rest", () => {
    const cases: [string, string][] = [
      ['x86_64', 'x86_64'],
      ['i686', 'i386'],
      ['i386', 'i386'],
      ['aarch64', 'arm64'],
      ['armv7l', 'arm'],
      ['s390x', 's390'],
      ['ppc64le', 'powerpc'],
      ['mips64', 'mips'],
      ['sh4', 'sh'],
      ['sun4u', 'sparc64'],
      ['riscv64', 'riscv64'],
    ];
    for (const [m, a] of cases) expect(stapArchitecture(m), m).toBe(a);
  });
});

/**
 * Module file names as stap and stapsh accept them, checked before anything
 * is sent: a compiled module is `NAME.ko` (kernel), `NAME.so` (dyninst) or
 * `NAME.bo` (bpf), and NAME follows stap's `-m` rule, measured on stap 4.8:
 * `ERROR: Safety pattern mismatch for -m parameter ('a-b' vs. '^[a-z0-9_]+$')`,
 * matched ignoring case (`-m Foo` compiles). That is also inside what stapsh
 * takes as a `file` name.
 */

import type { Runtime } from './runCommand.js';

/** The extension each runtime's module carries. */
export const MODULE_EXTENSIONS: Readonly<Record<Runtime, string>> = { kernel: '.ko', dyninst: '.so', bpf: '.bo' };

/** stap's `-m` pattern, case-insensitive as stap applies it. */
const MODULE_NAME = /^[a-z0-9_]+$/i;

/** Whether stap's `-m` takes NAME (the module's name without its extension). */
export function isModuleName(name: string): boolean {
  return MODULE_NAME.test(name);
}

export type ModuleNameCheck =
  | { readonly ok: true; readonly runtime: Runtime; readonly name: string }
  | { readonly ok: false; readonly problem: string };

/**
 * Check a module's file name (its base name, no directory): the runtime its
 * extension implies and its name, or the problem in words a user can act on.
 */
export function checkModuleFileName(fileName: string): ModuleNameCheck {
  const dot = fileName.lastIndexOf('.');
  const ext = dot < 0 ? '' : fileName.slice(dot);
  const runtime = (Object.keys(MODULE_EXTENSIONS) as Runtime[]).find((r) => MODULE_EXTENSIONS[r] === ext);
  if (runtime === undefined) {
    return { ok: false, problem: `'${fileName}' is not a compiled module: its name must end in .ko (kernel), .so (dyninst) or .bo (bpf)` };
  }
  const name = fileName.slice(0, dot);
  if (name === '') return { ok: false, problem: `'${fileName}' has no module name before ${ext}` };
  if (!isModuleName(name)) {
    const bad = [...name].find((c) => !/[a-z0-9_]/i.test(c))!;
    const what = bad === ' ' ? 'a space' : /\s/.test(bad) ? 'white space' : `'${bad}'`;
    return {
      ok: false,
      problem: `module name '${name}' contains ${what}: stap's module names are letters, digits and underscores only`,
    };
  }
  return { ok: true, runtime, name };
}

/** The runtime a script is compiled for, as stap's `--runtime=` names it. */
export function isRuntime(value: string): value is Runtime {
  return value === 'kernel' || value === 'dyninst' || value === 'bpf';
}

/**
 * What the compiled module is called: `stapflow_` and the first 16 hex
 * digits of its cache key. stap's `-m NAME` (no `stap_PID`), so the same
 * compile always yields the same file; 25 characters, inside the kernel's
 * 56-byte module name limit.
 */
export function compiledModuleName(keyHex: string): string {
  if (!/^[0-9a-f]{16,}$/.test(keyHex)) throw new Error(`not a hex cache key: ${keyHex}`);
  return `stapflow_${keyHex.slice(0, 16)}`;
}

/**
 * The architecture stap's `-a` wants for a hello's machine (`uname -m`):
 * the kernel's ARCH, as stap maps a machine for itself (its util.cxx
 * `normalize_machine`: i?86 → i386, arm* → arm, aarch64 → arm64, s390x →
 * s390, ppc* → powerpc, mips* → mips, sh2/3/4 → sh, sun4u → sparc64);
 * anything else (x86_64 among them) is left as it is.
 */
export function stapArchitecture(machine: string): string {
  if (/^i[3-6]86$/.test(machine)) return 'i386';
  if (machine === 'sun4u') return 'sparc64';
  if (machine === 'aarch64') return 'arm64';
  if (machine.startsWith('arm') || machine === 'sa110') return 'arm';
  if (machine === 's390x') return 's390';
  if (machine.startsWith('ppc')) return 'powerpc';
  if (machine.startsWith('mips')) return 'mips';
  if (/^sh[234]/.test(machine)) return 'sh';
  return machine;
}

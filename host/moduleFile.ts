/**
 * A compiled module from a file, checked before anything is sent: it exists,
 * is a regular file, its name is a module name stap accepts
 * (protocol/moduleName.ts) and it fits the guest's upload limit. Read whole
 * (bounded by that limit) as the session uploads it.
 */

import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { checkModuleFileName } from '../protocol/moduleName.js';
import type { Runtime } from '../protocol/runCommand.js';
import type { ModuleFile } from './session.js';

/** The largest `file` a guest takes (SystemTap's stapsh: 32000000 bytes). */
export const MAX_MODULE_BYTES = 32_000_000;

export type ModuleFileCheck =
  | { readonly ok: true; readonly module: ModuleFile; readonly runtime: Runtime }
  /** `problem`: one line naming the file and what is wrong; `cause`: the system error, if one. */
  | { readonly ok: false; readonly problem: string; readonly cause?: unknown };

/** Whether a path names a module (by its extension) rather than a script. */
export function looksLikeModule(path: string): boolean {
  return /\.(ko|so|bo)$/.test(path);
}

/** Check and read a module file; nothing is thrown for the user's mistakes. */
export function readModuleFile(path: string): ModuleFileCheck {
  const name = basename(path);
  let stat;
  try {
    stat = statSync(path);
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ENOENT') return { ok: false, problem: `module ${path} does not exist` };
    return { ok: false, problem: `cannot read module ${path}`, cause };
  }
  if (stat.isDirectory()) return { ok: false, problem: `module ${path} is a directory, not a compiled module` };
  if (!stat.isFile()) return { ok: false, problem: `module ${path} is not a regular file` };
  const checked = checkModuleFileName(name);
  if (!checked.ok) return { ok: false, problem: checked.problem };
  if (stat.size === 0) return { ok: false, problem: `module ${path} is empty` };
  if (stat.size > MAX_MODULE_BYTES) {
    return { ok: false, problem: `module ${path} is ${stat.size} bytes, over the ${MAX_MODULE_BYTES} a guest takes` };
  }
  try {
    return { ok: true, module: { name, bytes: readBounded(path) }, runtime: checked.runtime };
  } catch (cause) {
    return { ok: false, problem: `cannot read module ${path}`, cause };
  }
}

/** The file's bytes, refusing one that grew past the limit since it was checked. */
export function readBounded(path: string, limit = MAX_MODULE_BYTES): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > limit) throw new Error(`${path} is ${size} bytes, over ${limit}`);
    const bytes = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, bytes, at, size - at, null);
      if (n === 0) break;
      at += n;
    }
    return bytes.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

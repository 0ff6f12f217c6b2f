/**
 * Compiling a SystemTap script for remotes, as `stap --remote` does before
 * pass 5: the remotes' hellos are grouped by (machine, kernel release), and
 * SystemTap's own `stap -p4` runs once per group (`-a MACHINE -r RELEASE|DIR
 * -m NAME --runtime=R`), one group after another. Its messages reach
 * `onStderr` as it prints them. Modules are cached by everything that
 * decides them (see `cacheKey`), so the same script on the same fleet
 * compiles once. Every wait is bounded (`timeoutMs`); an abort stops stap
 * (SIGINT, then SIGKILL) and its temp dir is removed in every case.
 */

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants as fsConstants, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { compiledModuleName, MODULE_EXTENSIONS, stapArchitecture } from '../protocol/moduleName.js';
import type { Runtime } from '../protocol/runCommand.js';
import type { GuestHello } from '../machines/hostSession.js';
import { MAX_MODULE_BYTES, readBounded } from './moduleFile.js';
import type { ModuleFile } from './session.js';

/** A script given inline (`-e`) or as a file. `args`: stap's script arguments (`$1`, `@1`). */
export type ScriptSource =
  | { readonly text: string; readonly args?: readonly string[] }
  | { readonly file: string; readonly args?: readonly string[] };

/** Largest script file read for the cache key. */
export const MAX_SCRIPT_BYTES = 16 * 1024 * 1024;

/** Default bound on one `stap -p4`. */
export const DEFAULT_COMPILE_TIMEOUT_MS = 600_000;

/** How long stap gets after SIGINT to clean up before SIGKILL. */
const KILL_GRACE_MS = 1_500;

/** stap's stdout is the module's name: a little is plenty. */
const MAX_STAP_STDOUT = 64 * 1024;

export interface CompileOptions {
  /** stap's `--runtime` (default `kernel`, as stap). */
  readonly runtime?: Runtime;
  /** The stap to run (default `stap` on PATH). */
  readonly stap?: string;
  /** Passed to stap before the script (`-g`, `-D X=Y`, `-I DIR`, `-B OPT`, …). */
  readonly stapOptions?: readonly string[];
  /** Build trees by release: stap's `-r DIR` instead of `-r RELEASE`. */
  readonly kernelTrees?: Readonly<Record<string, string>>;
  /** Bound on each stap run (default 600 s). */
  readonly timeoutMs?: number;
  /** The module cache: false for none, a directory, or true for the default (`defaultCacheDir()`). */
  readonly cache?: boolean | string;
  /** Stops a running stap (SIGINT, then SIGKILL) and fails with an interrupted `CompileError`. */
  readonly signal?: AbortSignal;
  /**
   * stap's stderr as it prints it (default: this process's stderr). Return
   * a promise to hold stap's output until it resolves (backpressure).
   */
  readonly onStderr?: (bytes: Uint8Array) => void | Promise<void>;
  /** Before stap runs for a group (not on a cache hit): for a progress line. */
  readonly onCompile?: (group: CompileGroup) => void;
  /** Environment for stap (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Remotes that share one module. */
export interface CompileGroup {
  readonly machine: string;
  readonly kernelRelease: string;
  /** Indices into the hellos given. */
  readonly remotes: readonly number[];
}

export interface CompiledGroup extends CompileGroup {
  readonly module: ModuleFile;
  /** Taken from the cache: stap did not run. */
  readonly cached: boolean;
}

export interface CompiledModules {
  readonly groups: readonly CompiledGroup[];
  /** The module for each hello, in the order given. */
  readonly modules: readonly ModuleFile[];
}

export class CompileError extends Error {
  override readonly name = 'CompileError';
  constructor(
    message: string,
    /** stap's exit status (null: killed, not started, or timed out). */
    readonly status: number | null,
    /** Why: stap failed, was stopped by an abort, timed out, or could not run. */
    readonly reason: 'failed' | 'interrupted' | 'timeout' | 'error',
    readonly group: CompileGroup | null,
  ) {
    super(message);
  }
}

/** `$XDG_CACHE_HOME/stapflow/modules`, else `~/.cache/stapflow/modules`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME !== undefined && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(env.HOME ?? homedir(), '.cache');
  return join(base, 'stapflow', 'modules');
}

/** The stap program to run: a path as given, else the first executable `name` on PATH; null when there is none. */
export function resolveStap(stap = 'stap', env: NodeJS.ProcessEnv = process.env): string | null {
  const executable = (p: string) => {
    try {
      accessSync(p, fsConstants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (stap.includes('/')) return executable(stap) ? resolve(stap) : null;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && executable(join(dir, stap))) return join(dir, stap);
  }
  return null;
}

/** Hellos grouped by (machine, release), in order of first appearance. */
export function groupHellos(hellos: readonly Pick<GuestHello, 'machine' | 'kernelRelease'>[]): CompileGroup[] {
  const groups = new Map<string, { machine: string; kernelRelease: string; remotes: number[] }>();
  hellos.forEach((h, i) => {
    const key = `${h.machine}\u0000${h.kernelRelease}`;
    const g = groups.get(key) ?? { machine: h.machine, kernelRelease: h.kernelRelease, remotes: [] };
    g.remotes.push(i);
    groups.set(key, g);
  });
  return [...groups.values()];
}

/** What decides a compiled module, as the cache sees it. */
export interface CacheKeyParts {
  readonly script: string;
  readonly scriptArgs: readonly string[];
  readonly runtime: Runtime;
  readonly stapOptions: readonly string[];
  readonly machine: string;
  readonly kernelRelease: string;
  /** The `-r` build tree, if one was given. */
  readonly kernelTree: string | null;
  /** The stap binary: its path, size and change time (a new stap means new modules), without running it. */
  readonly stap: string;
}

/** The cache key: sha256 (hex) of every part, unambiguously joined. */
export function cacheKey(parts: CacheKeyParts): string {
  const fields = [
    'stapflow-module-v1',
    parts.script,
    JSON.stringify(parts.scriptArgs),
    parts.runtime,
    JSON.stringify(parts.stapOptions),
    parts.machine,
    parts.kernelRelease,
    parts.kernelTree,
    parts.stap,
  ];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

/** stap's argv (after the program) for one group. */
export function stapArguments(spec: {
  readonly runtime: Runtime;
  readonly machine: string;
  readonly release: string;
  readonly kernelTree: string | null;
  readonly moduleName: string;
  readonly stapOptions: readonly string[];
  readonly script: ScriptSource;
}): string[] {
  return [
    '-p4',
    `--runtime=${spec.runtime}`,
    '-a',
    stapArchitecture(spec.machine),
    '-r',
    spec.kernelTree ?? spec.release,
    '-m',
    spec.moduleName,
    ...spec.stapOptions,
    ...('text' in spec.script ? ['-e', spec.script.text] : [resolve(spec.script.file)]),
    ...(spec.script.args ?? []),
  ];
}

function scriptText(script: ScriptSource): string {
  if ('text' in script) return `e:${script.text}`;
  const bytes = readBounded(script.file, MAX_SCRIPT_BYTES);
  return `f:${Buffer.from(bytes).toString('base64')}`;
}

function stapIdentity(path: string): string {
  const s = statSync(path);
  return `${path}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

const defaultStderr = (bytes: Uint8Array): Promise<void> | void =>
  process.stderr.write(bytes) ? undefined : new Promise((r) => process.stderr.once('drain', () => r()));

/**
 * Compile `script` for every distinct (machine, release) among `hellos`;
 * the result gives each hello its module. Rejects with a `CompileError` on
 * the first group that fails (the rest are not compiled).
 */
export async function compileFor(
  hellos: readonly Pick<GuestHello, 'machine' | 'kernelRelease'>[],
  script: ScriptSource,
  options: CompileOptions = {},
): Promise<CompiledModules> {
  const runtime = options.runtime ?? 'kernel';
  const stap = resolveStap(options.stap, options.env ?? process.env);
  if (stap === null) throw new CompileError(`cannot find stap${options.stap ? ` (${options.stap})` : ' on PATH'}: install SystemTap or give --stap PATH`, null, 'error', null);
  let text: string;
  try {
    text = scriptText(script);
  } catch (error) {
    throw new CompileError(`cannot read script ${'file' in script ? script.file : ''}: ${error instanceof Error ? error.message : String(error)}`, null, 'error', null);
  }
  const cacheDir = options.cache === false ? null : typeof options.cache === 'string' ? options.cache : defaultCacheDir(options.env ?? process.env);
  const stapId = stapIdentity(stap);
  const groups: CompiledGroup[] = [];
  const modules: ModuleFile[] = [];
  for (const group of groupHellos(hellos)) {
    if (options.signal?.aborted) throw new CompileError('interrupted before compiling', null, 'interrupted', group);
    const kernelTree = options.kernelTrees?.[group.kernelRelease] ?? null;
    const stapOptions = options.stapOptions ?? [];
    const key = cacheKey({
      script: text,
      scriptArgs: script.args ?? [],
      runtime,
      stapOptions,
      machine: group.machine,
      kernelRelease: group.kernelRelease,
      kernelTree: kernelTree === null ? null : resolve(kernelTree),
      stap: stapId,
    });
    const name = compiledModuleName(key);
    const fileName = `${name}${MODULE_EXTENSIONS[runtime]}`;
    const cachedPath = cacheDir === null ? null : join(cacheDir, key, fileName);
    let module: ModuleFile | null = null;
    if (cachedPath !== null && existsSync(cachedPath)) {
      try {
        module = { name: fileName, bytes: readBounded(cachedPath) };
      } catch {
        module = null; // unreadable: compile again, the write below replaces it
      }
    }
    const cached = module !== null;
    if (module === null) {
      options.onCompile?.(group);
      const argv = stapArguments({ runtime, machine: group.machine, release: group.kernelRelease, kernelTree, moduleName: name, stapOptions, script });
      const bytes = await runStap(stap, argv, fileName, group, options);
      module = { name: fileName, bytes };
      if (cachedPath !== null) storeInCache(cachedPath, bytes);
    }
    groups.push({ ...group, module, cached });
    for (const i of group.remotes) modules[i] = module;
  }
  return { groups, modules };
}

/** Write atomically (temp file, then rename): a reader never sees half a module. Cache trouble never fails a run. */
function storeInCache(path: string, bytes: Uint8Array): void {
  try {
    const dir = join(path, '..');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes, { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    // A read-only or full cache: the module was still compiled and is used.
  }
}

function describeGroup(group: CompileGroup): string {
  return `${group.kernelRelease} ${group.machine}`;
}

/** Run `stap ARGV` in a private temp dir; the module's bytes, or a CompileError. */
async function runStap(stap: string, argv: readonly string[], fileName: string, group: CompileGroup, options: CompileOptions): Promise<Uint8Array> {
  const work = mkdtempSync(join(tmpdir(), 'stapflow-compile-'));
  // stap's own temp dirs go inside ours: a stap killed before cleaning up leaves nothing behind.
  const stapTmp = join(work, 'tmp');
  mkdirSync(stapTmp);
  const onStderr = options.onStderr ?? defaultStderr;
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMPILE_TIMEOUT_MS;
  try {
    const child = spawn(stap, argv, {
      cwd: work,
      env: { ...(options.env ?? process.env), TMPDIR: stapTmp },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group: stap's compilers and make are stopped with it.
      detached: true,
    });
    let stdoutBytes = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_STAP_STDOUT) child.stdout.destroy();
    });
    // stap's messages as printed, paced by whoever reads them.
    const stderrDone = (async () => {
      for await (const chunk of child.stderr) await onStderr(new Uint8Array(chunk as Buffer));
    })().catch(() => undefined);
    let ended: 'interrupted' | 'timeout' | null = null;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = (why: 'interrupted' | 'timeout') => {
      if (ended !== null || child.exitCode !== null || child.signalCode !== null) return;
      ended = why;
      signalGroup(child.pid, 'SIGINT');
      killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    };
    const onAbort = () => stop('interrupted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    const timer = setTimeout(() => stop('timeout'), timeoutMs);
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((done) => {
      child.once('error', (error) => done({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => done({ code, signal }));
    });
    clearTimeout(timer);
    clearTimeout(killTimer);
    options.signal?.removeEventListener('abort', onAbort);
    // Anything stap's children still hold in the group goes with it.
    signalGroup(child.pid, 'SIGKILL');
    // Its last messages: the pipe closes once the group is gone (bounded all the same).
    const drained = setTimeout(() => child.stderr.destroy(), 2_000);
    await stderrDone;
    clearTimeout(drained);
    const where = describeGroup(group);
    if (exit.error) throw new CompileError(`cannot run ${stap}: ${exit.error.message}`, null, 'error', group);
    if (ended === 'interrupted') throw new CompileError(`compiling for ${where} interrupted`, exit.code, 'interrupted', group);
    if (ended === 'timeout') throw new CompileError(`stap did not finish compiling for ${where} within ${timeoutMs % 1000 === 0 ? `${timeoutMs / 1000} s` : `${timeoutMs} ms`}`, exit.code, 'timeout', group);
    if (exit.code !== 0) {
      const how = exit.code === null ? `killed by ${exit.signal}` : `exit status ${exit.code}`;
      throw new CompileError(`stap -p4 for ${where} failed (${how})`, exit.code, 'failed', group);
    }
    const path = join(work, fileName);
    if (!existsSync(path)) throw new CompileError(`stap -p4 for ${where} exited 0 but wrote no ${fileName}`, 0, 'error', group);
    try {
      return readBounded(path, MAX_MODULE_BYTES);
    } catch (error) {
      throw new CompileError(`cannot read the module stap compiled for ${where}: ${error instanceof Error ? error.message : String(error)}`, 0, 'error', group);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

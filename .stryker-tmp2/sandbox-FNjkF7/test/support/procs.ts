/**
 * The one home of the suite's process and waiting helpers:
 *
 * - {@link spawnGroup} (alias {@link spawnTracked}): a process as the leader
 *   of its own, tracked process group, output collected, bounded waits;
 *   {@link killAll} SIGKILLs every group still alive (call it in afterEach);
 *   {@link trackedTempDir} dirs are removed by {@link cleanupTracked}.
 *   Each group is also recorded under the run's temp root, so vitest's global
 *   teardown (globalSetup.ts) kills it even when the worker died first.
 * - {@link within}: bound a promise; {@link eventually}: poll a condition,
 *   bounded.
 * - {@link waitForUnixListener}: a unix socket accepting, read from
 *   /proc/net/unix without connecting; {@link connectWhenListening}.
 */
// @ts-nocheck


import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Transport } from '../../transports/transport.js';

// ---------------------------------------------------------------------------
// Tracking and cleanup

const liveGroups = new Set<ChildProcess>();
const tempDirs = new Set<string>();

/** A temp dir (under the OS temp dir, the run's temp root under vitest) removed by {@link cleanupTracked}. */
export function trackedTempDir(prefix = 'stapflow-real-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // group already gone
  }
}

/** Where the run's global setup wants process groups recorded (absent outside vitest's run). */
function groupRecord(pid: number): string | undefined {
  const root = process.env.STAPFLOW_TEST_ROOT;
  return root === undefined ? undefined : join(root, 'groups', String(pid));
}

function untrack(child: ChildProcess): void {
  liveGroups.delete(child);
  const record = child.pid === undefined ? undefined : groupRecord(child.pid);
  if (record !== undefined) rmSync(record, { force: true });
}

/** Remove a {@link trackedTempDir} now. */
export function removeTrackedTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** SIGKILL every process group started here and not yet reaped. */
export function killAll(): void {
  for (const child of [...liveGroups]) {
    killGroup(child, 'SIGKILL');
    untrack(child);
  }
}

/** SIGKILL every tracked process group, then remove every tracked temp dir. */
export function cleanupTracked(): void {
  killAll();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// Last line of defence when a test run dies without its hooks.
process.once('exit', cleanupTracked);

// ---------------------------------------------------------------------------
// Processes

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A spawned process group with collected output. */
export interface RealProc {
  readonly child: ChildProcessWithoutNullStreams;
  /** The leader's pid, which is also the process group id. */
  readonly pid: number;
  /** Everything read so far from stdout / stderr (latin1, byte per char). */
  stdout(): string;
  stderr(): string;
  /** Resolves once the output (stdout, stderr or either) contains `text`; rejects after `timeoutMs` or if the process exits first. */
  waitFor(text: string | RegExp, timeoutMs?: number, stream?: 'stdout' | 'stderr'): Promise<void>;
  /** The leader's exit (output read to its end, or at most 500 ms more); rejects after `timeoutMs`. */
  wait(timeoutMs?: number): Promise<Exit>;
  /** The exit if it already happened. */
  exited(): Exit | undefined;
  /** Signal the leader only. */
  signal(sig: NodeJS.Signals): void;
  /** Signal the leader only (default SIGTERM). */
  kill(sig?: NodeJS.Signals): void;
  /** SIGKILL the whole process group and wait (bounded) for the leader. */
  close(): Promise<void>;
}

export interface SpawnGroupOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** Resolve or reject as `p` does, or reject after `ms` naming `what`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return bounded(p, ms, () => `${what} not within ${ms} ms`);
}

function bounded<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(what())), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Spawn `argv` as the leader of a new, tracked process group, stdin a pipe. */
export function spawnGroup(argv: readonly string[], options: SpawnGroupOptions = {}): RealProc {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('spawnGroup: empty argv');
  const child = spawn(file, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    env: options.env ?? process.env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  // Spawn failures (ENOENT…) surface as an 'error' event, which must not
  // crash the worker; they are reported synchronously below instead.
  child.on('error', () => undefined);
  if (child.pid === undefined) throw new Error(`spawnGroup: could not start ${file}`);
  const pid = child.pid;
  liveGroups.add(child);
  const record = groupRecord(pid);
  if (record !== undefined) {
    try {
      writeFileSync(record, argv.join(' '));
    } catch {
      // the run's root is gone: its teardown has run
    }
  }
  let out = '';
  let err = '';
  let exit: Exit | undefined;
  const waiters = new Set<() => void>();
  const poke = () => {
    for (const w of [...waiters]) w();
  };
  child.stdout.setEncoding('latin1').on('data', (s: string) => {
    out += s;
    poke();
  });
  child.stderr.setEncoding('latin1').on('data', (s: string) => {
    err += s;
    poke();
  });
  child.stdin.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // Output may still be in flight; a grandchild holding the pipes open
      // must not make us wait forever.
      void bounded(closed, 500, () => 'close').catch(() => undefined).then(() => {
        poke();
        resolve({ code, signal });
      });
    });
  });
  child.once('close', () => {
    // The leader is gone and its pipes closed; its group may still hold
    // stragglers, which cleanup kills, so keep it tracked until then only
    // when the group is still alive.
    if (!groupAlive(pid)) untrack(child);
  });
  const transcript = () => `${argv.join(' ')}\n--- stdout ---\n${out}\n--- stderr ---\n${err}`;
  const proc: RealProc = {
    child,
    pid,
    stdout: () => out,
    stderr: () => err,
    exited: () => exit,
    waitFor(text, timeoutMs = 10_000, stream) {
      const has = () => {
        const hay = stream === 'stderr' ? err : stream === 'stdout' ? out : out + err;
        return typeof text === 'string' ? hay.includes(text) : text.test(hay);
      };
      return bounded(
        new Promise<void>((resolve, reject) => {
          const check = () => {
            if (has()) {
              waiters.delete(check);
              resolve();
            } else if (exit !== undefined) {
              waiters.delete(check);
              reject(new Error(`exited (${exit.code ?? exit.signal}) before printing ${String(text)}: ${transcript()}`));
            }
          };
          waiters.add(check);
          check();
        }),
        timeoutMs,
        () => `no ${String(text)} within ${timeoutMs} ms: ${transcript()}`,
      );
    },
    wait: (timeoutMs = 10_000) => bounded(exited, timeoutMs, () => `no exit within ${timeoutMs} ms: ${transcript()}`),
    signal(sig) {
      try {
        process.kill(pid, sig);
      } catch {
        // gone
      }
    },
    kill(sig = 'SIGTERM') {
      proc.signal(sig);
    },
    async close() {
      killGroup(child, 'SIGKILL');
      untrack(child);
      await bounded(exited, 5_000, () => `not dead 5 s after SIGKILL: ${transcript()}`);
    },
  };
  return proc;
}

/** Does any process of process group `pgid` still run (zombies don't count)? */
export function groupAlive(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') return true;
  }
  return false;
}

/** Is a process with this pid still running (not a zombie)? */
export function pidAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** Same as {@link pidAlive}. */
export const alive = pidAlive;

function procStat(pid: number): { state: string; pgrp: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid pgrp ...; comm may contain spaces and parens.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    const pgrp = Number(rest[2]);
    return state === undefined ? undefined : { state, pgrp };
  } catch {
    return undefined;
  }
}

/** Poll until `check()` is true; reject after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Is something listening on the unix socket at `path`? Read from
 * /proc/net/unix (flag __SO_ACCEPTCON), not by connecting: a probe
 * connection would be a session to a `socat …,fork` or a proxy, and the file
 * alone appears at bind(), a moment before listen() (a connect in between
 * is refused, which a loaded machine does hit).
 */
export function unixListening(path: string): boolean {
  const ACCEPTCON = 0x10000;
  return readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .slice(1)
    .some((line) => {
      const f = line.trim().split(/\s+/);
      return f.length >= 8 && f.slice(7).join(' ') === path && (parseInt(f[3]!, 16) & ACCEPTCON) !== 0;
    });
}

/** Wait (bounded) until a listener accepts on the unix socket at `path`, without connecting. */
export function waitForUnixListener(path: string, timeoutMs = 5_000): Promise<void> {
  return eventually(() => unixListening(path), timeoutMs, `a listener on ${path}`);
}


/** {@link spawnGroup} under the name most tests use; `Proc` is its handle. */
export const spawnTracked = spawnGroup;
export type Proc = RealProc;

/** Wait until a path exists (a socket, a pty link). */
export function waitForPath(path: string, timeoutMs = 5_000): Promise<void> {
  return eventually(() => existsSync(path), timeoutMs, `${path} to appear`);
}

/** Connect once a listener accepts on the unix socket at `path` (see {@link waitForUnixListener}). */
export async function connectWhenListening(path: string, timeoutMs = 5_000): Promise<Transport> {
  const { connectUnix } = await import('../../transports/unixSocket.js');
  await waitForUnixListener(path, timeoutMs);
  return connectUnix(path, { timeoutMs });
}

/** Same as {@link waitForUnixListener} (the older name). */
export const waitForListening = waitForUnixListener;

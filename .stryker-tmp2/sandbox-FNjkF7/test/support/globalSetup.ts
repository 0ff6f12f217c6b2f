/**
 * Vitest global setup (vitest.config.ts `globalSetup`), in vitest's main
 * process before any worker starts:
 *
 * 1. **dist/ is the source.** Real-process tests run `bin/*.js`, which run
 *    `dist/`: after a source change, `npx vitest run FILE` would test the
 *    old build. Every compiled source is compared with its `dist/` output
 *    (mtimes, a few ms); when one is newer or missing, `tsc -p
 *    tsconfig.build.json` runs first, and a failed build stops the run.
 *    `npm test` builds anyway, so there it costs only the comparison.
 * 2. **One temp root per run.** `TMPDIR` becomes `$TMPDIR/stapflow-test-PID/`
 *    for the workers and everything they start, so every temp dir of the run
 *    (ours, guests' `stapsh.XXXXXX`, stap's) lives under it; the teardown
 *    removes it.
 * 3. **No process outlives the run.** Test processes run in their own
 *    process groups (`detached`), out of reach of a terminal's Ctrl-C. Each
 *    inherits `STAPFLOW_TEST_ROOT`; the teardown SIGKILLs every process
 *    (and its group) whose environment carries this run's value, and every
 *    group recorded under `ROOT/groups/` (procs.ts records each it spawns,
 *    for processes that were given an environment of their own). Workers
 *    clean up their own groups on SIGINT/SIGTERM too (workerCleanup.ts).
 */
// @ts-nocheck


import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');

/** Whatever tsconfig.build.json compiles. */
function buildSources(): string[] {
  const config = JSON.parse(readFileSync(join(REPO, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
  const out: string[] = [];
  const walk = (path: string): void => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const e of readdirSync(path)) walk(join(path, e));
    } else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) out.push(path);
  };
  for (const entry of config.include) walk(join(REPO, entry));
  return out;
}

/** The first compiled source whose `dist/` output is missing or older, or undefined when dist/ is fresh. */
export function staleSource(): string | undefined {
  const configTime = Math.max(...['tsconfig.json', 'tsconfig.build.json'].map((f) => statSync(join(REPO, f)).mtimeMs));
  for (const src of buildSources()) {
    const out = join(REPO, 'dist', relative(REPO, src).replace(/\.ts$/, '.js'));
    let built: number;
    try {
      built = statSync(out).mtimeMs;
    } catch {
      return relative(REPO, src);
    }
    if (built < statSync(src).mtimeMs || built < configTime) return relative(REPO, src);
  }
  return undefined;
}

function ensureFreshDist(): void {
  const stale = staleSource();
  if (stale === undefined) return;
  process.stderr.write(`vitest global setup: dist/ is older than ${stale}: building (tsc -p tsconfig.build.json)\n`);
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) {
    throw new Error(`dist/ is stale (${stale} is newer) and the build failed, so real-process tests would run old code:\n${r.stdout}${r.stderr}`);
  }
  const still = staleSource();
  if (still !== undefined) throw new Error(`dist/ is still older than ${still} after building`);
}

/** Pids of this process and its ancestors: never killed. */
function ancestors(): Set<number> {
  const out = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !out.has(pid)) {
    out.add(pid);
    const stat = procStat(pid);
    if (!stat) break;
    pid = stat.ppid;
  }
  return out;
}

function procStat(pid: number): { ppid: number; pgrp: number; state: string; start: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // Fields 3, 4, 5 and 22 (starttime, clock ticks since boot) of proc(5).
    return { state: rest[0]!, ppid: Number(rest[1]), pgrp: Number(rest[2]), start: Number(rest[19]) };
  } catch {
    return undefined;
  }
}

function environHas(pid: number, entry: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(entry);
  } catch {
    return false;
  }
}

function kill(target: number): void {
  try {
    process.kill(target, 'SIGKILL');
  } catch {
    // gone
  }
}

/**
 * SIGKILL every process of this run still alive: those whose environment
 * carries `STAPFLOW_TEST_ROOT=root` (except vitest's own process, its
 * ancestors and, when `spareWorkers`, its direct children: the workers
 * vitest itself ends) with their groups, and every group recorded under
 * `root/groups/`. Returns how many processes were found.
 */
export function killRunProcesses(root: string, spareWorkers: boolean): number {
  const spared = ancestors();
  const self = procStat(process.pid);
  const ownGroup = self?.pgrp;
  // A recorded group id could have been reused: only processes younger than this run count.
  const runStart = self?.start ?? Infinity;
  const recorded = new Set<number>();
  const groupDir = join(root, 'groups');
  if (existsSync(groupDir)) for (const g of readdirSync(groupDir)) if (/^\d+$/.test(g)) recorded.add(Number(g));
  const groups = new Set<number>();
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (spared.has(pid)) continue;
    const stat = procStat(pid);
    if (!stat || stat.state === 'Z') continue;
    if (spareWorkers && stat.ppid === process.pid) continue;
    const ours = environHas(pid, `STAPFLOW_TEST_ROOT=${root}`) || (recorded.has(stat.pgrp) && stat.start >= runStart);
    if (!ours) continue;
    pids.push(pid);
    if (stat.pgrp > 1 && stat.pgrp !== ownGroup && !spared.has(stat.pgrp)) groups.add(stat.pgrp);
  }
  for (const g of groups) kill(-g);
  for (const pid of pids) kill(pid);
  return pids.length;
}

/** The part of vitest's global-setup argument used here. */
interface SetupProject {
  readonly vitest?: { readonly _tmpDir?: unknown };
}

export default function setup(project?: SetupProject): () => void {
  ensureFreshDist();
  const parent = tmpdir();
  const root = join(parent, `stapflow-test-${process.pid}`);
  mkdirSync(join(root, 'groups'), { recursive: true });
  process.env.TMPDIR = root;
  process.env.STAPFLOW_TEST_ROOT = root;
  let done = false;
  const teardown = (): void => {
    if (done) return;
    done = true;
    killRunProcesses(root, true);
    // SIGKILL is immediate but the dying may still hold files in the root.
    const end = Date.now() + 5_000;
    for (;;) {
      try {
        rmSync(root, { recursive: true, force: true });
        break;
      } catch (error) {
        if (Date.now() > end) throw error;
      }
    }
    process.env.TMPDIR = parent;
  };
  // Interrupted (Ctrl-C), vitest exits without calling the teardown it was
  // given, and leaves its own temp dir (made before this setup ran, so not
  // under the root; an internal field of vitest 4) behind.
  const vitestTmp = project?.vitest?._tmpDir;
  const atExit = (): void => {
    teardown();
    if (typeof vitestTmp === 'string' && vitestTmp.startsWith(parent)) rmSync(vitestTmp, { recursive: true, force: true });
  };
  process.once('exit', atExit);
  // SIGTERM/SIGHUP (a CI timeout, a closed terminal) end the process without 'exit'.
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      atExit();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
  return teardown;
}

/**
 * Real-peer test infrastructure: running SystemTap's own binaries (`stap`
 * 4.8, `stapsh` 4.8, `socat`) from vitest with bounded waits and guaranteed
 * cleanup.
 *
 * - Detection: {@link realPeers} says what is missing; {@link describeReal},
 *   {@link itReal} and {@link requireRealPeers} SKIP locally when something
 *   is missing, but FAIL loudly (naming what is missing) when `CI` is set, so
 *   a CI run can never pass by silently skipping the real-peer tests.
 * - Scripted child: {@link withScriptedChild} runs a command in a private
 *   mount namespace (`unshare -m`) where `/usr/bin/staprun` (and
 *   `/usr/bin/stapbpf`, when it exists) is a bind-mounted shell script, so
 *   the real guest (or real `stap`, which execs it) runs that script as its
 *   child. Nothing in `/usr/bin` is created or changed outside the namespace.
 * - {@link fakeKernelTree}: what `stap --runtime=bpf -r DIR` needs to compile
 *   without kernel headers.
 * - {@link runRealStap}: real `stap` in its own process group, SIGINT-able.
 * - {@link socatUnixListen}: `socat UNIX-LISTEN:PATH,fork EXEC:CMD,stderr`.
 * - {@link strayWorkspaces}: guest temp dirs (`stapsh.XXXXXX`) left behind.
 *
 * Processes start through procs.ts's `spawnGroup` (own process group,
 * tracked) and temp dirs through its `trackedTempDir`; `describeReal`
 * registers its `cleanupTracked` as an `afterAll`. Handles have their own
 * `close()` for earlier, per-test cleanup. The guard is needs.ts's.
 *
 * Measured facts this relies on are in /work/shared/protocol/REFERENCE.md
 * and docs/stapsh-4.8-measured.md.
 */
// @ts-nocheck


import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { release as osRelease } from 'node:os';
import { join } from 'node:path';
import { afterAll, type TestContext } from 'vitest';
import { describeNeeding, inCi, itNeeding, missingOf, program, requireNeeds, type Need } from './needs.js';

// ---------------------------------------------------------------------------
// Paths

export const REAL_STAP = '/usr/bin/stap';
export const REAL_STAPSH = '/usr/lib/systemtap/stapsh';
/** The child the 4.8 guest execs for every module it runs except `.so`. */
export const REAL_STAPRUN = '/usr/bin/staprun';
/** Debian ships it in `systemtap`; 4.8's guest never execs it (5.1 does for `.bo`). */
export const REAL_STAPBPF = '/usr/bin/stapbpf';
/** A probe script that compiles with the BPF runtime and ends by itself. */
export const HELLO_SCRIPT = 'probe begin { printf("hi\\n"); exit() }';

// ---------------------------------------------------------------------------
// Detection

/** What the real-peer tests need, and what of it is missing here. */
export interface RealPeers {
  /** True when everything below is present and usable. */
  readonly available: boolean;
  /** Human-readable descriptions of what is missing (with the Debian package to install). */
  readonly missing: readonly string[];
  readonly stap: boolean;
  readonly stapsh: boolean;
  readonly staprun: boolean;
  readonly socat: boolean;
  /** `unshare -m` plus a bind mount inside it work (needs root / CAP_SYS_ADMIN). */
  readonly mountNamespace: boolean;
}

function canBindMount(): boolean {
  // Bind staprun over itself in a throwaway namespace: proves both that
  // unshare -m works and that mounting inside it is allowed.
  const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind "$0" "$0"', REAL_STAPRUN], {
    stdio: 'ignore',
    timeout: 5_000,
  });
  return r.status === 0;
}

export const NEED_STAP = program('stap', REAL_STAP, 'systemtap');
export const NEED_STAPSH = program('stapsh', REAL_STAPSH, 'systemtap-runtime');
export const NEED_STAPRUN: Need = { name: 'staprun', missing: `${REAL_STAPRUN} (Debian package systemtap-runtime)`, present: () => existsSync(REAL_STAPRUN) };
export const NEED_SOCAT = program('socat', 'socat', 'socat');
export const NEED_MOUNT_NAMESPACE: Need = {
  name: 'mount-namespace',
  missing: 'unshare -m with mount --bind (needs root)',
  present: () => !existsSync(REAL_STAPRUN) || canBindMount(),
};
/** Everything {@link describeReal} and {@link itReal} need. */
export const REAL_PEER_NEEDS: readonly Need[] = [NEED_STAP, NEED_STAPSH, NEED_STAPRUN, NEED_SOCAT, NEED_MOUNT_NAMESPACE];

/** Detect (once per process) whether SystemTap's real binaries can run here. */
export function realPeers(): RealPeers {
  const missing = missingOf(REAL_PEER_NEEDS);
  const has = (n: Need) => missingOf([n]).length === 0;
  return {
    available: missing.length === 0,
    missing,
    stap: has(NEED_STAP),
    stapsh: has(NEED_STAPSH),
    staprun: has(NEED_STAPRUN),
    socat: has(NEED_SOCAT),
    mountNamespace: has(NEED_MOUNT_NAMESPACE),
  };
}

/** What is missing for the real-peer tests, empty when nothing is. */
export function missingRealPeers(): string[] {
  return [...realPeers().missing];
}

export { inCi };

const WHAT = 'real-peer tests';

/**
 * Call at the start of a test that needs the real peers: returns when they
 * are all here; otherwise skips the test (locally) or throws (in CI).
 */
export function requireRealPeers(ctx: Pick<TestContext, 'skip'>): void {
  requireNeeds(ctx, REAL_PEER_NEEDS, WHAT);
}

/**
 * A describe block for tests that run SystemTap's binaries. With the peers
 * present it is a plain `describe` that also runs {@link cleanupRealPeers}
 * after all its tests. Without them: skipped with a notice locally; in CI a
 * single failing test that names what is missing.
 */
export function describeReal(name: string, body: () => void): void {
  describeNeeding(REAL_PEER_NEEDS, WHAT, name, () => {
    afterAll(cleanupTracked);
    body();
  });
}

/**
 * A test that runs SystemTap's binaries, with a bound suited to real
 * processes. Usable inside or outside `describeReal`: it checks the peers
 * itself ({@link requireRealPeers}).
 */
export function itReal(name: string, body: (ctx: TestContext) => Promise<void> | void, timeoutMs = 60_000): void {
  itNeeding(REAL_PEER_NEEDS, WHAT, name, body, timeoutMs);
}

// ---------------------------------------------------------------------------
// Processes and waits: one home, procs.ts (re-exported for the tests that import them from here)

import { cleanupTracked, eventually, removeTrackedTempDir, spawnGroup, trackedTempDir, unixListening, type Exit, type RealProc } from './procs.js';

export {
  alive,
  cleanupTracked as cleanupRealPeers,
  eventually,
  groupAlive,
  killAll as killRealPeerProcesses,
  pidAlive,
  spawnGroup,
  trackedTempDir,
  unixListening,
  waitForUnixListener,
  within,
  type Exit,
  type RealProc,
  type SpawnGroupOptions,
} from './procs.js';

// ---------------------------------------------------------------------------
// Scripted child

export interface ScriptedChildOptions {
  /** Environment of the command (default: this process's). `TMPDIR` is set to {@link ScriptedChild.tmp} unless given here. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /**
   * Record the pid of every run of the script (default true): a line is
   * inserted after the script's `#!` line appending `$$` to a file, read back
   * by {@link ScriptedChild.childPids}. Needs a POSIX-shell script.
   */
  readonly recordPids?: boolean;
}

export interface ScriptedChild extends RealProc {
  /** Private dir holding the script, the pid file and `tmp/`; removed by `close()`. */
  readonly dir: string;
  /** The script file bind-mounted over /usr/bin/staprun (and stapbpf). */
  readonly scriptPath: string;
  /** The command's `TMPDIR` (unless `env.TMPDIR` was given): where a guest makes its `stapsh.XXXXXX`. */
  readonly tmp: string;
  /** Pids of every run of the script so far (empty when `recordPids` is false). */
  childPids(): number[];
  /** Guest temp dirs left in `tmp`. */
  strayWorkspaces(): string[];
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function withPidRecording(script: string, pidFile: string): string {
  const line = `echo $$ >> ${shQuote(pidFile)}\n`;
  if (script.startsWith('#!')) {
    const nl = script.indexOf('\n');
    return nl < 0 ? `${script}\n${line}` : script.slice(0, nl + 1) + line + script.slice(nl + 1);
  }
  return `#!/bin/sh\n${line}${script}`;
}

/**
 * Run `cmd` inside `unshare -m` with `script` bind-mounted over
 * /usr/bin/staprun and /usr/bin/stapbpf (when present; stapdyn does not
 * exist on Debian and is left alone), so a real guest started by `cmd` runs
 * the script as its child (argv[0] stays `/usr/bin/staprun`). The mounts
 * vanish with the namespace; nothing outside it changes.
 */
export function withScriptedChild(script: string, cmd: readonly string[], options: ScriptedChildOptions = {}): ScriptedChild {
  if (cmd.length === 0) throw new Error('withScriptedChild: empty command');
  const dir = trackedTempDir('stapflow-child-');
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  const pidFile = join(dir, 'child.pids');
  const scriptPath = join(dir, 'child.sh');
  writeFileSync(scriptPath, options.recordPids === false ? script : withPidRecording(script, pidFile));
  chmodSync(scriptPath, 0o755);
  // The directory must be traversable for the guest's child (mkdtemp is 0700; we are root anyway).
  chmodSync(dir, 0o755);
  const targets = [REAL_STAPRUN, REAL_STAPBPF].filter((p) => existsSync(p));
  const mounts = targets.map((t) => `mount --bind "$0" ${shQuote(t)}`).join(' && ');
  if (targets.length === 0) throw new Error(`withScriptedChild: ${REAL_STAPRUN} does not exist (Debian package systemtap-runtime)`);
  const guestTmp = options.env?.TMPDIR ?? tmp;
  const proc = spawnGroup(['unshare', '-m', 'sh', '-c', `${mounts} && exec "$@"`, scriptPath, ...cmd], {
    env: { ...(options.env ?? process.env), TMPDIR: guestTmp },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  return {
    ...proc,
    dir,
    scriptPath,
    tmp: guestTmp,
    childPids: () =>
      existsSync(pidFile)
        ? readFileSync(pidFile, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map(Number)
        : [],
    strayWorkspaces: () => strayWorkspaces(guestTmp),
    async close() {
      await proc.close();
      removeTrackedTempDir(dir);
    },
  };
}

// ---------------------------------------------------------------------------
// Fake kernel tree

/**
 * A fake kernel build tree that lets `stap --runtime=bpf -r DIR` compile
 * (stap 4.8, measured) without kernel headers. stap checks, in this order:
 * `include/config/kernel.release` (the release; without it "kernel release
 * isn't found"), `.config` (must exist; its content is not checked for the
 * BPF runtime, we still say CONFIG_BPF=y and friends), `Module.symvers`
 * (must exist, may be empty). It then warns "Kernel function symbol table
 * missing", harmlessly.
 *
 * The release MUST equal what the guest reports (its `uname -r`): with
 * `--remote`, stap takes the release from the guest's hello and, when it
 * differs from the tree's, ignores `-r DIR` and looks in
 * `/lib/modules/RELEASE/build` instead (exit 1).
 *
 * @param parent where to create `kernel-tree/` (default: a tracked temp dir)
 * @param release the kernel release (default: this machine's `uname -r`,
 *   which is what a local guest reports)
 */
export function fakeKernelTree(parent?: string, release: string = osRelease()): string {
  const dir = join(parent ?? trackedTempDir('stapflow-kernel-'), 'kernel-tree');
  mkdirSync(join(dir, 'include', 'config'), { recursive: true });
  writeFileSync(join(dir, 'include', 'config', 'kernel.release'), `${release}\n`);
  writeFileSync(
    join(dir, '.config'),
    ['CONFIG_BPF=y', 'CONFIG_BPF_SYSCALL=y', 'CONFIG_BPF_JIT=y', 'CONFIG_HAVE_EBPF_JIT=y', 'CONFIG_BPF_EVENTS=y', ''].join('\n'),
  );
  writeFileSync(join(dir, 'Module.symvers'), '');
  return dir;
}

// ---------------------------------------------------------------------------
// Real stap

export interface RealStapOptions {
  /** One or more `--remote` URIs (`unix:/path`, `stapsh:`, `ssh://…`). */
  readonly remote: string | readonly string[];
  /** The probe script for `-e` (default {@link HELLO_SCRIPT}). */
  readonly script?: string;
  /** The `-r` tree (default: a new {@link fakeKernelTree} for this machine's release). */
  readonly kernelTree?: string;
  /** Extra arguments before `-e` (e.g. `-v`, `--remote-prefix`). */
  readonly extraArgs?: readonly string[];
  /** Bound on the whole run (default 60 s); when it passes the group is SIGKILLed and `result` rejects. */
  readonly timeoutMs?: number;
  /** Added to the environment. `HOME` defaults to a private dir (stap makes `~/.systemtap/cache` there), `TMPDIR` too. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface StapResult extends Exit {
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit (ms). */
  readonly ms: number;
}

export interface RealStap extends RealProc {
  /** The argv stap was started with. */
  readonly argv: readonly string[];
  /** The private `HOME` and `TMPDIR` parent, removed by cleanup. */
  readonly dir: string;
  /** Resolves at exit; rejects (after SIGKILLing the group) when `timeoutMs` passes. */
  readonly result: Promise<StapResult>;
  /** SIGINT to stap (as Ctrl-C would): it sends `quit` to every guest. */
  interrupt(): void;
}

/** Start real `stap --runtime=bpf -r TREE --remote=… -e SCRIPT` in its own process group. */
export function runRealStap(options: RealStapOptions): RealStap {
  const dir = trackedTempDir('stapflow-stap-');
  const home = join(dir, 'home');
  const tmp = join(dir, 'tmp');
  mkdirSync(home);
  mkdirSync(tmp);
  const remotes = typeof options.remote === 'string' ? [options.remote] : options.remote;
  const argv = [
    REAL_STAP,
    '--runtime=bpf',
    '-r',
    options.kernelTree ?? fakeKernelTree(dir),
    ...remotes.map((r) => `--remote=${r}`),
    ...(options.extraArgs ?? []),
    '-e',
    options.script ?? HELLO_SCRIPT,
  ];
  const started = Date.now();
  const proc = spawnGroup(argv, { env: { ...process.env, HOME: home, TMPDIR: tmp, ...options.env }, cwd: dir });
  const timeoutMs = options.timeoutMs ?? 60_000;
  const result = proc.wait(timeoutMs).then(
    (exit): StapResult => ({ ...exit, stdout: proc.stdout(), stderr: proc.stderr(), ms: Date.now() - started }),
    async (e: unknown) => {
      await proc.close().catch(() => undefined);
      throw e;
    },
  );
  // A test that never awaits `result` must not get an unhandled rejection.
  result.catch(() => undefined);
  return { ...proc, argv, dir, result, interrupt: () => proc.signal('SIGINT') };
}

// ---------------------------------------------------------------------------
// socat unix listener

export interface SocatOptions {
  /** Merge the command's stderr into the socket (socat's `,stderr`; default true, as a unix-socket guest needs). */
  readonly stderr?: boolean;
  /** Run socat (and so every guest it starts) inside {@link withScriptedChild} with this child script. */
  readonly childScript?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Bound on the socket appearing (default 5 s). */
  readonly timeoutMs?: number;
}

export interface SocatListener {
  readonly sockPath: string;
  /** The socat process (a {@link ScriptedChild} when `childScript` was given). */
  readonly proc: RealProc | ScriptedChild;
  /** The scripted-child view, when `childScript` was given. */
  readonly scripted: ScriptedChild | undefined;
  /** Kill socat and every guest it forked; remove the socket. */
  close(): Promise<void>;
}

/**
 * `socat UNIX-LISTEN:PATH,fork EXEC:CMD[,stderr]`, resolved once the socket
 * exists. `execCmd` is shell syntax (a string) or an argv (quoted for you);
 * it is written to a wrapper script so socat's own address syntax (`,`, `:`,
 * quotes) never sees it.
 */
export async function socatUnixListen(
  sockPath: string,
  execCmd: string | readonly string[],
  options: SocatOptions = {},
): Promise<SocatListener> {
  const dir = trackedTempDir('stapflow-socat-');
  chmodSync(dir, 0o755);
  const wrapper = join(dir, 'exec.sh');
  const cmd = typeof execCmd === 'string' ? execCmd : execCmd.map(shQuote).join(' ');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${cmd}\n`);
  chmodSync(wrapper, 0o755);
  rmSync(sockPath, { force: true });
  const socat = ['socat', `UNIX-LISTEN:${sockPath},fork`, `EXEC:${wrapper}${options.stderr === false ? '' : ',stderr'}`];
  const scripted =
    options.childScript === undefined
      ? undefined
      : withScriptedChild(options.childScript, socat, options.env === undefined ? {} : { env: options.env });
  const proc = scripted ?? spawnGroup(socat, options.env === undefined ? {} : { env: options.env });
  const timeoutMs = options.timeoutMs ?? 5_000;
  const close = async () => {
    await proc.close();
    rmSync(sockPath, { force: true });
    removeTrackedTempDir(dir);
  };
  try {
    await eventually(() => unixListening(sockPath) || proc.exited() !== undefined, timeoutMs, `a listener on ${sockPath}`);
    if (!unixListening(sockPath)) throw new Error(`socat exited before listening: ${proc.stderr()}`);
  } catch (e) {
    await close();
    throw e;
  }
  return { sockPath, proc, scripted, close };
}

// ---------------------------------------------------------------------------
// Guest workspaces

/** Temp dirs named like a guest's (`stapsh.XXXXXX`) left in `dir` (a guest's TMPDIR). */
export function strayWorkspaces(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('stapsh.')) : [];
}

/** Wait (bounded) until no guest temp dir is left in `dir`; returns the leftovers after `timeoutMs` (empty on success). */
export async function settledWorkspaces(dir: string, timeoutMs = 2_000): Promise<string[]> {
  await eventually(() => strayWorkspaces(dir).length === 0, timeoutMs).catch(() => undefined);
  return strayWorkspaces(dir);
}

/** A bindir whose staprun, stapbpf (and optionally stapdyn) are the given script (for guests with `--bindir`, e.g. ours). */
export function scriptedBindir(parent: string, script: string, programs: readonly string[] = ['staprun', 'stapbpf']): string {
  const dir = join(parent, 'bin');
  mkdirSync(dir, { recursive: true });
  for (const p of programs) {
    writeFileSync(join(dir, p), script);
    chmodSync(join(dir, p), 0o755);
  }
  return dir;
}

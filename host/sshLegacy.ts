/**
 * Building blocks of SystemTap's legacy ssh mode (`ssh_legacy_remote`), for
 * remotes without `stapsh` (the stapsh command exited 127): the system
 * ssh/scp over one control master.
 *
 * SystemTap's sequence, each an ssh (or scp) through the master's
 * `ControlPath`:
 *   1. master      `ssh -q -o ControlPath=CTL HOST [-p PORT] -f -N -M`
 *   2. uname       `… -t 'uname -rm'` → release, machine
 *   3. temp dir    `… -t 'mktemp -d -t stapXXXXXX'`
 *   4. upload      `scp -q -o ControlPath=CTL [-P PORT] MODULE HOST:TMPDIR/MODULE`
 *   5. run         `… -t 'staprun TMPDIR/MODULE ARGS…'` (the remote picks staprun's path)
 *   6. clean up    `… -t 'rm -r TMPDIR'`, then `… -O exit` (master).
 *
 * Deliberate differences: the master runs in the foreground as our child
 * (`-N -M` without `-f`, ready once its control socket exists), so it is
 * killed with us instead of outliving a crashed host; every step is bounded;
 * the run's remote shell leaves its pid in `TMPDIR/.stapflow-staprun.pid`
 * before `exec`ing staprun, so an interrupt can reach staprun through the
 * master (`kill -INT`) where stap relies on the terminal's Ctrl-C crossing
 * `ssh -t`'s pty. `startSshLegacySession` runs the whole sequence as a host
 * session (see there).
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Observable } from 'rxjs';
import type { GuestHello } from '../machines/hostSession.js';
import { onRemote } from '../protocol/remoteUri.js';
import { spawnProcess, type ProcessTransport } from '../transports/processTransport.js';
import { classifySshExit, sshArgv, sshExitError, type SshSpec } from '../transports/ssh.js';
import type { ExitStatus } from '../transports/transport.js';
import { sessionHandle, type HostSessionHandle, type ModuleFile, type SessionResult } from './session.js';
import { OutputFlow } from './output.js';
import { deferred } from './deferred.js';

export interface SshLegacyOptions {
  readonly sshCommand?: string;
  readonly scpCommand?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Arguments for both ssh and scp, right after the program (`-F CONFIG`, `-o …`). */
  readonly extraSshArgs?: readonly string[];
  /** Bound on each step, the master's start included (default 30 s). */
  readonly stepTimeoutMs?: number;
}

export interface StepResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Quote for the remote shell as SystemTap's `cmdstr_quoted`: plain words as they are, others in single quotes. */
export function remoteQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The staprun argv SystemTap's legacy mode runs (release "1.3": no `-R`, no `-r`); argv[0] is plain `staprun`. */
export function legacyRunCommand(remoteDir: string, module: string, moduleArgs: readonly string[] = []): string[] {
  return ['staprun', `${remoteDir}/${module}`, ...moduleArgs];
}

/** The file in the remote temp dir where the legacy run's shell leaves its pid (then `exec`s staprun), for signals. */
export const LEGACY_PID_FILE = '.stapflow-staprun.pid';

function run(argv: readonly string[], env: NodeJS.ProcessEnv | undefined, timeoutMs: number): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    // Own process group: a terminal's Ctrl-C must not kill a step (the clean-up steps above all).
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...(env ? { env } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${argv.join(' ')}: no exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export class SshLegacyRemote {
  /** `uname -rm` of the remote. */
  release = '';
  machine = '';
  /** The remote temp dir, once made. */
  remoteDir: string | null = null;
  readonly #spec: SshSpec;
  readonly #uri: string;
  readonly #options: SshLegacyOptions;
  readonly #localDir: string;
  readonly #control: string;
  #master: ProcessTransport | null = null;

  private constructor(spec: SshSpec, uri: string, options: SshLegacyOptions) {
    this.#spec = spec;
    this.#uri = uri;
    this.#options = options;
    this.#localDir = mkdtempSync(join(tmpdir(), 'stapflow-sshctl-'));
    this.#control = join(this.#localDir, 'control');
  }

  get #timeout(): number {
    return this.#options.stepTimeoutMs ?? 30_000;
  }

  /** `ssh -q -o ControlPath=CTL [USER@]HOST [-p PORT]` (+ `extra`). */
  sshArgs(extra: readonly string[] = []): string[] {
    const base = sshArgv(this.#spec, {
      extraSshArgs: [...(this.#options.extraSshArgs ?? []), '-o', `ControlPath=${this.#control}`],
      ...(this.#options.sshCommand === undefined ? {} : { sshCommand: this.#options.sshCommand }),
    }, this.#uri);
    return [...base.slice(0, -1), ...extra];
  }

  /** `scp -q -o ControlPath=CTL [-P PORT] LOCAL [USER@]HOST:REMOTE`. */
  scpArgs(local: string, remote: string): string[] {
    const { host, user, port } = this.#spec;
    const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    return [
      this.#options.scpCommand ?? 'scp',
      ...(this.#options.extraSshArgs ?? []),
      '-q',
      '-o',
      `ControlPath=${this.#control}`,
      ...(port === null ? [] : ['-P', String(port)]),
      local,
      `${user === null ? '' : `${user}@`}${h}:${remote}`,
    ];
  }

  /** Open the control master and read the remote's `uname -rm`. */
  static async open(spec: SshSpec, uri: string, options: SshLegacyOptions = {}): Promise<SshLegacyRemote> {
    const remote = new SshLegacyRemote(spec, uri, options);
    try {
      await remote.#openMaster();
      const r = await remote.#ssh(['-t', 'uname -rm']);
      const words = r.code === 0 ? r.stdout.split(/[ \t\r\n]+/).filter(Boolean) : [];
      if (words.length !== 2) throw new Error(`failed to get uname from ${uri} : rc= ${String(r.code)}`);
      [remote.release, remote.machine] = words as [string, string];
      return remote;
    } catch (error) {
      await remote.close();
      throw error;
    }
  }

  async #openMaster(): Promise<void> {
    const master = await spawnProcess(this.sshArgs(['-N', '-M']) as [string, ...string[]], {
      name: `${this.#uri} (ssh control master)`,
      ownProcessGroup: true,
      ...(this.#options.env === undefined ? {} : { env: this.#options.env }),
    });
    this.#master = master;
    master.incoming$.subscribe({ error: () => undefined });
    let exited = false;
    void master.exit.then(() => (exited = true));
    const end = Date.now() + this.#timeout;
    while (!existsSync(this.#control)) {
      if (exited || Date.now() > end) {
        const status = exited ? await master.exit : null;
        throw new Error(
          `failed to create an ssh control master for ${this.#uri} : ${status ? `rc= ${String(status.code ?? status.signal)}` : `not ready within ${this.#timeout} ms`}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  #ssh(extra: readonly string[]): Promise<StepResult> {
    return run(this.sshArgs(extra), this.#options.env, this.#timeout);
  }

  /** `mktemp -d -t stapXXXXXX` on the remote. */
  async makeTempDir(): Promise<string> {
    const r = await this.#ssh(['-t', 'mktemp -d -t stapXXXXXX']);
    const lines = r.code === 0 ? r.stdout.split(/\r?\n/).filter(Boolean) : [];
    if (lines.length !== 1) throw new Error(`failed to make a tempdir on ${this.#uri} : rc=${String(r.code)}`);
    this.remoteDir = lines[0]!;
    return this.remoteDir;
  }

  /** scp a local file into the remote temp dir as `name`. */
  async upload(localPath: string, name: string): Promise<void> {
    if (this.remoteDir === null) throw new Error('upload before makeTempDir');
    const r = await run(this.scpArgs(localPath, `${this.remoteDir}/${name}`), this.#options.env, this.#timeout);
    if (r.code !== 0) throw new Error(`failed to copy the module to ${this.#uri} : rc=${String(r.code)}${r.stderr ? `: ${r.stderr.trim()}` : ''}`);
  }

  /** Write `bytes` to a local 0600 file and scp it into the remote temp dir as `name`. */
  async uploadBytes(bytes: Uint8Array, name: string): Promise<void> {
    const local = join(this.#localDir, 'upload');
    writeFileSync(local, bytes, { mode: 0o600 });
    try {
      await this.upload(local, name);
    } finally {
      rmSync(local, { force: true });
    }
  }

  /**
   * `ssh -t 'staprun …'`: the running module as a process transport (its
   * output on `incoming$`/`stderr$`, the remote status as `exit`). Not
   * bounded: it runs as long as the module does; close it (or `signalRun`) to
   * stop. With a temp dir, the remote shell first leaves its pid in
   * `TMPDIR/LEGACY_PID_FILE` and then `exec`s the command, so `signalRun`
   * can reach it. ssh runs in its own process group: a terminal's Ctrl-C is
   * the host's to forward.
   */
  runCommand(argv: readonly string[]): Promise<ProcessTransport> {
    const command = argv.map(remoteQuote).join(' ');
    const remote = this.remoteDir === null ? command : `echo $$ > ${remoteQuote(`${this.remoteDir}/${LEGACY_PID_FILE}`)} && exec ${command}`;
    return spawnProcess(this.sshArgs(['-t', remote]) as [string, ...string[]], {
      name: this.#uri,
      ownProcessGroup: true,
      ...(this.#options.env === undefined ? {} : { env: this.#options.env }),
    });
  }

  /**
   * Send `signal` to the command `runCommand` started, through the master:
   * `kill -SIG "$(cat TMPDIR/LEGACY_PID_FILE)"`. False when that failed (no
   * pid yet, the process is gone, the master is gone).
   */
  async signalRun(signal: 'INT' | 'HUP' | 'TERM', timeoutMs = 10_000): Promise<boolean> {
    if (this.remoteDir === null || this.#master === null) return false;
    const pidFile = remoteQuote(`${this.remoteDir}/${LEGACY_PID_FILE}`);
    const r = await run(this.sshArgs([`test -s ${pidFile} && kill -${signal} "$(cat ${pidFile})"`]), this.#options.env, Math.min(timeoutMs, this.#timeout)).catch(
      () => null,
    );
    return r !== null && r.code === 0;
  }

  /** `rm -r TMPDIR` on the remote (if one was made). */
  async removeTempDir(): Promise<void> {
    if (this.remoteDir === null) return;
    const dir = this.remoteDir;
    this.remoteDir = null;
    const r = await this.#ssh(['-t', `rm -r ${remoteQuote(dir)}`]);
    if (r.code !== 0) throw new Error(`failed to delete the tempdir on ${this.#uri} : rc=${String(r.code)}`);
  }

  /** `-O exit` the master (then make sure it is gone), remove the local control dir. Idempotent. */
  async close(): Promise<void> {
    const master = this.#master;
    this.#master = null;
    if (master) {
      if (existsSync(this.#control)) await this.#ssh(['-O', 'exit']).catch(() => undefined);
      await master.close();
    }
    rmSync(this.#localDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// A whole legacy run as a host session

/**
 * The release a legacy remote is treated as, as SystemTap does ("all <= 1.3
 * are approx equal"): no `-R`, no `-r`. It is also the `version` of the
 * hello a legacy session reports (there is no guest to say hello; machine
 * and kernel release come from `uname -rm`).
 */
export const LEGACY_RELEASE = '1.3';

export interface SshLegacySessionOptions extends SshLegacyOptions {
  readonly module: ModuleFile;
  readonly moduleArgs?: readonly string[];
  /** Called once the module is on the remote (scp gives no progress). */
  readonly onUploadProgress?: (sent: number, total: number, name: string) => void;
  /** How long `interrupt()`/`close()` keep trying to signal the remote staprun before closing the ssh session (default 5 s). */
  readonly signalTimeoutMs?: number;
  /** As `SessionOptions.outputHighWaterMark`. */
  readonly outputHighWaterMark?: number;
}

/**
 * Whether a failed session over ssh needs SystemTap's legacy mode: it ended
 * without a hello and ssh exited 127 (the remote command found no `stapsh`).
 */
export function needsSshLegacy(failed: SessionResult): boolean {
  return !failed.ok && failed.hello === null && classifySshExit(failed.exit) === 'no-stapsh';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * SystemTap's legacy ssh mode as a `HostSessionHandle`: master, `uname -rm`
 * (→ the hello: version `LEGACY_RELEASE`), `mktemp -d`, scp the module,
 * `ssh -t 'staprun TMPDIR/MODULE ARGS…'` with its stdout/stderr as
 * `output$`, then `rm -r TMPDIR` and the master's exit — on every path.
 *
 * `done`: `{ ok: true, hello, ended: 'eof', exit }` once staprun ran, `exit`
 * being ssh's status, i.e. the remote staprun's; `ok: false` (naming the
 * remote) when a step failed, ssh lost the connection (255) or was killed,
 * the run was closed by the host, or the temp dir could not be removed.
 *
 * There is no `quit` to send: `interrupt()` sends SIGINT to the remote
 * staprun (what a terminal's Ctrl-C through `ssh -t`'s pty delivers; staprun
 * then unloads the module, end probes included), `close()` SIGHUP (what a
 * pty hang-up delivers) and then closes the ssh session. Both go through
 * the master as `kill -SIG "$(cat TMPDIR/LEGACY_PID_FILE)"`; if that keeps
 * failing for `signalTimeoutMs`, the ssh session is closed instead. Before
 * staprun started, either one skips the run (clean-up still happens).
 */
export function startSshLegacySession(spec: SshSpec, uri: string, options: SshLegacySessionOptions): HostSessionHandle {
  const { module } = options;
  let remote: SshLegacyRemote | null = null;
  let running: ProcessTransport | null = null;
  // The run's ssh is the source: its stdout and stderr pause together.
  const output = new OutputFlow({ pause: () => running?.pause(), resume: () => running?.resume() }, options.outputHighWaterMark);
  let runExited = false;
  let stopRequested: 'interrupt' | 'close' | null = null;
  const { promise: hello, resolve: resolveHello, reject: rejectHello } = deferred<GuestHello>();

  const signalRun = async (signal: 'INT' | 'HUP'): Promise<void> => {
    const end = Date.now() + (options.signalTimeoutMs ?? 5_000);
    while (!runExited && Date.now() < end) {
      if (await remote?.signalRun(signal, Math.max(1, end - Date.now()))) return;
      if (runExited) return;
      await sleep(100);
    }
    if (!runExited) await running?.close();
  };

  const fail = (error: string, h: GuestHello | null, exit: ExitStatus | null = null): SessionResult => ({ ok: false, error: onRemote(error, uri), hello: h, exit });

  const stoppedEarly = (h: GuestHello) =>
    fail(`${stopRequested === 'close' ? 'closed by the host' : 'interrupted'} before the module ran (ssh legacy mode)`, h);

  const body = async (): Promise<SessionResult> => {
    let h: GuestHello | null = null;
    try {
      remote = await SshLegacyRemote.open(spec, uri, options);
      h = { version: LEGACY_RELEASE, machine: remote.machine, kernelRelease: remote.release };
      resolveHello(h);
      if (stopRequested) return stoppedEarly(h);
      const dir = await remote.makeTempDir();
      await remote.uploadBytes(module.bytes, module.name);
      options.onUploadProgress?.(module.bytes.length, module.bytes.length, module.name);
      if (stopRequested) return stoppedEarly(h);
      const proc = await remote.runCommand(legacyRunCommand(dir, module.name, options.moduleArgs ?? []));
      running = proc;
      void proc.exit.then(() => (runExited = true));
      const drained = (source: Observable<Uint8Array>, stream: 'stdout' | 'stderr') =>
        new Promise<void>((resolve) =>
          source.subscribe({ next: (bytes) => output.push({ stream, bytes }), complete: resolve, error: () => resolve() }),
        );
      // Subscribed in the same tick: nothing of either stream is missed.
      const both = Promise.all([drained(proc.incoming$, 'stdout'), drained(proc.stderr$, 'stderr')]);
      // A stop asked for while ssh was starting.
      if (stopRequested) void signalRun(stopRequested === 'close' ? 'HUP' : 'INT');
      const exit = await proc.exit;
      await Promise.race([both, sleep(2_000)]);
      await proc.close();
      if (stopRequested === 'close') return fail('closed by the host', h, exit);
      if (exit.code === null) return fail(`ssh was killed by ${exit.signal ?? 'a signal'} (ssh legacy mode)`, h, exit);
      const lost = classifySshExit(exit) === 'connection-failed' ? sshExitError(exit, uri) : null;
      if (lost) return { ok: false, error: lost.message, hello: h, exit };
      return { ok: true, hello: h, ended: 'eof', status: null, extensions: { status: false, nonce: false }, exit };
    } catch (error) {
      return fail(messageOf(error), h);
    }
  };

  const sequence = async (): Promise<SessionResult> => {
    let result = await body();
    // Clean up on every path: rm -r the temp dir, then the master.
    const r = remote as SshLegacyRemote | null;
    if (r) {
      try {
        await r.removeTempDir();
      } catch (error) {
        // A run that went well but left its temp dir behind is a failure, as in stap.
        if (result.ok) result = fail(messageOf(error), result.hello, result.exit);
      }
      await r.close().catch(() => undefined);
    }
    return result;
  };

  const finished = sequence().then((result) => {
    if (result.ok) resolveHello(result.hello);
    else rejectHello(new Error(result.error));
    output.end();
    return result;
  });

  return sessionHandle(output, {
    hello,
    done: finished,
    interrupt: () => {
      if (stopRequested) return;
      stopRequested = 'interrupt';
      if (running && !runExited) void signalRun('INT');
    },
    close: async () => {
      if (stopRequested !== 'close') {
        stopRequested = 'close';
        if (running && !runExited) await signalRun('HUP');
      }
      await finished;
    },
  });
}

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
 * One deliberate difference: the master runs in the foreground as our child
 * (`-N -M` without `-f`, ready once its control socket exists), so it is
 * killed with us instead of outliving a crashed host. Every step is bounded.
 */

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnProcess, type ProcessTransport } from '../../transports/processTransport.js';
import { sshArgv, type SshSpec } from '../../transports/ssh.js';

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

function run(argv: readonly string[], env: NodeJS.ProcessEnv | undefined, timeoutMs: number): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
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

  /**
   * `ssh -t 'staprun …'`: the running module as a process transport (its
   * output on `incoming$`/`stderr$`, the remote status as `exit`). Not
   * bounded: it runs as long as the module does; close it to stop.
   */
  runCommand(argv: readonly string[]): Promise<ProcessTransport> {
    return spawnProcess(this.sshArgs(['-t', argv.map(remoteQuote).join(' ')]) as [string, ...string[]], {
      name: this.#uri,
      ...(this.#options.env === undefined ? {} : { env: this.#options.env }),
    });
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

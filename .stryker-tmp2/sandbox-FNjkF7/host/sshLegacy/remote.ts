/**
 * A remote without `stapsh`, driven step by step through one control master
 * as SystemTap's legacy ssh mode does: `uname -rm`, `mktemp -d`, scp, the
 * staprun run, a signal to it, `rm -r`.
 */
// @ts-nocheck


import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnProcess, type ProcessTransport } from '../../transports/processTransport.js';
import type { SshSpec } from '../../transports/ssh.js';
import { ControlMaster, type SshLegacyOptions } from './master.js';
import { LEGACY_PID_FILE, remoteQuote, runStep } from './steps.js';

export class SshLegacyRemote {
  /** `uname -rm` of the remote. */
  release = '';
  machine = '';
  /** The remote temp dir, once made. */
  remoteDir: string | null = null;
  readonly #uri: string;
  readonly #master: ControlMaster;

  private constructor(spec: SshSpec, uri: string, options: SshLegacyOptions) {
    this.#uri = uri;
    this.#master = new ControlMaster(spec, uri, options);
  }

  /** `ssh -q -o ControlPath=CTL [USER@]HOST [-p PORT]` (+ `extra`). */
  sshArgs(extra: readonly string[] = []): string[] {
    return this.#master.sshArgs(extra);
  }

  /** `scp -q -o ControlPath=CTL [-P PORT] LOCAL [USER@]HOST:REMOTE`. */
  scpArgs(local: string, remote: string): string[] {
    return this.#master.scpArgs(local, remote);
  }

  /** Open the control master and read the remote's `uname -rm`. */
  static async open(spec: SshSpec, uri: string, options: SshLegacyOptions = {}): Promise<SshLegacyRemote> {
    const remote = new SshLegacyRemote(spec, uri, options);
    try {
      await remote.#master.start();
      const r = await remote.#master.ssh(['-t', 'uname -rm']);
      const words = r.code === 0 ? r.stdout.split(/[ \t\r\n]+/).filter(Boolean) : [];
      if (words.length !== 2) throw new Error(`failed to get uname from ${uri} : rc= ${String(r.code)}`);
      [remote.release, remote.machine] = words as [string, string];
      return remote;
    } catch (error) {
      await remote.close();
      throw error;
    }
  }

  /** `mktemp -d -t stapXXXXXX` on the remote. */
  async makeTempDir(): Promise<string> {
    const r = await this.#master.ssh(['-t', 'mktemp -d -t stapXXXXXX']);
    const lines = r.code === 0 ? r.stdout.split(/\r?\n/).filter(Boolean) : [];
    if (lines.length !== 1) throw new Error(`failed to make a tempdir on ${this.#uri} : rc=${String(r.code)}`);
    this.remoteDir = lines[0]!;
    return this.remoteDir;
  }

  /** scp a local file into the remote temp dir as `name`. */
  async upload(localPath: string, name: string): Promise<void> {
    if (this.remoteDir === null) throw new Error('upload before makeTempDir');
    const r = await runStep(this.#master.scpArgs(localPath, `${this.remoteDir}/${name}`), this.#master.env, this.#master.timeoutMs);
    if (r.code !== 0) throw new Error(`failed to copy the module to ${this.#uri} : rc=${String(r.code)}${r.stderr ? `: ${r.stderr.trim()}` : ''}`);
  }

  /** Write `bytes` to a local 0600 file and scp it into the remote temp dir as `name`. */
  async uploadBytes(bytes: Uint8Array, name: string): Promise<void> {
    const local = join(this.#master.localDir, 'upload');
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
    const env = this.#master.env;
    return spawnProcess(this.#master.sshArgs(['-t', remote]) as [string, ...string[]], {
      name: this.#uri,
      ownProcessGroup: true,
      ...(env === undefined ? {} : { env }),
    });
  }

  /**
   * Send `signal` to the command `runCommand` started, through the master:
   * `kill -SIG "$(cat TMPDIR/LEGACY_PID_FILE)"`. False when that failed (no
   * pid yet, the process is gone, the master is gone).
   */
  async signalRun(signal: 'INT' | 'HUP' | 'TERM', timeoutMs = 10_000): Promise<boolean> {
    if (this.remoteDir === null || !this.#master.open) return false;
    const pidFile = remoteQuote(`${this.remoteDir}/${LEGACY_PID_FILE}`);
    const r = await this.#master.ssh([`test -s ${pidFile} && kill -${signal} "$(cat ${pidFile})"`], timeoutMs).catch(() => null);
    return r !== null && r.code === 0;
  }

  /** `rm -r TMPDIR` on the remote (if one was made). */
  async removeTempDir(): Promise<void> {
    if (this.remoteDir === null) return;
    const dir = this.remoteDir;
    this.remoteDir = null;
    const r = await this.#master.ssh(['-t', `rm -r ${remoteQuote(dir)}`]);
    if (r.code !== 0) throw new Error(`failed to delete the tempdir on ${this.#uri} : rc=${String(r.code)}`);
  }

  /** Close the master and remove the local control dir. Idempotent. */
  close(): Promise<void> {
    return this.#master.close();
  }
}

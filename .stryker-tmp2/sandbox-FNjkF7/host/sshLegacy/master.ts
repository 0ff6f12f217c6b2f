/**
 * The ssh control master every step of SystemTap's legacy ssh mode goes
 * through (`-o ControlPath=CTL`), and the ssh/scp command lines that use it.
 *
 * Unlike stap's (`-f -N -M`, which outlives a crashed host), ours runs in
 * the foreground as our child (`-N -M`), ready once its control socket
 * exists, in its own process group; `close()` asks it to `-O exit` and then
 * makes sure it is gone.
 */
// @ts-nocheck


import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnProcess, type ProcessTransport } from '../../transports/processTransport.js';
import { sshArgv, type SshSpec } from '../../transports/ssh.js';
import { runStep, type StepResult } from './steps.js';

export interface SshLegacyOptions {
  readonly sshCommand?: string;
  readonly scpCommand?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Arguments for both ssh and scp, right after the program (`-F CONFIG`, `-o …`). */
  readonly extraSshArgs?: readonly string[];
  /** Bound on each step, the master's start included (default 30 s). */
  readonly stepTimeoutMs?: number;
}

export class ControlMaster {
  readonly #spec: SshSpec;
  readonly #uri: string;
  readonly #options: SshLegacyOptions;
  /** A private local dir for the control socket (and uploads staged for scp). */
  readonly localDir: string;
  readonly #control: string;
  #process: ProcessTransport | null = null;

  constructor(spec: SshSpec, uri: string, options: SshLegacyOptions) {
    this.#spec = spec;
    this.#uri = uri;
    this.#options = options;
    this.localDir = mkdtempSync(join(tmpdir(), 'stapflow-sshctl-'));
    this.#control = join(this.localDir, 'control');
  }

  /** Bound on each step. */
  get timeoutMs(): number {
    return this.#options.stepTimeoutMs ?? 30_000;
  }

  get env(): NodeJS.ProcessEnv | undefined {
    return this.#options.env;
  }

  /** Whether the master runs (until `close`). */
  get open(): boolean {
    return this.#process !== null;
  }

  /** `ssh -q -o ControlPath=CTL [USER@]HOST [-p PORT]` (+ `extra`). */
  sshArgs(extra: readonly string[] = []): string[] {
    const base = sshArgv(
      this.#spec,
      {
        extraSshArgs: [...(this.#options.extraSshArgs ?? []), '-o', `ControlPath=${this.#control}`],
        ...(this.#options.sshCommand === undefined ? {} : { sshCommand: this.#options.sshCommand }),
      },
      this.#uri,
    );
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

  /** One step through the master: `ssh … EXTRA`, bounded by `timeoutMs` (or less). */
  ssh(extra: readonly string[], timeoutMs = this.timeoutMs): Promise<StepResult> {
    return runStep(this.sshArgs(extra), this.env, Math.min(timeoutMs, this.timeoutMs));
  }

  /** Start the master and wait, bounded, for its control socket. */
  async start(): Promise<void> {
    const master = await spawnProcess(this.sshArgs(['-N', '-M']) as [string, ...string[]], {
      name: `${this.#uri} (ssh control master)`,
      ownProcessGroup: true,
      ...(this.env === undefined ? {} : { env: this.env }),
    });
    this.#process = master;
    master.incoming$.subscribe({ error: () => undefined });
    let exited = false;
    void master.exit.then(() => (exited = true));
    const end = Date.now() + this.timeoutMs;
    while (!existsSync(this.#control)) {
      if (exited || Date.now() > end) {
        const status = exited ? await master.exit : null;
        throw new Error(
          `failed to create an ssh control master for ${this.#uri} : ${status ? `rc= ${String(status.code ?? status.signal)}` : `not ready within ${this.timeoutMs} ms`}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** `-O exit` the master (then make sure it is gone), remove the local control dir. Idempotent. */
  async close(): Promise<void> {
    const master = this.#process;
    this.#process = null;
    if (master) {
      if (existsSync(this.#control)) await this.ssh(['-O', 'exit']).catch(() => undefined);
      await master.close();
    }
    rmSync(this.localDir, { recursive: true, force: true });
  }
}

/**
 * The remote commands of SystemTap's legacy ssh mode and the one way they
 * run: each step a bounded local ssh/scp process, its output collected.
 */
// @ts-nocheck


import { spawn } from 'node:child_process';

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

/** Run one step to its end, bounded: a step that outlives `timeoutMs` is killed and reported. */
export function runStep(argv: readonly string[], env: NodeJS.ProcessEnv | undefined, timeoutMs: number): Promise<StepResult> {
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

/**
 * The release a legacy remote is treated as, as SystemTap does ("all <= 1.3
 * are approx equal"): no `-R`, no `-r`. It is also the `version` of the
 * hello a legacy session reports (there is no guest to say hello; machine
 * and kernel release come from `uname -rm`).
 */
export const LEGACY_RELEASE = '1.3';

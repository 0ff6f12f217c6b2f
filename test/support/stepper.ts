/**
 * Drive a stapsh-speaking process step by step: write some bytes, then wait
 * until its output has been quiet for a moment (bounded), recording what
 * each step produced. Used to compare SystemTap's guest with ours.
 */

import { spawn, type ChildProcess } from 'node:child_process';

export interface Step {
  /** Bytes to write to the guest's stdin (as latin1 text). */
  readonly send?: string;
  /** Close stdin after this step's bytes. */
  readonly eof?: boolean;
  /** Send this signal to the guest process after the bytes. */
  readonly signal?: NodeJS.Signals;
  /** How long output must stay quiet before the step counts as answered (ms). */
  readonly quietMs?: number;
}

export interface StepResult {
  readonly sent: string;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SteppedRun {
  readonly steps: StepResult[];
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StepperOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Upper bound on the whole run (ms). */
  readonly timeoutMs?: number;
  /**
   * Time for the program to start before the first step (ms). Replies are
   * matched to steps by quiet periods, so a slow start (Node's) must not
   * push the first reply into the second step.
   */
  readonly startupMs?: number;
  /**
   * Instead of the fixed startup time: the program is ready to read once
   * this holds (polled, within `timeoutMs`), e.g. its temp dir exists.
   * A loaded machine can take seconds to start Node.
   */
  readonly ready?: () => boolean;
  /** Default quiet time of a step (ms). */
  readonly quietMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSteps(argv: readonly string[], steps: readonly Step[], options: StepperOptions = {}): Promise<SteppedRun> {
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  let lastOutput = Date.now();
  child.stdout!.setEncoding('latin1').on('data', (s: string) => {
    stdout += s;
    lastOutput = Date.now();
  });
  child.stderr!.setEncoding('latin1').on('data', (s: string) => {
    stderr += s;
    lastOutput = Date.now();
  });
  child.stdin!.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  let done = false;
  void exited.then(() => (done = true));
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  const results: StepResult[] = [];
  if (options.ready === undefined) await sleep(options.startupMs ?? 1000);
  else {
    while (!options.ready() && !done) {
      if (Date.now() > deadline) throw new Error(`${argv.join(' ')} not ready within the bound`);
      await sleep(10);
    }
  }
  try {
    for (const step of steps) {
      const before = { out: stdout.length, err: stderr.length };
      if (step.send !== undefined && !done) child.stdin!.write(Buffer.from(step.send, 'latin1'));
      if (step.eof) child.stdin!.end();
      if (step.signal && !done) child.kill(step.signal);
      const quiet = step.quietMs ?? options.quietMs ?? 150;
      lastOutput = Date.now();
      while (!done && Date.now() - lastOutput < quiet && Date.now() < deadline) await sleep(10);
      results.push({ sent: step.send ?? '', stdout: stdout.slice(before.out), stderr: stderr.slice(before.err) });
    }
    child.stdin!.end();
    const status = await Promise.race([exited, sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
    if (status === null) throw new Error(`${argv.join(' ')} did not exit within the bound`);
    return { steps: results, stdout, stderr, ...status };
  } finally {
    if (!done && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}

/**
 * Drive one stapsh-speaking process step by step over stdio: write bytes,
 * close stdin, send a signal, then wait for quiet output, for a pattern,
 * or for the process to exit (each wait bounded).
 */
// @ts-nocheck


import { spawn } from 'node:child_process';

export interface Step {
  /** Bytes to write (latin1 text). */
  readonly send?: string;
  /** Close stdin after this step's bytes. */
  readonly eof?: boolean;
  /** Signal the guest process after the bytes. */
  readonly signal?: NodeJS.Signals;
  /** Wait until this step's new output (stdout + stderr) matches. */
  readonly until?: RegExp;
  /** Wait until the guest exits. */
  readonly awaitExit?: boolean;
  /** Quiet time ending the step (ms); default from the options. */
  readonly quietMs?: number;
}

export interface StepResult {
  readonly sent: string;
  readonly stdout: string;
  readonly stderr: string;
}

export interface StepRun {
  readonly steps: StepResult[];
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The guest did not exit within the bound (it was SIGKILLed). */
  readonly timedOut: boolean;
  /** The guest could not be started. */
  readonly spawnError: string | null;
}

export interface StepOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Bound on the whole run (ms). */
  readonly timeoutMs: number;
  /** Sleep before the first step unless it waits for a pattern (ms). */
  readonly startupMs: number;
  /**
   * Instead of `startupMs`: the program is ready to read once this holds
   * (polled within `timeoutMs`), e.g. its temp dir exists. A loaded machine
   * can take seconds to start Node.
   */
  readonly ready?: () => boolean;
  /** Default quiet time per step (ms). */
  readonly quietMs: number;
  /** Bound on a pattern wait (ms). */
  readonly untilMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runSteps(argv: readonly string[], steps: readonly Step[], o: StepOptions): Promise<StepRun> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: o.env, detached: true });
  let stdout = '';
  let stderr = '';
  let lastOutput = Date.now();
  let spawnError: string | null = null;
  child.stdout.setEncoding('latin1').on('data', (s: string) => {
    stdout += s;
    lastOutput = Date.now();
  });
  child.stderr.setEncoding('latin1').on('data', (s: string) => {
    stderr += s;
    lastOutput = Date.now();
  });
  child.stdin.on('error', () => undefined);
  const st: { status: { code: number | null; signal: NodeJS.Signals | null } | null } = { status: null };
  const exited = new Promise<void>((resolve) => {
    child.once('error', (e) => {
      spawnError = e.message;
      st.status = { code: null, signal: null };
      resolve();
    });
    child.once('close', (code, signal) => {
      st.status = { code, signal };
      resolve();
    });
  });
  const deadline = Date.now() + o.timeoutMs;
  const results: StepResult[] = [];
  const alive = () => st.status === null && Date.now() < deadline;
  try {
    if (o.ready !== undefined) {
      while (alive() && !o.ready()) await sleep(10);
    } else if (steps[0]?.until === undefined) await sleep(o.startupMs);
    for (const step of steps) {
      const before = { out: stdout.length, err: stderr.length };
      if (step.send !== undefined && st.status === null) child.stdin.write(Buffer.from(step.send, 'latin1'));
      if (step.eof) child.stdin.end();
      if (step.signal && st.status === null) child.kill(step.signal);
      const since = () => stdout.slice(before.out) + stderr.slice(before.err);
      if (step.until) {
        const bound = Math.min(deadline, Date.now() + o.untilMs);
        while (alive() && Date.now() < bound && !step.until.test(since())) await sleep(5);
      }
      if (step.awaitExit) await Promise.race([exited, sleep(Math.max(0, deadline - Date.now()))]);
      const quiet = step.quietMs ?? o.quietMs;
      if (!step.until) lastOutput = Date.now();
      while (alive() && Date.now() - lastOutput < quiet) await sleep(5);
      results.push({ sent: step.send ?? '', stdout: stdout.slice(before.out), stderr: stderr.slice(before.err) });
    }
    child.stdin.end();
    await Promise.race([exited, sleep(Math.max(0, deadline - Date.now()))]);
    // Let the last output events land after close.
    await sleep(5);
    const timedOut = st.status === null;
    const s: { code: number | null; signal: NodeJS.Signals | null } = st.status ?? { code: null, signal: null };
    return { steps: results, stdout, stderr, code: s.code, signal: s.signal, timedOut, spawnError };
  } finally {
    if (st.status === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}

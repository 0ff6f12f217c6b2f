/**
 * The OS side of `staprunChild`: spawns the program with no shell, stdin
 * from /dev/null, stdout and stderr piped, and reports output and the exit.
 * The exit is reported only after both pipes are drained (bounded), so no
 * byte the child wrote is lost, unlike SystemTap's guest.
 */
// @ts-nocheck


import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { fromCallback } from 'xstate';
import type { ChildExit, ProcessCommand, ProcessRunner, ProcessSpec } from '../machines/childTypes.js';

/** Lets the output's consumer slow the child down. */
export interface OutputGate {
  /** A promise while the consumer is backlogged, else null. */
  backlog(): Promise<void> | null;
}

export interface ProcessActorOptions {
  readonly gate?: OutputGate;
  /** After the child exits, how long its pipes may stay open (a grandchild holding them). */
  readonly drainAfterExitMs?: number;
  /** Called with each child so the embedder can kill it on its own exit. */
  readonly track?: (child: ChildProcess) => () => void;
}

const REASONS: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  ENOEXEC: 'Exec format error',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  ENOMEM: 'Cannot allocate memory',
  E2BIG: 'Argument list too long',
  EAGAIN: 'Resource temporarily unavailable',
};

/** strerror(3)'s wording for a Node error code. */
export function reasonOf(error: NodeJS.ErrnoException): string {
  return (error.code && REASONS[error.code]) ?? error.message;
}

/**
 * Children still running. If the guest process exits without its machines
 * having stopped them (an exception, process.exit), they are SIGKILLed here:
 * the guest never leaves a child behind on an exit path it can catch.
 */
const running = new Set<ChildProcess>();
let exitHook = false;
function trackForExit(child: ChildProcess): () => void {
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
  }
  running.add(child);
  return () => running.delete(child);
}

/** The child as an XState callback actor (for `staprunChild.provide`). */
export function nodeProcessActor(options: ProcessActorOptions = {}) {
  const run = nodeProcessRunner(options);
  return fromCallback<ProcessCommand, ProcessSpec>(({ input, sendBack, receive }) => run(input, sendBack, receive));
}

/** The child as a `ProcessRunner` (for `GuestEffects.runProcess`). */
export function nodeProcessRunner(options: ProcessActorOptions = {}): ProcessRunner {
  const drainMs = options.drainAfterExitMs ?? 2_000;
  return (input, send, receive) => {
    let child: ChildProcess;
    try {
      child = spawn(input.path, input.argv.slice(1), {
        argv0: input.argv[0] ?? input.path,
        cwd: input.cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
        shell: false,
      });
    } catch (error) {
      send({ type: 'PROCESS.FAILED', reason: reasonOf(error as NodeJS.ErrnoException) });
      return;
    }
    const untrackExit = trackForExit(child);
    const untrackCaller = options.track?.(child) ?? (() => undefined);
    const untrack = () => {
      untrackExit();
      untrackCaller();
    };
    let spawned = false;
    let finished = false;
    let open = 2;
    let exit: ChildExit | null = null;
    let drainTimer: NodeJS.Timeout | undefined;
    let pausedPipes = 0;

    /**
     * After the child exits, its pipes may stay open because a grandchild
     * holds them: give up on them after `drainMs` of silence. The bound
     * counts only idle time: while output still flows, or waits for the
     * host to read it (paused for backpressure), nothing is cut off.
     */
    const armDrain = () => {
      if (exit === null || finished) return;
      if (drainTimer) clearTimeout(drainTimer);
      drainTimer = undefined;
      if (pausedPipes > 0) return;
      drainTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish();
      }, drainMs);
      drainTimer.unref();
    };

    const finish = () => {
      if (finished || exit === null) return;
      finished = true;
      if (drainTimer) clearTimeout(drainTimer);
      untrack();
      send({ type: 'PROCESS.EXITED', exit });
    };

    child.once('spawn', () => {
      spawned = true;
      send({ type: 'PROCESS.SPAWNED', pid: child.pid ?? -1 });
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (!spawned) {
        finished = true;
        untrack();
        send({ type: 'PROCESS.FAILED', reason: reasonOf(error) });
      }
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const pipe = child[stream]!;
      pipe.on('data', (chunk: Buffer) => {
        if (finished) return;
        send({ type: 'PROCESS.OUTPUT', stream, bytes: chunk });
        const wait = options.gate?.backlog();
        if (wait) {
          pipe.pause();
          pausedPipes += 1;
          void wait.then(() => {
            pausedPipes -= 1;
            pipe.resume();
            armDrain();
          });
        }
        armDrain();
      });
      pipe.once('close', () => {
        open -= 1;
        if (open === 0) finish();
      });
    }
    child.once('exit', (code, signal) => {
      exit =
        signal !== null
          ? { kind: 'signalled', signal, number: constants.signals[signal] ?? 0 }
          : { kind: 'exited', code: code ?? 0 };
      if (open === 0) finish();
      else armDrain();
    });

    receive((command) => {
      if (command.type === 'SIGNAL' && exit === null) {
        try {
          child.kill(command.signal);
        } catch {
          // already gone
        }
      }
    });

    return () => {
      // The machine stopped (guest ending): never leave the child behind.
      if (exit === null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
  };
}

/**
 * How every program in bin/ starts and ends.
 *
 * Ending: the status goes to `process.exitCode` and the process ends by
 * itself once stdout and stderr have drained; `process.exit()` with writes
 * still queued for a pipe would throw them away. Only if something still
 * keeps the event loop alive after both have drained (a handle a library
 * forgot to close) does an unref'd timer end the process, `EXIT_FALLBACK_MS`
 * later; by then nothing is left to lose.
 *
 * A closed stdout (EPIPE: `| head`, a reader that went away) ends a program
 * like a Unix filter killed by SIGPIPE, but cleanly: no message, no stack
 * trace, exit status `BROKEN_PIPE_STATUS` (141 = 128 + SIGPIPE, what a
 * shell reports for such a filter and what `set -o pipefail` scripts
 * expect). Programs that write as they go watch `stdoutClosed` and stop.
 */
// @ts-nocheck


import type { Writable } from 'node:stream';
import { describeError } from './words.js';

/** Exit status after stdout was closed by its reader. */
export const BROKEN_PIPE_STATUS = 141;

/** How long after stdout and stderr drained a lingering handle may keep the process alive. */
export const EXIT_FALLBACK_MS = 1_000;

const closed = new AbortController();

/**
 * Aborted when stdout's reader went away (EPIPE) or stdout failed
 * otherwise: stop producing output, clean up, return.
 */
export const stdoutClosed: AbortSignal = closed.signal;

let watching = false;
let brokenPipe = false;

/**
 * Catch write errors on stdout and stderr so they never surface as an
 * unhandled 'error' event (a stack trace). Idempotent.
 */
export function watchStdio(name: string): void {
  if (watching) return;
  watching = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (closed.signal.aborted) return;
    if (error.code === 'EPIPE') {
      brokenPipe = true;
      process.exitCode = BROKEN_PIPE_STATUS;
    } else {
      process.exitCode = 1;
      process.stderr.write(`${name}: cannot write to stdout: ${describeError(error)}\n`);
    }
    closed.abort();
  });
  // Nowhere left to report a failing stderr: the exit status still tells.
  process.stderr.on('error', () => undefined);
}

/** Resolves at `stream`'s next 'drain', or when it fails or closes (it will take nothing more then). */
export function nextDrain(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
    stream.on('close', done);
  });
}

/** Resolves once `stream` has nothing queued (or can take nothing more). */
function drained(stream: NodeJS.WriteStream, failed: () => boolean): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed || failed()) return Promise.resolve();
  return nextDrain(stream);
}

let stderrFailed = false;

/** Set the exit status and let the process end once stdout and stderr have drained. */
export async function finish(status: number): Promise<void> {
  process.exitCode = brokenPipe ? BROKEN_PIPE_STATUS : status;
  process.stderr.once('error', () => (stderrFailed = true));
  await Promise.all([drained(process.stdout, () => closed.signal.aborted), drained(process.stderr, () => stderrFailed)]);
  setTimeout(() => {
    // STAPFLOW_DEBUG_EXIT=1 names what kept the process alive (a handle someone forgot to close).
    if (process.env.STAPFLOW_DEBUG_EXIT) process.stderr.write(`exit fallback: still active: ${process.getActiveResourcesInfo().join(', ')}\n`);
    process.exit();
  }, EXIT_FALLBACK_MS).unref();
}

/**
 * Run a program's `main(argv)` and end as above. An error main did not
 * handle is one line on stderr, `NAME: words` (errno codes in words, see
 * words.ts), and status 1.
 */
export function launch(name: string, main: (argv: readonly string[]) => Promise<number>): void {
  watchStdio(name);
  main(process.argv.slice(2)).then(
    (status) => finish(status),
    (error: unknown) => {
      process.stderr.write(`${name}: ${describeError(error)}\n`);
      return finish(1);
    },
  );
}

/**
 * A whole run of SystemTap's legacy ssh mode as a host session
 * (`HostSessionHandle`): the steps of `SshLegacyRemote` in stap's order,
 * the run's output streamed, interrupts carried as signals to the remote
 * staprun, and the clean-up on every path.
 */
// @ts-nocheck


import type { Observable } from 'rxjs';
import type { GuestHello } from '../../machines/hostSession.js';
import { onRemote } from '../../protocol/remoteUri.js';
import type { ProcessTransport } from '../../transports/processTransport.js';
import { classifySshExit, sshExitError, type SshSpec } from '../../transports/ssh.js';
import type { ExitStatus } from '../../transports/transport.js';
import { deferred } from '../deferred.js';
import { sessionHandle, type HostSessionHandle, type ModuleFile, type SessionResult } from '../session.js';
import { OutputFlow, untilQuiet } from '../output.js';
import type { SshLegacyOptions } from './master.js';
import { SshLegacyRemote } from './remote.js';
import { LEGACY_RELEASE, legacyRunCommand } from './steps.js';

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
      const both = streamOutput(proc, output);
      // A stop asked for while ssh was starting.
      if (stopRequested) void signalRun(stopRequested === 'close' ? 'HUP' : 'INT');
      const exit = await proc.exit;
      // The pipes may outlive ssh (a grandchild holding them): read on while output comes or a
      // slow consumer holds it, and give up after 2 s of silence.
      await untilQuiet(both.done, both.chunks, () => output.paused, 2_000);
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
    const result = await body();
    // `remote` is read after the body: it is set inside it.
    return cleanUp(remote, result, fail);
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

/**
 * The run's stdout and stderr into `output`, subscribed in the same tick so
 * nothing of either is missed: `done` resolves when both ended, `chunks()`
 * counts what came so far.
 */
function streamOutput(proc: ProcessTransport, output: OutputFlow): { done: Promise<void>; chunks: () => number } {
  let chunks = 0;
  const drained = (source: Observable<Uint8Array>, stream: 'stdout' | 'stderr') =>
    new Promise<void>((resolve) =>
      source.subscribe({
        next: (bytes) => {
          chunks++;
          output.push({ stream, bytes });
        },
        complete: resolve,
        error: () => resolve(),
      }),
    );
  return { done: Promise.all([drained(proc.incoming$, 'stdout'), drained(proc.stderr$, 'stderr')]).then(() => undefined), chunks: () => chunks };
}

/** On every path: `rm -r` the temp dir, then close the master. A run that went well but left its temp dir behind is a failure, as in stap. */
async function cleanUp(
  remote: SshLegacyRemote | null,
  result: SessionResult,
  fail: (error: string, hello: GuestHello | null, exit: ExitStatus | null) => SessionResult,
): Promise<SessionResult> {
  if (remote === null) return result;
  try {
    await remote.removeTempDir();
  } catch (error) {
    if (result.ok) result = fail(messageOf(error), result.hello, result.exit);
  }
  await remote.close().catch(() => undefined);
  return result;
}

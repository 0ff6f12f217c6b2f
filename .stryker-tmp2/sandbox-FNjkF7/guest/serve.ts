/**
 * `serveGuest`: a whole guest in one call, as the `stapsh` CLI serves one.
 * Three ways to meet a host:
 * - `stdio`: one session on this process's stdin/stdout, stderr apart (as
 *   ssh or `socat EXEC:` starts a guest);
 * - `port`: one session on a character device in listening mode (a
 *   virtio-serial port or a pty), stderr merged, lines before the first
 *   `stap` ignored;
 * - `listen`: a unix socket (0600), each connection an independent session
 *   with its own temp dir, until `stop()`.
 * Everything else has the CLI's defaults.
 */
// @ts-nocheck


import { machine as osMachine, release as osRelease } from 'node:os';
import { tap } from 'rxjs';
import type { GuestActor } from '../machines/guestStapsh.js';
import type { GuestLimits } from '../machines/guestReplies.js';
import { NEWEST_RELEASE } from '../protocol/releases.js';
import { openCharDevice } from '../transports/charDevice.js';
import { fromFds } from '../transports/fdTransport.js';
import { listenUnix } from '../transports/unixSocket.js';
import { createTrace, recordGuestActor, traceSink, type Trace } from '../trace/recorder.js';
import { ioFromTransports, runGuestSession, type GuestIo, type GuestSessionOptions } from './session.js';
import { forwardSignals, heldSignals } from './signals.js';

export interface ServeGuestOptions {
  /** One session on stdio: `true` for fds 0/1/2, or other fds (`stderr: null` merges it into `output`). */
  readonly stdio?: true | { readonly input?: number; readonly output?: number; readonly stderr?: number | null };
  /** One session on a character device in listening mode (virtio-serial port, pty). */
  readonly port?: string;
  /** A unix socket path (`unix:PATH` accepted): one session per connection until `stop()`. */
  readonly listen?: string;
  /** Where staprun, stapdyn and stapbpf are executed from (default: $STAPSH_BINDIR, else /usr/bin). */
  readonly bindir?: string;
  /** The SystemTap release to behave as (default: the newest in the release table). */
  readonly release?: string;
  /** The hello's machine and kernel release (default: this host's `uname -m` and `uname -r`). */
  readonly machine?: string;
  readonly kernelRelease?: string;
  /** Debug lines on the guest's stderr, as `-v`s (default 0). */
  readonly verbose?: number;
  /** Bounds (default `DEFAULT_GUEST_LIMITS`: 10 s grace, 256 MB upload per session, …). */
  readonly limits?: Partial<GuestLimits>;
  /** Answer stapflow's extensions when a host asks (default true). */
  readonly extensions?: boolean;
  /** Parent of each session's private temp dir (default: $TMPDIR or /tmp). */
  readonly tmpdir?: string;
  /** A JSONL trace file (rotated at `traceMaxBytes`, default 64 MiB), or a trace from `createTrace()`. */
  readonly trace?: string | Trace;
  readonly traceMaxBytes?: number;
  /**
   * End sessions cleanly on SIGHUP/SIGINT/SIGTERM/SIGPIPE/SIGUSR1/SIGUSR2
   * as the CLI does (the child hung up and drained, the temp dir removed)
   * instead of dying of them (default false: the embedding program owns
   * its signals and calls `stop()`).
   */
  readonly signals?: boolean;
  /** Mode of the `listen` socket (default 0600). */
  readonly socketMode?: number;
  /** A session on `listen` that failed (default: one line on stderr). */
  readonly onSessionError?: (connection: string, error: unknown) => void;
}

export interface GuestServer {
  /**
   * The exit status: the child's for a `stdio` or `port` session (128+N
   * when killed by signal N, 0 when none ran), 0 for `listen` once
   * stopped and every session has ended.
   */
  readonly done: Promise<number>;
  /** End every session as `signal` would (default SIGTERM) and stop accepting. */
  stop(signal?: string): void;
}

/** `--trace`: every session's frames, states and child events into one trace. */
interface GuestTracing {
  wrap(io: GuestIo, options: GuestSessionOptions, session: string, mergeStderr: boolean): [GuestIo, GuestSessionOptions];
  close(): void;
}

function guestTracing(trace: string | Trace | undefined, maxBytes: number | undefined): GuestTracing {
  if (trace === undefined) return { wrap: (io, options) => [io, options], close: () => undefined };
  const owned = typeof trace === 'string';
  const t = owned ? createTrace({ source: 'stapsh' }) : trace;
  if (owned) t.events$.subscribe(traceSink(trace, { header: t.header, ...(maxBytes === undefined ? {} : { maxBytes }) }));
  return {
    wrap(io, options, session, mergeStderr) {
      const rec = t.recorders(session, 'guest');
      const tapped: GuestIo = { ...io, incoming$: io.incoming$.pipe(tap((chunk) => rec.onWire('host->guest', chunk))) };
      return [
        tapped,
        {
          ...options,
          inspect: rec.inspect,
          onActor: (actor) => {
            recordGuestActor(actor, t.emit, rec.onWire, { session, actor: 'guest', clock: t.clock, mergeStderr });
            options.onActor?.(actor);
          },
        },
      ];
    },
    // A caller's own trace stays open: it may record more than this guest.
    close: () => (owned ? t.close() : undefined),
  };
}

function stripUnix(path: string): string {
  return path.startsWith('unix:') ? path.slice('unix:'.length) : path;
}

/** Serve a guest; rejects when the channel cannot be opened (the error names it). */
export async function serveGuest(options: ServeGuestOptions): Promise<GuestServer> {
  const ways = [options.stdio !== undefined, options.port !== undefined, options.listen !== undefined].filter(Boolean).length;
  if (ways !== 1) throw new TypeError('serveGuest: give exactly one of stdio, port and listen');
  const base = (listening: boolean, onActor?: (a: GuestActor) => void): GuestSessionOptions => ({
    release: options.release ?? NEWEST_RELEASE,
    machine: options.machine ?? osMachine(),
    kernelRelease: options.kernelRelease ?? osRelease(),
    bindir: options.bindir ?? process.env.STAPSH_BINDIR ?? '/usr/bin',
    verbose: options.verbose ?? 0,
    listening,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.extensions === undefined ? {} : { extensions: options.extensions }),
    ...(options.tmpdir === undefined ? {} : { tmpdir: options.tmpdir }),
    ...(onActor ? { onActor } : {}),
  });
  const tracing = guestTracing(options.trace, options.traceMaxBytes);
  if (options.listen !== undefined) return serveUnix(stripUnix(options.listen), options, base, tracing);

  const one = heldSignals();
  const unhook = options.signals ? forwardSignals(one.send) : () => undefined;
  let io: GuestIo;
  let name: string;
  let closeAll: () => Promise<unknown>;
  try {
    if (options.port !== undefined) {
      const port = await openCharDevice(options.port);
      [io, name, closeAll] = [ioFromTransports(port), options.port, () => port.close()];
    } else {
      const fds = options.stdio === true ? {} : (options.stdio ?? {});
      const main = fromFds(fds.input ?? 0, fds.output ?? 1, { name: 'stdio' });
      const err = fds.stderr === null ? undefined : fromFds(null, fds.stderr ?? 2, { name: 'stderr' });
      [io, name, closeAll] = [ioFromTransports(main, err), 'stdio', () => Promise.allSettled([main.close(), err?.close()])];
    }
  } catch (error) {
    unhook();
    tracing.close();
    throw error;
  }
  const merged = options.port !== undefined || (options.stdio !== true && options.stdio?.stderr === null);
  const done = (async () => {
    try {
      const out = await runGuestSession(...tracing.wrap(io, base(options.port !== undefined, one.attach), name, merged));
      return out.exitCode;
    } finally {
      unhook();
      tracing.close();
      await closeAll();
    }
  })();
  return { done, stop: (signal = 'SIGTERM') => one.send(signal) };
}

async function serveUnix(
  path: string,
  options: ServeGuestOptions,
  base: (listening: boolean, onActor?: (a: GuestActor) => void) => GuestSessionOptions,
  tracing: GuestTracing,
): Promise<GuestServer> {
  let server;
  try {
    server = await listenUnix(path, { mode: options.socketMode ?? 0o600 });
  } catch (error) {
    tracing.close();
    throw error;
  }
  const actors = new Set<GuestActor>();
  const sessions = new Set<Promise<unknown>>();
  const onSessionError =
    options.onSessionError ??
    ((connection: string, error: unknown) =>
      process.stderr.write(`stapsh: session on ${connection} failed: ${error instanceof Error ? error.message : String(error)}\n`));
  let stopping = false;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  const stop = (signal = 'SIGTERM') => {
    stopping = true;
    for (const a of actors) a.send({ type: 'SIGNAL', signal });
    resolveStopped();
  };
  const unhook = options.signals
    ? forwardSignals((signal) => {
        if (signal !== 'SIGPIPE') stop(signal); // one broken client is that session's business
      })
    : () => undefined;
  const subscription = server.connections$.subscribe((conn) => {
    if (stopping) {
      void conn.close();
      return;
    }
    let mine: GuestActor | null = null;
    const session = runGuestSession(
      ...tracing.wrap(
        ioFromTransports(conn),
        base(false, (a) => {
          mine = a;
          actors.add(a);
        }),
        conn.name,
        true,
      ),
    )
      .catch((error: unknown) => onSessionError(conn.name, error))
      .finally(() => {
        if (mine) actors.delete(mine);
        sessions.delete(session);
        void conn.close();
      });
    sessions.add(session);
  });
  const done = (async () => {
    try {
      await stopped;
      subscription.unsubscribe();
      await server.close();
      await Promise.allSettled([...sessions]);
      tracing.close();
      return 0;
    } finally {
      unhook();
    }
  })();
  return { done, stop };
}

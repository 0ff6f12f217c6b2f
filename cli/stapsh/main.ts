/**
 * `stapsh`: the guest CLI. Three ways to meet a host: stdio (as ssh or
 * `socat EXEC:` starts it), a character device in listening mode (`-l`,
 * a virtio-serial port), or a unix socket serving many sessions (`--listen`).
 */

import { machine as unameMachine, release as unameRelease } from 'node:os';
import type { GuestActor } from '../../machines/guestStapsh.js';
import { fromFds } from '../../transports/fdTransport.js';
import { openCharDevice } from '../../transports/charDevice.js';
import { listenUnix } from '../../transports/unixSocket.js';
import { tap } from 'rxjs';
import { ioFromTransports, runGuestSession, type GuestIo, type GuestSessionOptions } from '../../guest/session.js';
import { createTrace, recordGuestActor, traceSink } from '../../trace/recorder.js';
import { parseStapshArgs, type StapshOptions } from './options.js';
import { forwardSignals, guardInspector, sessionSignals } from './signals.js';

function sessionOptions(o: StapshOptions, listening: boolean, onActor?: (a: GuestActor) => void): GuestSessionOptions {
  return {
    release: o.release,
    machine: unameMachine(),
    kernelRelease: unameRelease(),
    bindir: o.bindir,
    verbose: o.verbose,
    listening,
    limits: { graceMs: o.graceMs, maxUploadTotal: o.maxUploadTotal },
    extensions: o.extensions,
    ...(onActor ? { onActor } : {}),
  };
}

/** `--trace FILE`: every session's frames, states and child events into one rotating JSONL file. */
interface GuestTracing {
  wrap(io: GuestIo, options: GuestSessionOptions, session: string, mergeStderr: boolean): [GuestIo, GuestSessionOptions];
  close(): void;
}

function guestTracing(path: string | null, maxBytes: number): GuestTracing {
  if (path === null) return { wrap: (io, options) => [io, options], close: () => undefined };
  const trace = createTrace({ source: 'stapsh' });
  trace.events$.subscribe(traceSink(path, { header: trace.header, maxBytes }));
  return {
    wrap(io, options, session, mergeStderr) {
      const rec = trace.recorders(session, 'guest');
      const tapped: GuestIo = { ...io, incoming$: io.incoming$.pipe(tap((chunk) => rec.onWire('host->guest', chunk))) };
      return [
        tapped,
        {
          ...options,
          inspect: rec.inspect,
          onActor: (actor) => {
            recordGuestActor(actor, trace.emit, rec.onWire, { session, actor: 'guest', clock: trace.clock, mergeStderr });
            options.onActor?.(actor);
          },
        },
      ];
    },
    close: () => trace.close(),
  };
}

async function serveStdio(o: StapshOptions): Promise<number> {
  const main = fromFds(0, 1, { name: 'stdio' });
  const err = fromFds(null, 2, { name: 'stderr' });
  const signals = sessionSignals();
  try {
    const tracing = guestTracing(o.trace, o.traceMaxBytes);
    const out = await runGuestSession(...tracing.wrap(ioFromTransports(main, err), sessionOptions(o, false, signals.attach), 'stdio', false));
    tracing.close();
    return out.exitCode;
  } finally {
    signals.stop();
    await Promise.allSettled([main.close(), err.close()]);
  }
}

async function servePort(o: StapshOptions, path: string): Promise<number> {
  const port = await openCharDevice(path);
  const signals = sessionSignals();
  try {
    const tracing = guestTracing(o.trace, o.traceMaxBytes);
    const out = await runGuestSession(...tracing.wrap(ioFromTransports(port), sessionOptions(o, true, signals.attach), path, true));
    tracing.close();
    return out.exitCode;
  } finally {
    signals.stop();
    await port.close();
  }
}

async function serveUnix(o: StapshOptions, path: string): Promise<number> {
  const server = await listenUnix(path, { mode: 0o600 });
  const actors = new Set<GuestActor>();
  const sessions = new Set<Promise<unknown>>();
  let stopping = false;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  const stop = forwardSignals((signal) => {
    if (signal === 'SIGPIPE') return; // one broken client is that session's business
    stopping = true;
    for (const a of actors) a.send({ type: 'SIGNAL', signal });
    resolveStopped();
  });
  const tracing = guestTracing(o.trace, o.traceMaxBytes);
  const subscription = server.connections$.subscribe((conn) => {
    if (stopping) {
      void conn.close();
      return;
    }
    let mine: GuestActor | null = null;
    const session = runGuestSession(
      ...tracing.wrap(
        ioFromTransports(conn),
        sessionOptions(o, false, (a) => {
          mine = a;
          actors.add(a);
        }),
        conn.name,
        true,
      ),
    )
      .catch((error: unknown) => {
        process.stderr.write(`stapsh: session on ${conn.name} failed: ${String(error)}\n`);
      })
      .finally(() => {
        if (mine) actors.delete(mine);
        sessions.delete(session);
        void conn.close();
      });
    sessions.add(session);
  });
  try {
    await stopped;
    subscription.unsubscribe();
    await server.close();
    await Promise.allSettled([...sessions]);
    tracing.close();
    return 0;
  } finally {
    stop();
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  guardInspector();
  let o: StapshOptions;
  try {
    o = parseStapshArgs(argv);
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code ?? 2;
  }
  if (o.listen !== null) return serveUnix(o, o.listen);
  if (o.port !== null) return servePort(o, o.port);
  return serveStdio(o);
}

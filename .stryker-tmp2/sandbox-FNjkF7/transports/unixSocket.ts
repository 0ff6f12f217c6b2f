/** Unix socket client and server adapters. */
// @ts-nocheck


import { promises as fs } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { Observable, Subject } from 'rxjs';
import { errnoOf, toTransportError, TransportError } from './errors.js';
import { StreamTransport } from './streamTransport.js';
import type { TransportCapabilities } from './transport.js';

const SOCKET_CAPS: TransportCapabilities = { eofVisible: true, separateStderr: false, exitStatus: false };

/** A connected socket (created with `allowHalfOpen: true`) as a transport. */
export function socketTransport(socket: Socket, name: string): StreamTransport {
  return new StreamTransport(socket, socket, { name, capabilities: SOCKET_CAPS });
}

/** Options of `connectUnix`. */
export interface ConnectUnixOptions {
  /** Give up connecting after this long (default 10 000 ms). */
  readonly timeoutMs?: number;
  /** Defaults to `unix:PATH`. */
  readonly name?: string;
}

/**
 * Connect to a listening unix socket. Rejects with a `TransportError` naming
 * the path: `ENOENT` (no such socket), `ECONNREFUSED` (a stale socket file,
 * nobody listens), `ETIMEDOUT`.
 */
export function connectUnix(path: string, options: ConnectUnixOptions = {}): Promise<StreamTransport> {
  const name = options.name ?? `unix:${path}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const socket = connect({ path, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TransportError('ETIMEDOUT', name, `cannot connect to ${path}: no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    const onError = (err: Error) => {
      clearTimeout(timer);
      reject(toTransportError(err, name, `cannot connect to ${path}`));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socketTransport(socket, name));
    });
  });
}

/** A listening unix socket. */
export interface UnixListener {
  readonly path: string;
  readonly name: string;
  /**
   * One transport per accepted connection. Connections accepted while
   * nobody subscribes are queued and handed to the next subscriber; the
   * stream completes on `close()` and errors if the server fails.
   */
  readonly connections$: Observable<StreamTransport>;
  /** Stop accepting and remove the socket file; accepted connections stay open (they are the subscriber's). */
  close(): Promise<void>;
}

/** Options of `listenUnix`. */
export interface ListenUnixOptions {
  /** File mode of the socket (default 0o600). */
  readonly mode?: number;
  /** Defaults to `unix:PATH`; connections are named `NAME#N`. */
  readonly name?: string;
}

/** Does something accept connections on `path`? */
function probe(path: string): Promise<'live' | 'stale'> {
  return new Promise((resolve, reject) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve('live');
    });
    s.once('error', (err) => {
      const code = errnoOf(err);
      if (code === 'ECONNREFUSED' || code === 'ENOENT') resolve('stale');
      else reject(err);
    });
  });
}

/**
 * Listen on a unix socket at `path`. An existing socket file is removed only
 * if nothing listens there (`EADDRINUSE` otherwise, and also when `path` is
 * not a socket). The socket is created under umask 0177 (so 0600 from the
 * start) and then chmod'ed to `mode`; the umask is process-wide for that
 * moment, which a CLI can afford.
 */
export async function listenUnix(path: string, options: ListenUnixOptions = {}): Promise<UnixListener> {
  const name = options.name ?? `unix:${path}`;
  const st = await fs.lstat(path).catch(() => null);
  if (st !== null) {
    if (!st.isSocket()) throw new TransportError('EADDRINUSE', name, `${path} exists and is not a socket`);
    if ((await probe(path)) === 'live') throw new TransportError('EADDRINUSE', name, `something already listens on ${path}`);
    await fs.unlink(path).catch((err: unknown) => {
      if (errnoOf(err) !== 'ENOENT') throw toTransportError(err, name, `cannot remove stale ${path}`);
    });
  }

  const accepted = new Subject<StreamTransport>();
  const queue: StreamTransport[] = [];
  let count = 0;
  let closed = false;
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    if (closed) {
      socket.destroy();
      return;
    }
    count += 1;
    const t = socketTransport(socket, `${name}#${count}`);
    if (accepted.observed) accepted.next(t);
    else queue.push(t);
  });
  // Bind with a umask that leaves the socket file private from its creation,
  // so there is no window before the chmod below in which others may connect.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(toTransportError(err, name, `cannot listen on ${path}`)));
      server.listen({ path }, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  server.on('error', (err) => {
    if (!closed) accepted.error(toTransportError(err, name));
  });
  let ino: number | undefined;
  try {
    await fs.chmod(path, options.mode ?? 0o600);
    ino = (await fs.lstat(path)).ino;
  } catch (err) {
    server.close();
    throw toTransportError(err, name, `cannot chmod ${path}`);
  }

  const connections$ = new Observable<StreamTransport>((subscriber) => {
    const sub = accepted.subscribe(subscriber);
    while (queue.length > 0 && !subscriber.closed) subscriber.next(queue.shift()!);
    return sub;
  });

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    closed = true;
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    accepted.complete();
    await Promise.all(queue.splice(0).map((t) => t.close()));
    // server.close() calls back only after every accepted connection has
    // ended; those are the subscriber's, so don't wait for them.
    void done;
    // libuv unlinks the path on close; remove it ourselves if it is still ours.
    const now = await fs.lstat(path).catch(() => null);
    if (now !== null && now.ino === ino) await fs.unlink(path).catch(() => undefined);
  };
  return {
    path,
    name,
    connections$,
    close: () => (closing ??= close()),
  };
}

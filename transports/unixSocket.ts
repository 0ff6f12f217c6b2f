/** Unix socket client and server adapters. */

import { promises as fs } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Observable, Subject } from 'rxjs';
import { TransportError } from './errors.js';
import { streamTransport } from './streamTransport.js';
import type { Transport } from './transport.js';

const CAPS = { eofVisible: true, separateStderr: false, exitStatus: false } as const;

export function socketTransport(socket: Socket, name: string): Transport {
  return streamTransport(socket, socket, { name, capabilities: CAPS });
}

export interface ConnectOptions {
  /** Give up connecting after this long (default 10 s). */
  readonly timeoutMs?: number;
}

/** Connect to a listening unix socket. */
export function connectUnix(path: string, options: ConnectOptions = {}): Promise<Transport> {
  const name = `unix:${path}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TransportError('ETIMEDOUT', name, `no connection within ${options.timeoutMs ?? 10_000} ms`));
    }, options.timeoutMs ?? 10_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socketTransport(socket, name));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(TransportError.from(error, name));
    });
  });
}

export interface UnixServer {
  readonly path: string;
  /** One transport per accepted connection. */
  readonly connections$: Observable<Transport>;
  /** Stop accepting and remove the socket file; open connections stay. */
  close(): Promise<void>;
}

export interface ListenOptions {
  /** File mode of the socket (default 0600). */
  readonly mode?: number;
}

/** Is something accepting connections on `path`? */
async function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** Listen on a unix socket; a stale socket file is replaced, a live one is an error. */
export async function listenUnix(path: string, options: ListenOptions = {}): Promise<UnixServer> {
  const name = `unix:${path}`;
  const st = await fs.lstat(path).catch(() => null);
  if (st) {
    if (!st.isSocket()) throw new TransportError('OTHER', name, `${path} exists and is not a socket`);
    if (await isLive(path)) throw new TransportError('OTHER', name, `something is already listening on ${path}`);
    await fs.unlink(path);
  }
  const connections = new Subject<Transport>();
  let counter = 0;
  const server: Server = createServer((socket) => {
    counter += 1;
    connections.next(socketTransport(socket, `${name}#${counter}`));
  });
  // Create the socket file already private: no window where others may connect.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(TransportError.from(error, name)));
      server.listen({ path }, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  await fs.chmod(path, options.mode ?? 0o600);
  let closed = false;
  return {
    path,
    connections$: connections.asObservable(),
    async close() {
      if (closed) return;
      closed = true;
      // server.close() only calls back once every connection has ended; the
      // sessions are the caller's to end, so don't wait for them here.
      server.close();
      connections.complete();
      await fs.unlink(path).catch(() => undefined);
    },
  };
}

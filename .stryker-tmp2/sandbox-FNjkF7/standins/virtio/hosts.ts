/**
 * The host side of the virtio stand-in: a unix socket serving one host at a
 * time, as QEMU's socket chardev does (it does not accept while a client is
 * connected). Later hosts are QUEUED (accepted, neither read nor written)
 * and served in arrival order once the current one left; at most
 * `maxQueued` wait, more are closed at once.
 */
// @ts-nocheck


import { chmodSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { removeIfThere } from './pty.js';

export interface OneHostOptions {
  readonly socket: string;
  readonly maxQueued: number;
  readonly mode: number;
  /** A host's turn came: serve it (it is paused; resume it to read). */
  readonly serve: (host: Socket) => void;
  /** The served host left; call `next()` when the port is ready for the next one. */
  readonly left: (host: Socket, next: () => void) => void;
  readonly log: (message: string) => void;
}

export interface OneHostServer {
  readonly current: () => Socket | null;
  readonly queued: () => number;
  readonly refused: () => number;
  close(): Promise<void>;
}

export async function serveOneHostAtATime(options: OneHostOptions): Promise<OneHostServer> {
  let current: Socket | null = null;
  /** Between a host leaving and the port being ready again (`left` calls `next`). */
  let resetting = false;
  let refused = 0;
  let closing = false;
  const queue: Socket[] = [];
  const next = () => {
    resetting = false;
    if (closing || current !== null) return;
    while (queue.length > 0) {
      const conn = queue.shift()!;
      if (!conn.destroyed) {
        current = conn;
        options.serve(conn);
        return;
      }
    }
  };
  const server: Server = createServer({ pauseOnConnect: true }, (conn) => {
    conn.on('error', () => undefined);
    if (closing) {
      conn.destroy();
      return;
    }
    conn.once('close', () => {
      if (current === conn) {
        current = null;
        resetting = true;
        options.log('host disconnected');
        options.left(conn, next);
      } else {
        const i = queue.indexOf(conn);
        if (i >= 0) queue.splice(i, 1);
      }
    });
    if ((current !== null || resetting) && queue.length >= options.maxQueued) {
      refused++;
      options.log('host refused: queue full');
      conn.destroy();
      return;
    }
    if (current !== null || resetting) options.log('host queued: another host is connected or just left');
    queue.push(conn);
    if (!resetting) next();
  });
  removeIfThere(options.socket);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socket, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(options.socket, options.mode);
  return {
    current: () => current,
    queued: () => queue.length,
    refused: () => refused,
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of [current, ...queue.splice(0)]) conn?.destroy();
      current = null;
      await closed;
      removeIfThere(options.socket);
    },
  };
}

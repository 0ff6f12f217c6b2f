/**
 * A virtio-serial port stand-in, for tests and demos on a machine without a
 * VM: the guest side is a pty linked at `port` (the guest runs `stapsh -l
 * PORT`, as it would on `/dev/virtio-ports/org.systemtap.stapsh.0`), the
 * host side a unix socket at `socket` (what QEMU's `-chardev socket,server`
 * or libvirt's `<channel type='unix'>` gives the host).
 *
 * It does what a real port does (measured on a QEMU guest, see the README's
 * "Try it on a real VM"), not what a socket pair does:
 * - The port outlives the guest: guests come and go (`Restart=always`) and
 *   the host never sees it (no EOF). Bytes a host wrote while no guest had
 *   the port open wait for the next guest (QEMU stops reading the socket).
 * - The host leaving is seen by the guest: a real port's read() returns 0
 *   and write() fails with EAGAIN while no host is connected; here the pty
 *   is hung up (its master closed: the guest reads what was delivered, then
 *   EIO) and a fresh pty takes its place at `port` for the next guest. So a
 *   dead host's unread replies never reach the next host, and a guest
 *   session whose host vanished ends (our guest treats it as EOF).
 * - Guest → host while no host is connected is not read: the guest's writes
 *   back up and block (EAGAIN on a real port) until a host connects, which
 *   then gets them. Nothing is dropped, nothing is buffered without bound.
 * - One host at a time, like QEMU's socket chardev (standins/virtio/hosts.ts).
 *
 * Backpressure both ways: a host that does not read pauses our reading of
 * the pty; a guest that does not read fills the pty, socat, then our pipe,
 * and we stop reading the host's socket until it drains.
 */
// @ts-nocheck


import { existsSync, lstatSync, renameSync } from 'node:fs';
import type { Socket } from 'node:net';
import { serveOneHostAtATime } from './virtio/hosts.js';
import { removeIfThere, startPty, type StandinPty } from './virtio/pty.js';

export interface VirtioStandinOptions {
  /** Where the pty slave is linked: the guest's "virtio port" (`stapsh -l PORT`). */
  readonly port: string;
  /** The unix socket the host connects to (`stap --remote=unix:SOCKET`). */
  readonly socket: string;
  /** Hosts waiting while another is connected (default 8); more are refused. */
  readonly maxQueued?: number;
  /** The socat to run (default `socat` on PATH). */
  readonly socat?: string;
  /** Mode of the socket file (default 0600). */
  readonly socketMode?: number;
  /** Bound on socat creating a pty (default 5 s). */
  readonly startTimeoutMs?: number;
  /** Diagnostics (connections, hangups, socat's messages). */
  readonly log?: (message: string) => void;
}

export interface VirtioStandinStats {
  /** A host is connected now. */
  readonly hostConnected: boolean;
  /** Hosts waiting for the current one to leave. */
  readonly queued: number;
  /** Host connections served so far (including the current one). */
  readonly connections: number;
  /** Host connections refused because the queue was full. */
  readonly refused: number;
  /** Times the port was hung up because its host left. */
  readonly hangups: number;
  /** Bytes relayed guest → host (delivered to a host socket). */
  readonly toHost: number;
  /** Bytes relayed host → guest (handed to the pty side; the guest may not have read them yet). */
  readonly toGuest: number;
}

export interface VirtioStandin {
  readonly port: string;
  readonly socket: string;
  /** The pty slave the `port` link points at now (`/dev/pts/N`; a new one after each hangup). */
  pty(): string;
  stats(): VirtioStandinStats;
  /** Resolves when the stand-in stopped (after `close()`, or socat failing: then with its message). */
  readonly stopped: Promise<string | null>;
  /** Stop everything: hosts disconnected, socat ended, the socket and the port link removed. */
  close(): Promise<void>;
}

const DEFAULT_MAX_QUEUED = 8;

/** Start a stand-in; resolves once the port exists and the socket listens. */
export async function startVirtioStandin(options: VirtioStandinOptions): Promise<VirtioStandin> {
  const { port, socket } = options;
  const log = options.log ?? (() => undefined);
  const counters = { connections: 0, hangups: 0, toHost: 0, toGuest: 0 };
  let ptys = 0;
  const ptyOptions = () => ({
    // Made beside the port, then renamed over it: the port's path always leads to a pty. A name of
    // its own for each pty: socat removes its link when it exits, and an old socat exiting while
    // the next one starts would otherwise delete the new link (seen: the stand-in shut down after
    // ~20 back-to-back sessions, resetting the waiting host).
    link: `${port}.next.${++ptys}`,
    ...(options.socat === undefined ? {} : { socat: options.socat }),
    ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    log,
  });
  if (existsSync(port) && !lstatSync(port).isSymbolicLink()) throw new Error(`virtio stand-in: ${port} exists and is not a link`);
  let closing = false;
  let resolveStopped!: (why: string | null) => void;
  const stopped = new Promise<string | null>((resolve) => (resolveStopped = resolve));
  let host: Socket | null = null;

  let pty: StandinPty;
  /** A fresh pty at `port`, relaying to whichever host is current. */
  const freshPty = async (): Promise<StandinPty> => {
    const options = ptyOptions();
    const p = await startPty(options);
    renameSync(options.link, port);
    // Not read while no host is connected: the guest's writes wait for the next one.
    p.fromGuest.pause();
    p.fromGuest.on('data', (chunk: Buffer) => {
      const to = host;
      if (to === null || p !== pty) return; // a hung-up pty's last bytes: the host that could read them is gone
      counters.toHost += chunk.length;
      if (!to.write(chunk)) {
        p.fromGuest.pause();
        to.once('drain', () => p.fromGuest.resume());
      }
    });
    void p.ended.then((why) => {
      if (why !== null && p === pty && !closing) {
        log(why);
        void shutdown(why);
      }
    });
    return p;
  };
  pty = await freshPty();

  const serve = (conn: Socket) => {
    host = conn;
    counters.connections++;
    log(`host connected (#${counters.connections})`);
    const p = pty;
    conn.on('data', (chunk: Buffer) => {
      counters.toGuest += chunk.length;
      if (!p.toGuest.write(chunk)) {
        conn.pause();
        p.toGuest.once('drain', () => conn.resume());
      }
    });
    p.fromGuest.resume();
    conn.resume();
  };

  let hosts: Awaited<ReturnType<typeof serveOneHostAtATime>>;
  try {
    hosts = await serveOneHostAtATime({
      socket,
      maxQueued: options.maxQueued ?? DEFAULT_MAX_QUEUED,
      mode: options.socketMode ?? 0o600,
      log,
      serve,
      left: (_conn, next) => {
        host = null;
        counters.hangups++;
        // The host left: a fresh pty at the port for the next guest and host, then hang the old
        // one up (its guest reads what was delivered, then EIO: the host is gone).
        const old = pty;
        void freshPty()
          .then(async (fresh) => {
            if (closing) {
              await fresh.hangup(0);
              return;
            }
            pty = fresh;
            next();
            await old.hangup();
          })
          .catch((error: unknown) => void shutdown(`virtio stand-in: ${String(error)}`));
      },
    });
  } catch (err) {
    await pty.hangup(0);
    removeIfThere(port);
    throw err;
  }

  let shutting: Promise<void> | undefined;
  const shutdown = (why: string | null): Promise<void> =>
    (shutting ??= (async () => {
      closing = true;
      await hosts.close();
      host = null;
      await pty.hangup(0);
      removeIfThere(socket);
      removeIfThere(port);
      resolveStopped(why);
    })());

  return {
    port,
    socket,
    pty: () => pty.pty,
    stopped,
    stats: () => ({
      hostConnected: host !== null,
      queued: hosts.queued(),
      connections: counters.connections,
      refused: hosts.refused(),
      hangups: counters.hangups,
      toHost: counters.toHost,
      toGuest: counters.toGuest,
    }),
    close: () => shutdown(null),
  };
}

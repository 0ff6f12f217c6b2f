/**
 * A virtio-serial port stand-in, for tests and demos on a machine without a
 * VM: the guest side is a pty exposed at `port` (the guest runs `stapsh -l
 * PORT`, as it would on `/dev/virtio-ports/org.systemtap.stapsh.0`), the
 * host side a unix socket at `socket` (what QEMU's `-chardev socket,server`
 * or libvirt's `<channel type='unix'>` gives the host).
 *
 * It behaves as a real port does, not as a socket pair:
 * - The port outlives both ends. Guests come and go (`Restart=always`); the
 *   host connection never sees EOF because of that, only because the
 *   stand-in closes.
 * - Guest → host: while no host is connected, what the guest writes is kept
 *   (at most `maxBuffered` bytes, default 1 MiB; beyond that the oldest bytes
 *   are dropped and counted in `stats().dropped`) and handed to the next host
 *   that connects, before anything newer. Stale bytes are the host's problem
 *   (our host skips stale lines before a well-formed hello).
 * - Host → guest: what a host wrote and no guest has read stays in the pty
 *   (and behind it in socat and in our pipe to it) for the next guest, which
 *   ignores every line before the first `stap`. A host disconnecting is not
 *   seen by the guest at all.
 * - One host at a time, like QEMU's socket chardev: a second connection is
 *   QUEUED (accepted but not read from or written to) until the current host
 *   disconnects, then served in arrival order. QEMU does the same by not
 *   accepting while a client is connected. At most `maxQueued` (default 8)
 *   wait; more are refused (closed at once).
 *
 * How the pty is made and kept alive: Node cannot allocate a pty, so
 * `socat -d -d PTY,link=PORT,raw,echo=0 STDIO` does, and we relay its
 * stdin/stdout. The master is socat's. When the last holder of the slave
 * closes it, reads on the master fail with EIO (the "hangup" a guest
 * restart would cause); socat 1.7.4 happens to keep a slave fd of its own,
 * but we do not rely on it: we open the slave ourselves (O_RDWR|O_NOCTTY,
 * never read) for as long as the stand-in lives. That is what virtio's
 * always-present port looks like, and it also keeps the pty's input buffer
 * (the host's unread bytes) across guests: a tty's buffers are freed at its
 * last close.
 *
 * Backpressure both ways: a host that does not read pauses our reading of
 * socat (so the guest's writes eventually block, as on a full virtqueue); a
 * guest that does not read fills the pty, socat, then our pipe, and we stop
 * reading the host's socket until it drains.
 */

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, closeSync, constants, existsSync, lstatSync, openSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';

export interface VirtioStandinOptions {
  /** Where the pty slave is linked: the guest's "virtio port" (`stapsh -l PORT`). */
  readonly port: string;
  /** The unix socket the host connects to (`stap --remote=unix:SOCKET`). */
  readonly socket: string;
  /** Guest output kept while no host is connected (default 1 MiB); the oldest bytes beyond are dropped. */
  readonly maxBuffered?: number;
  /** Hosts waiting while another is connected (default 8); more are refused. */
  readonly maxQueued?: number;
  /** The socat to run (default `socat` on PATH). */
  readonly socat?: string;
  /** Mode of the socket file (default 0600). */
  readonly socketMode?: number;
  /** Bound on socat creating the pty (default 5 s). */
  readonly startTimeoutMs?: number;
  /** Diagnostics (connections, drops, socat's messages). */
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
  /** Guest output held for the next host, in bytes. */
  readonly buffered: number;
  /** Guest output dropped because `maxBuffered` was exceeded, in bytes. */
  readonly dropped: number;
  /** Bytes relayed guest → host (delivered to a host socket). */
  readonly toHost: number;
  /** Bytes relayed host → guest (handed to the pty side; the guest may not have read them yet). */
  readonly toGuest: number;
}

export interface VirtioStandin {
  readonly port: string;
  readonly socket: string;
  /** The pty slave the `port` link points at (`/dev/pts/N`). */
  readonly pty: string;
  stats(): VirtioStandinStats;
  /** Resolves when the stand-in stopped (after `close()`, or socat dying: then with its message). */
  readonly stopped: Promise<string | null>;
  /** Stop everything: hosts disconnected, socat ended, the socket and the port link removed. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_BUFFERED = 1024 * 1024;
const DEFAULT_MAX_QUEUED = 8;

/** Guest output held while no host is connected: bounded, oldest dropped first. */
class Backlog {
  #chunks: Buffer[] = [];
  size = 0;
  dropped = 0;
  constructor(private readonly max: number) {}
  push(chunk: Buffer): void {
    if (this.max <= 0) {
      this.dropped += chunk.length;
      return;
    }
    if (chunk.length >= this.max) {
      this.dropped += this.size + chunk.length - this.max;
      this.#chunks = [Buffer.from(chunk.subarray(chunk.length - this.max))];
      this.size = this.max;
      return;
    }
    this.#chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.max) {
      const first = this.#chunks[0]!;
      const excess = this.size - this.max;
      if (first.length <= excess) {
        this.#chunks.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.#chunks[0] = first.subarray(excess);
        this.size -= excess;
        this.dropped += excess;
      }
    }
  }
  take(): Buffer[] {
    const out = this.#chunks;
    this.#chunks = [];
    this.size = 0;
    return out;
  }
}

function removeIfThere(path: string): void {
  try {
    lstatSync(path);
  } catch {
    return;
  }
  rmSync(path, { force: true });
}

/** Start a stand-in; resolves once the port exists and the socket listens. */
export async function startVirtioStandin(options: VirtioStandinOptions): Promise<VirtioStandin> {
  const { port, socket } = options;
  const log = options.log ?? (() => undefined);
  const backlog = new Backlog(options.maxBuffered ?? DEFAULT_MAX_BUFFERED);
  const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  const counters = { connections: 0, refused: 0, toHost: 0, toGuest: 0 };

  if (existsSync(port) && !lstatSync(port).isSymbolicLink()) throw new Error(`virtio stand-in: ${port} exists and is not a link`);
  removeIfThere(port);
  removeIfThere(socket);

  const socat: ChildProcessWithoutNullStreams = spawn(
    options.socat ?? 'socat',
    ['-d', '-d', `PTY,link=${port},raw,echo=0`, 'STDIO'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let closing = false;
  let started = false;
  let resolveStopped!: (why: string | null) => void;
  const stopped = new Promise<string | null>((resolve) => (resolveStopped = resolve));
  let socatErr = '';
  let ptyPath: string | null = null;
  let ptyWaiter: ((path: string | null) => void) | null = null;
  socat.stderr.setEncoding('utf8').on('data', (s: string) => {
    socatErr = (socatErr + s).slice(-4096);
    const m = /PTY is (\S+)/.exec(socatErr);
    if (m && ptyPath === null) {
      ptyPath = m[1]!;
      ptyWaiter?.(ptyPath);
    }
    for (const line of s.split('\n')) if (line.trim()) log(`socat: ${line.trim()}`);
  });
  socat.stdin.on('error', () => undefined);
  const socatExit = new Promise<void>((resolve) =>
    socat.once('close', (code, signal) => {
      ptyWaiter?.(null);
      if (!closing && started) {
        const why = `socat exited (${signal ?? code}) ${socatErr.trim()}`;
        log(why);
        void shutdown(why);
      }
      resolve();
    }),
  );
  socat.once('error', (err) => {
    socatErr += String(err);
    ptyWaiter?.(null);
  });

  // Wait for socat to report the pty and create the link.
  const pty = await new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), options.startTimeoutMs ?? 5_000);
    ptyWaiter = (p) => {
      clearTimeout(timer);
      resolve(p);
    };
    if (ptyPath !== null) ptyWaiter(ptyPath);
  });
  ptyWaiter = null;
  const linkDeadline = Date.now() + (options.startTimeoutMs ?? 5_000);
  while (pty !== null && !existsSync(port) && Date.now() < linkDeadline) await new Promise((r) => setTimeout(r, 10));
  if (pty === null || !existsSync(port)) {
    closing = true;
    socat.kill('SIGKILL');
    await socatExit;
    removeIfThere(port);
    throw new Error(`virtio stand-in: socat did not create the pty: ${socatErr.trim() || 'no output'}`);
  }

  // The always-present port: hold the slave open ourselves (never read).
  let keepalive: number | null = openSync(pty, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);

  // ---- host side
  let host: Socket | null = null;
  const queue: Socket[] = [];

  const guestToHost = (chunk: Buffer) => {
    if (host === null) {
      backlog.push(chunk);
      return;
    }
    counters.toHost += chunk.length;
    if (!host.write(chunk)) {
      socat.stdout.pause();
      host.once('drain', () => socat.stdout.resume());
    }
  };
  socat.stdout.on('data', guestToHost);

  const serve = (conn: Socket) => {
    host = conn;
    counters.connections++;
    log(`host connected (#${counters.connections})`);
    // Stale bytes first, as a real port delivers what the guest wrote while nobody listened.
    const stale = backlog.take();
    for (const chunk of stale) {
      counters.toHost += chunk.length;
      conn.write(chunk);
    }
    conn.on('data', (chunk: Buffer) => {
      counters.toGuest += chunk.length;
      if (!socat.stdin.write(chunk)) {
        conn.pause();
        socat.stdin.once('drain', () => conn.resume());
      }
    });
    conn.resume();
  };

  const next = () => {
    while (queue.length > 0) {
      const conn = queue.shift()!;
      if (!conn.destroyed) {
        serve(conn);
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
      if (host === conn) {
        host = null;
        log('host disconnected');
        socat.stdout.resume();
        next();
      } else {
        const i = queue.indexOf(conn);
        if (i >= 0) queue.splice(i, 1);
      }
    });
    if (host === null) serve(conn);
    else if (queue.length < maxQueued) {
      log('host queued: another host is connected');
      queue.push(conn);
    } else {
      counters.refused++;
      log('host refused: queue full');
      conn.destroy();
    }
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(socket, options.socketMode ?? 0o600);
  } catch (err) {
    closing = true;
    socat.kill('SIGKILL');
    await socatExit;
    if (keepalive !== null) closeSync(keepalive);
    removeIfThere(port);
    throw err;
  }

  let shutting: Promise<void> | undefined;
  const shutdown = (why: string | null): Promise<void> =>
    (shutting ??= (async () => {
      closing = true;
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of [host, ...queue.splice(0)]) conn?.destroy();
      host = null;
      if (socat.exitCode === null && socat.signalCode === null) {
        socat.kill('SIGTERM');
        const t = setTimeout(() => socat.kill('SIGKILL'), 2_000);
        await socatExit;
        clearTimeout(t);
      }
      await serverClosed;
      if (keepalive !== null) {
        closeSync(keepalive);
        keepalive = null;
      }
      removeIfThere(socket);
      removeIfThere(port);
      resolveStopped(why);
    })());

  started = true;
  return {
    port,
    socket,
    pty,
    stopped,
    stats: () => ({
      hostConnected: host !== null,
      queued: queue.length,
      connections: counters.connections,
      refused: counters.refused,
      buffered: backlog.size,
      dropped: backlog.dropped,
      toHost: counters.toHost,
      toGuest: counters.toGuest,
    }),
    close: () => shutdown(null),
  };
}

const USAGE = `usage: virtio-standin --port PATH --socket PATH [--max-buffered BYTES] [--max-queued N] [-v]

A virtio-serial port stand-in: a pty linked at PORT for the guest
(\`stapsh -l PORT\`) and a unix socket at SOCKET for the host
(\`stap --remote=unix:SOCKET\`), with a real port's semantics: the port
outlives both ends, the host never sees the guest come and go, guest output
is kept (at most BYTES, default 1 MiB, oldest dropped) while no host is
connected, unread host bytes stay in the port for the next guest, one host
at a time (others wait in a queue of N, default 8). Needs socat.
Runs until SIGINT/SIGTERM, then removes PORT and SOCKET.
`;

/** The `virtio-standin` CLI. */
export async function main(argv: readonly string[]): Promise<number> {
  let port: string | undefined;
  let socket: string | undefined;
  let maxBuffered: number | undefined;
  let maxQueued: number | undefined;
  let verbose = false;
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new Error(`${flag} needs a non-negative integer`);
    return n;
  };
  try {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i]!;
      const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      const value = () => inline ?? argv[++i];
      switch (flag) {
        case '-h':
        case '--help':
          process.stdout.write(USAGE);
          return 0;
        case '--port':
          port = value();
          break;
        case '--socket':
          socket = value();
          break;
        case '--max-buffered':
          maxBuffered = num(flag, value());
          break;
        case '--max-queued':
          maxQueued = num(flag, value());
          break;
        case '-v':
        case '--verbose':
          verbose = true;
          break;
        default:
          throw new Error(`unknown argument ${a}`);
      }
    }
    if (!port || !socket) throw new Error('--port and --socket are required');
  } catch (err) {
    process.stderr.write(`virtio-standin: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const standin = await startVirtioStandin({
    port,
    socket,
    ...(maxBuffered !== undefined ? { maxBuffered } : {}),
    ...(maxQueued !== undefined ? { maxQueued } : {}),
    ...(verbose ? { log: (m: string) => process.stderr.write(`virtio-standin: ${m}\n`) } : {}),
  });
  process.stderr.write(`virtio-standin: port ${port} (${standin.pty}), socket ${socket}\n`);
  const onSignal = () => void standin.close();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const why = await standin.stopped;
  if (why !== null) {
    process.stderr.write(`virtio-standin: ${why}\n`);
    return 1;
  }
  return 0;
}

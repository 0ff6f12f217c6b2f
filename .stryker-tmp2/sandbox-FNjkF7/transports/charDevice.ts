/**
 * A character device opened read-write in listening mode, as a guest opens
 * its virtio-serial port (`/dev/virtio-ports/org.systemtap.stapsh.0`).
 *
 * A hangup is the host's absence: on a real virtio port (kernel
 * `drivers/char/virtio_console.c`) `read()` returns 0 and `write()` fails
 * with EAGAIN while no host has the port open (QEMU's socket chardev has no
 * client); on a pty (the stand-in) reads fail with EIO once the master is
 * closed. Before any byte has arrived that only means no host came yet: we
 * wait and read again (reopening a tty). After bytes arrived it means the
 * host that sent them went away: `incoming$` completes (`hostGone`), as EOF
 * does on a socket, and writes wait at most `lingerMs` for a host instead of
 * forever, so the session ends, its child is hung up and its temp dir
 * removed. Otherwise the session would hang on its writes and swallow the
 * next host's hello. A host that connects within `lingerMs` gets the ended
 * session's last words (its `quit`): our host then says its hello again. `eofVisible` stays false: a host that stays
 * connected never causes this, and the guest's own restart is invisible to it.
 *
 * How the device is read without blocking the event loop, and the traps:
 * - `fs.createReadStream` on a tty does blocking `read()`s on the libuv
 *   threadpool: each pending read pins a pool thread until a byte arrives,
 *   `destroy()` cannot interrupt it, and the process cannot even exit
 *   (`process.exit()` hangs in teardown) while it waits. Never use it here.
 * - `new net.Socket({ fd })` refuses a tty (`ERR_INVALID_FD_TYPE`) and a
 *   non-tty character device (libuv calls those files).
 * - What works for a tty (a pty in tests, `hvc0`): one `tty.ReadStream(fd)`
 *   used both ways; it is a full Duplex over a libuv TTY handle (epoll,
 *   non-blocking). Do not add a `tty.WriteStream` on the same fd: libuv
 *   reopens the pty and dup2()s it over the fd under the first handle.
 * - That reopen also leaks the fd you passed in: the handle works on (and
 *   closes) the new fd only. `ttyStream()` closes the original.
 * - Node's `setRawMode(true)` is not cfmakeraw: it leaves `opost onlcr` on,
 *   so every `\n` we write leaves as `\r\n`, and Node restores the cooked
 *   mode at exit. For a byte channel we run `stty -F PATH raw -echo`.
 * - A non-tty device (a real virtio port) has no pollable handle in Node:
 *   we open it O_NONBLOCK and poll with `fs.read`, backing off to `pollMs`
 *   while idle (EAGAIN) or hung up (read returns 0 while the host is away).
 */
// @ts-nocheck


import { execFile } from 'node:child_process';
import { constants, promises as fsp, open as fsOpen, read as fsRead, write as fsWrite, close as fsClose } from 'node:fs';
import { isatty } from 'node:tty';
import { Observable, Subject } from 'rxjs';
import { closedError, errnoOf, toTransportError, TransportError } from './errors.js';
import type { Transport, TransportCapabilities } from './transport.js';
import { ttyStream } from './ttyStream.js';

/** Options of `openCharDevice`. */
export interface CharDeviceOptions {
  /** Defaults to `chardev:PATH`. */
  readonly name?: string;
  /** For a tty: put it in raw mode with `stty -F PATH raw -echo` first (default true). */
  readonly raw?: boolean;
  /** For a non-tty device: the longest wait between polls while idle or hung up (default 20 ms). */
  readonly pollMs?: number;
  /** For a tty: how long to wait before reopening it after a hangup (default 100 ms, doubling to 1 s). */
  readonly reopenDelayMs?: number;
  /**
   * A hangup after bytes arrived ends `incoming$` (default true: see the
   * module comment); false listens on forever, a session ending on `quit` or `close()` only.
   */
  readonly hangupEndsSession?: boolean;
  /**
   * After the host left, how long writes still wait for a host (default 2 s):
   * one that connects meanwhile gets the ended session's last words (its
   * `quit`), which tell it that its own hello may have been read by this
   * session and must be said again.
   */
  readonly lingerMs?: number;
}

const CHARDEV_CAPS: TransportCapabilities = { eofVisible: false, separateStderr: false, exitStatus: false };
const READ_SIZE = 64 * 1024;

/** One open of the device; replaced after a hangup. */
interface Backend {
  setFlowing(on: boolean): void;
  write(bytes: Uint8Array): Promise<void>;
  readonly needsDrain: boolean;
  close(): Promise<void>;
}

interface Sink {
  data(chunk: Uint8Array): void;
  /** EOF or EIO: the far end went away (for now). */
  hangup(): void;
  /** read() returned 0 on a polled device (no host connected): true to keep polling. */
  idle(): boolean;
  /** A write waiting for a host (EAGAIN) should give up now. */
  writeExpired(): boolean;
  fail(err: TransportError): void;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function ttyBackend(fd: number, name: string, sink: Sink): Backend {
  const s = ttyStream(fd);
  let gone = false;
  const hangup = () => {
    if (gone) return;
    gone = true;
    s.destroy();
    sink.hangup();
  };
  s.pause();
  s.on('data', (chunk: Buffer) => sink.data(chunk));
  s.on('end', hangup);
  s.on('error', (err) => {
    if (errnoOf(err) === 'EIO' || errnoOf(err) === 'ENXIO') hangup();
    else if (!gone) {
      gone = true;
      sink.fail(toTransportError(err, name));
    }
  });
  return {
    setFlowing: (on) => (on ? s.resume() : s.pause()),
    write: (bytes) =>
      new Promise((resolve, reject) => {
        if (gone || s.destroyed) {
          reject(new TransportError('EIO', name, 'device hung up'));
          return;
        }
        s.write(bytes, (err) => (err ? reject(toTransportError(err, name)) : resolve()));
      }),
    get needsDrain() {
      return s.writableNeedDrain;
    },
    close: async () => {
      gone = true;
      if (s.closed) return;
      const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
      s.destroy();
      await closed;
    },
  };
}

function pollBackend(fd: number, name: string, pollMs: number, sink: Sink): Backend {
  let flowing = false;
  let reading = false;
  let closed = false;
  let idle = 1;
  let timer: NodeJS.Timeout | undefined;
  let writeChain: Promise<void> = Promise.resolve();
  let queued = 0;
  const schedule = (ms: number) => {
    if (timer === undefined && !closed) timer = setTimeout(() => ((timer = undefined), pump()), ms);
  };
  const pump = () => {
    if (!flowing || reading || closed) return;
    reading = true;
    const buf = Buffer.allocUnsafe(READ_SIZE);
    fsRead(fd, buf, 0, READ_SIZE, null, (err, n) => {
      reading = false;
      if (closed) return;
      if (err) {
        if (errnoOf(err) === 'EAGAIN') {
          idle = Math.min(idle * 2, pollMs);
          schedule(idle);
        } else if (errnoOf(err) === 'EIO') {
          schedule(pollMs);
        } else {
          closed = true;
          sink.fail(toTransportError(err, name));
        }
        return;
      }
      if (n === 0) {
        // 0 on a virtio port means "no host connected": before a session, listen on.
        if (sink.idle()) schedule(pollMs);
        return;
      }
      idle = 1;
      sink.data(buf.subarray(0, n));
      setImmediate(pump);
    });
  };
  const writeAll = async (bytes: Uint8Array): Promise<void> => {
    let at = 0;
    let wait = 1;
    while (at < bytes.length) {
      if (closed) throw closedError(name, 'closed while writing');
      try {
        at += await new Promise<number>((resolve, reject) =>
          fsWrite(fd, bytes, at, bytes.length - at, null, (err, n) => (err ? reject(err) : resolve(n))),
        );
        wait = 1;
      } catch (err) {
        if (errnoOf(err) !== 'EAGAIN') throw toTransportError(err, name);
        if (sink.writeExpired()) throw new TransportError('EPIPE', name, 'the host left the port');
        await sleep(wait);
        wait = Math.min(wait * 2, pollMs);
      }
    }
  };
  return {
    setFlowing(on) {
      flowing = on;
      if (on) pump();
    },
    write(bytes) {
      queued += bytes.length;
      const done = writeChain.then(() => writeAll(bytes)).finally(() => (queued -= bytes.length));
      writeChain = done.catch(() => undefined);
      return done;
    },
    get needsDrain() {
      return queued > READ_SIZE;
    },
    async close() {
      if (closed && timer === undefined && fd < 0) return;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await writeChain;
      while (reading) await sleep(1);
      await new Promise<void>((resolve) => fsClose(fd, () => resolve()));
      fd = -1;
    },
  };
}

async function makeRaw(path: string, name: string): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    execFile('stty', ['-F', path, 'raw', '-echo'], { timeout: 5000 }, (err, _out, stderr) =>
      err ? reject(new TransportError('EOTHER', name, `stty raw failed: ${stderr.trim() || err.message}`, { cause: err })) : resolve(),
    ),
  );
}

/** A character device in listening mode; see the module comment. */
export class CharDeviceTransport implements Transport {
  readonly name: string;
  readonly capabilities = CHARDEV_CAPS;
  readonly incoming$: Observable<Uint8Array>;
  /** How many times the far end hung up (EOF/EIO) while we listened. */
  hangups = 0;
  /** The host went away after sending bytes: `incoming$` completed, writes fail. */
  hostGone = false;
  #sawData = false;
  #goneAt = 0;
  #subject = new Subject<Uint8Array>();
  #backend: Backend | null = null;
  #userPaused = false;
  #ended = false;
  #closing: Promise<void> | undefined;
  #reopenTimer: NodeJS.Timeout | undefined;
  #reopenDelay: number;
  #pending = 0;
  #drainWaiters: Array<() => void> = [];
  #writeClosed = false;

  constructor(
    readonly path: string,
    private readonly tty: boolean,
    fd: number,
    private readonly options: CharDeviceOptions,
  ) {
    this.name = options.name ?? `chardev:${path}`;
    this.#reopenDelay = options.reopenDelayMs ?? 100;
    this.#backend = this.#attach(fd);
    this.incoming$ = new Observable<Uint8Array>((subscriber) => {
      const sub = this.#subject.subscribe(subscriber);
      this.#flow();
      return () => {
        sub.unsubscribe();
        this.#flow();
      };
    });
  }

  get needsDrain(): boolean {
    return this.#backend?.needsDrain ?? false;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#closing !== undefined || this.#writeClosed) return Promise.reject(closedError(this.name, 'write after close'));
    if (this.hostGone && (this.tty || Date.now() - this.#goneAt >= (this.options.lingerMs ?? 2_000))) {
      return Promise.reject(new TransportError('EPIPE', this.name, 'the host left the port'));
    }
    if (this.#backend === null) return Promise.reject(new TransportError('EIO', this.name, 'device hung up; waiting for it to come back'));
    this.#pending++;
    return this.#backend.write(bytes).finally(() => {
      if (--this.#pending === 0) for (const w of this.#drainWaiters.splice(0)) w();
    });
  }

  drained(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** A device has no half-close: later writes fail with `CLOSED`, reading goes on. */
  closeWrite(): Promise<void> {
    this.#writeClosed = true;
    return this.drained();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#end();
      if (this.#reopenTimer !== undefined) clearTimeout(this.#reopenTimer);
      const backend = this.#backend;
      this.#backend = null;
      await backend?.close();
    })();
    return this.#closing;
  }

  pause(): void {
    this.#userPaused = true;
    this.#flow();
  }

  resume(): void {
    this.#userPaused = false;
    this.#flow();
  }

  #end(err?: TransportError): void {
    if (this.#ended) return;
    this.#ended = true;
    if (err === undefined) this.#subject.complete();
    else this.#subject.error(err);
  }

  #flow(): void {
    this.#backend?.setFlowing(!this.#ended && !this.#userPaused && this.#subject.observed);
  }

  #attach(fd: number): Backend {
    const sink: Sink = {
      data: (chunk) => {
        this.#sawData = true;
        this.#subject.next(chunk);
      },
      hangup: () => this.#hangup(),
      idle: () => {
        if (!this.#endsOnHangup()) return true;
        this.hangups++;
        this.#goneHost(false);
        return false;
      },
      writeExpired: () => this.hostGone && Date.now() - this.#goneAt >= (this.options.lingerMs ?? 2_000),
      fail: (err) => {
        this.#backend = null;
        this.#end(err);
      },
    };
    return this.tty ? ttyBackend(fd, this.name, sink) : pollBackend(fd, this.name, this.options.pollMs ?? 20, sink);
  }

  #endsOnHangup(): boolean {
    return this.#sawData && (this.options.hangupEndsSession ?? true) && this.#closing === undefined;
  }

  /**
   * The host that talked to us left: EOF for the session. A tty (the
   * stand-in's hung-up pty) can take no more writes; a virtio port's writes
   * wait (bounded by `lingerMs`) for a host that may come.
   */
  #goneHost(closeBackend: boolean): void {
    this.hostGone = true;
    this.#goneAt = Date.now();
    if (!closeBackend) {
      // Reading stops with the end below; the backend stays for the lingering writes.
      this.#end();
      this.#flow();
      return;
    }
    const old = this.#backend;
    this.#backend = null;
    void old?.close();
    this.#end();
  }

  #hangup(): void {
    this.hangups++;
    if (this.#endsOnHangup()) {
      this.#goneHost(true);
      return;
    }
    const old = this.#backend;
    this.#backend = null;
    void old?.close();
    if (this.#closing !== undefined) return;
    const tryReopen = () => {
      this.#reopenTimer = undefined;
      if (this.#closing !== undefined) return;
      openFd(this.path)
        .then((fd) => {
          if (this.#closing !== undefined) return fsClose(fd, () => undefined);
          this.#reopenDelay = this.options.reopenDelayMs ?? 100;
          this.#backend = this.#attach(fd);
          this.#flow();
          return undefined;
        })
        .catch(() => {
          this.#reopenDelay = Math.min(this.#reopenDelay * 2, 1000);
          this.#reopenTimer = setTimeout(tryReopen, this.#reopenDelay);
        });
    };
    this.#reopenTimer = setTimeout(tryReopen, this.#reopenDelay);
  }
}

/**
 * Open a character device (or a FIFO) read-write in listening mode. Rejects
 * with a `TransportError` naming the path when it cannot be opened.
 */
export async function openCharDevice(path: string, options: CharDeviceOptions = {}): Promise<CharDeviceTransport> {
  const name = options.name ?? `chardev:${path}`;
  let fd: number;
  try {
    const st = await fsp.stat(path);
    if (!st.isCharacterDevice() && !st.isFIFO()) throw new TransportError('EINVAL', name, `${path} is not a character device`);
    fd = await openFd(path);
  } catch (err) {
    throw toTransportError(err, name, `cannot open ${path}`);
  }
  const tty = isatty(fd);
  if (tty && (options.raw ?? true)) {
    try {
      await makeRaw(path, name);
    } catch (err) {
      await new Promise<void>((resolve) => fsClose(fd, () => resolve()));
      throw err;
    }
  }
  return new CharDeviceTransport(path, tty, fd, options);
}

const OPEN_FLAGS = constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK;

function openFd(path: string, flags: number = OPEN_FLAGS): Promise<number> {
  return new Promise((resolve, reject) => fsOpen(path, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

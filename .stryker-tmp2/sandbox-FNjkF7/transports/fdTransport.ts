/**
 * A pre-opened file descriptor (or a pair) handed in by whoever started us:
 * an fd inherited from an embedding process (QEMU-style fd passing), one end
 * of a socketpair, our own stdio. The transport owns the fds: `close()`
 * closes them.
 *
 * Sockets and pipes/FIFOs get libuv stream handles (`net.Socket`: epoll
 * driven, real backpressure); a tty gets a `tty.ReadStream`/`WriteStream`
 * (`net.Socket` refuses tty fds with ERR_INVALID_FD_TYPE); a regular file
 * (stdio redirected from a file) gets fs streams, whose reads finish. Other
 * character devices are refused here: see `openCharDevice`.
 */
// @ts-nocheck


import { createReadStream, createWriteStream, fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { isatty, WriteStream as TtyWriteStream } from 'node:tty';
import { toTransportError, TransportError } from './errors.js';
import { StreamTransport } from './streamTransport.js';
import type { TransportCapabilities } from './transport.js';
import { ttyStream } from './ttyStream.js';

/** Options of `fromFd` / `fromFds`. */
export interface FdOptions {
  /** Defaults to `fd:N` or `fd:R,W`. */
  readonly name?: string;
  /** Defaults to `{ eofVisible: true, separateStderr: false, exitStatus: false }`. */
  readonly capabilities?: TransportCapabilities;
}

const FD_CAPS: TransportCapabilities = { eofVisible: true, separateStderr: false, exitStatus: false };

type FdKind = 'socket' | 'pipe' | 'tty' | 'file';

function kindOf(fd: number, name: string): FdKind {
  let st;
  try {
    st = fstatSync(fd);
  } catch (err) {
    throw toTransportError(err, name, `fd ${fd} is not open`);
  }
  if (st.isSocket()) return 'socket';
  if (st.isFIFO()) return 'pipe';
  if (isatty(fd)) return 'tty';
  // Other character devices (stdio redirected to /dev/null) take plain fs streams
  // too: a blocking device read holds a threadpool thread, which stdin can afford.
  if (st.isFile() || st.isCharacterDevice()) return 'file';
  throw new TransportError('EINVAL', name, `fd ${fd} is neither a socket, a pipe, a tty, a file nor a device`);
}

function readableFromFd(fd: number, name: string): Readable {
  switch (kindOf(fd, name)) {
    case 'socket':
    case 'pipe':
      return new Socket({ fd, readable: true, writable: false, allowHalfOpen: true });
    case 'tty':
      return ttyStream(fd);
    case 'file':
      return createReadStream('', { fd, autoClose: true });
  }
}

const WRITE_HIGH_WATER = 1024 * 1024;

function writableFromFd(fd: number, name: string): Writable {
  switch (kindOf(fd, name)) {
    case 'socket':
    case 'pipe':
      // A 1 MiB high-water mark: with the default 16 KiB every 64 KiB frame
      // "needs drain", and a producer that waits for 'drain' stalls on each one
      // (guest streaming went from ~280 to ~500 MiB/s with this).
      return new Socket({
        fd,
        readable: false,
        writable: true,
        allowHalfOpen: true,
        writableHighWaterMark: WRITE_HIGH_WATER,
      } as ConstructorParameters<typeof Socket>[0]);
    case 'tty':
      return new TtyWriteStream(fd);
    case 'file':
      return createWriteStream('', { fd, autoClose: true });
  }
}

/**
 * One fd used both ways: a connected stream socket (a socketpair end) or a
 * tty. `closeWrite()` on a socket sends EOF (shutdown) and keeps reading.
 * Any other kind of fd is refused with `EINVAL`: a pipe only goes one way
 * (use `fromFds`).
 */
export function fromFd(fd: number, options: FdOptions = {}): StreamTransport {
  const name = options.name ?? `fd:${fd}`;
  const caps = options.capabilities ?? FD_CAPS;
  const kind = kindOf(fd, name);
  if (kind === 'socket') {
    const socket = new Socket({ fd, readable: true, writable: true, allowHalfOpen: true });
    return new StreamTransport(socket, socket, { name, capabilities: caps });
  }
  if (kind === 'tty') {
    // One tty handle both ways: two libuv handles on one fd collide (see charDevice.ts).
    const tty = ttyStream(fd);
    return new StreamTransport(tty, tty, { name, capabilities: caps });
  }
  throw new TransportError('EINVAL', name, `fd ${fd} is a ${kind}, which goes one way: use fromFds(readFd, writeFd)`);
}

/**
 * A read fd and a write fd, e.g. two pipes, or stdin and stdout. Either may
 * be null: then `incoming$` completes at once, or writes fail with `CLOSED`.
 * `closeWrite()` closes the write fd, which the far end reads as EOF.
 */
export function fromFds(readFd: number | null, writeFd: number | null, options: FdOptions = {}): StreamTransport {
  const name = options.name ?? `fd:${readFd ?? '-'},${writeFd ?? '-'}`;
  return new StreamTransport(
    readFd === null ? null : readableFromFd(readFd, name),
    writeFd === null ? null : writableFromFd(writeFd, name),
    { name, capabilities: options.capabilities ?? FD_CAPS },
  );
}

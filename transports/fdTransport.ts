/**
 * A pre-opened file descriptor (or a pair) handed in by whoever started us:
 * our own stdio, a socketpair from an embedding process, an fd passed the
 * way QEMU passes them. Pipes and sockets get libuv stream handles (async,
 * with real backpressure); other kinds fall back to fs streams.
 */

import { createReadStream, createWriteStream, fstatSync } from 'node:fs';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { isatty, ReadStream as TtyReadStream, WriteStream as TtyWriteStream } from 'node:tty';
import { streamTransport } from './streamTransport.js';
import type { Transport } from './transport.js';

function isStreamFd(fd: number): boolean {
  const st = fstatSync(fd);
  return st.isFIFO() || st.isSocket();
}

/** A Readable over `fd` that does not block the event loop where the fd allows it. */
export function readableFromFd(fd: number): Readable {
  if (isStreamFd(fd)) return new Socket({ fd, readable: true, writable: false });
  if (isatty(fd)) return new TtyReadStream(fd);
  return createReadStream('', { fd, autoClose: true, highWaterMark: 64 * 1024 });
}

export function writableFromFd(fd: number): Writable {
  if (isStreamFd(fd)) return new Socket({ fd, readable: false, writable: true });
  if (isatty(fd)) return new TtyWriteStream(fd);
  return createWriteStream('', { fd, autoClose: true });
}

export interface FdOptions {
  readonly name?: string;
}

/** One fd used both ways (a socket from a socketpair). */
export function fromFd(fd: number, options: FdOptions = {}): Transport {
  const name = options.name ?? `fd:${fd}`;
  if (fstatSync(fd).isSocket()) {
    const socket = new Socket({ fd, readable: true, writable: true });
    return streamTransport(socket, socket, {
      name,
      capabilities: { eofVisible: true, separateStderr: false, exitStatus: false },
    });
  }
  return fromFds(fd, fd, options);
}

/** A read fd and a write fd (either may be null), e.g. stdin and stdout. */
export function fromFds(readFd: number | null, writeFd: number | null, options: FdOptions = {}): Transport {
  const name = options.name ?? `fd:${readFd ?? '-'},${writeFd ?? '-'}`;
  return streamTransport(readFd === null ? null : readableFromFd(readFd), writeFd === null ? null : writableFromFd(writeFd), {
    name,
    capabilities: { eofVisible: true, separateStderr: false, exitStatus: false },
  });
}

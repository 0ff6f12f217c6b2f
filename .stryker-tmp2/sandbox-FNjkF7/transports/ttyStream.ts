// @ts-nocheck
import { closeSync } from 'node:fs';
import { ReadStream } from 'node:tty';

/**
 * One `tty.ReadStream` on `fd`, used both ways (it is a full Duplex over a
 * libuv TTY handle), that owns the fd.
 *
 * The trap: for a pty slave, libuv's `uv_tty_init` reopens the device by
 * name (to get a file description it may make non-blocking), `dup2()`s the
 * new fd over ours and then works on the *new* fd. Destroying the stream
 * closes only that one: the fd we passed in stays open, one leak per open.
 * So when the handle ended up on another fd, close ours (never 0..2).
 */
export function ttyStream(fd: number): ReadStream {
  const stream = new ReadStream(fd);
  const handleFd = (stream as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd > 2 && typeof handleFd === 'number' && handleFd >= 0 && handleFd !== fd) closeSync(fd);
  return stream;
}

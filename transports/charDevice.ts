/**
 * A character device opened read-write in listening mode, as a guest opens
 * its virtio-serial port. The far end's exit is not visible: a virtio port
 * never reports EOF, so `eofVisible` is false and a session ends on `quit`.
 * A tty (a pty in tests) gets tty stream handles so reads don't occupy the
 * libuv threadpool; other devices use fs streams.
 */

import { constants, promises as fs } from 'node:fs';
import { isatty, ReadStream as TtyReadStream, WriteStream as TtyWriteStream } from 'node:tty';
import { createReadStream, createWriteStream } from 'node:fs';
import { streamTransport } from './streamTransport.js';
import type { Transport } from './transport.js';
import { TransportError } from './errors.js';

export async function openCharDevice(path: string): Promise<Transport> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, constants.O_RDWR | constants.O_NOCTTY);
  } catch (error) {
    throw TransportError.from(error, path);
  }
  const fd = handle.fd;
  const tty = isatty(fd);
  if (tty) {
    const reader = new TtyReadStream(fd);
    const writer = new TtyWriteStream(fd);
    return streamTransport(reader, writer, {
      name: path,
      capabilities: { eofVisible: false, separateStderr: false, exitStatus: false },
      onClose: async () => {
        await handle.close().catch(() => undefined);
      },
    });
  }
  const reader = createReadStream('', { fd: handle, autoClose: false });
  const writer = createWriteStream('', { fd: handle, autoClose: false });
  return streamTransport(reader, writer, {
    name: path,
    capabilities: { eofVisible: false, separateStderr: false, exitStatus: false },
    onClose: async () => {
      await handle.close().catch(() => undefined);
    },
  });
}

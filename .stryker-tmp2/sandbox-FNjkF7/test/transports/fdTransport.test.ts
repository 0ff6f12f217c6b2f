// @ts-nocheck
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fromFd, fromFds } from '../../transports/fdTransport.js';
import { StreamTransport } from '../../transports/streamTransport.js';
import { collect, fdCount, readBytes, removeTranspiled, settleFds, tempDir, transpiledTransports, within } from './helpers.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir('fd');
});
afterEach(() => dir.remove());

/** A FIFO's two ends as raw fds: a real kernel pipe, without a Node handle on it. */
function fifo(name: string): { readFd: number; writeFd: number } {
  const path = join(dir.path, name);
  execFileSync('mkfifo', [path]);
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  return { readFd, writeFd };
}

describe('fd transport: a pipe pair', () => {
  it('carries bytes and sees EOF when the write end is closed', async () => {
    const before = fdCount();
    const { readFd, writeFd } = fifo('loop');
    const t = fromFds(readFd, writeFd);
    expect(t.name).toBe(`fd:${readFd},${writeFd}`);
    const r = collect(t.incoming$);
    await t.write(Buffer.from('through the pipe'));
    await t.closeWrite();
    const res = await r;
    expect(res).toMatchObject({ end: 'complete', completions: 1 });
    expect(res.bytes.toString()).toBe('through the pipe');
    await t.close();
    expect(await settleFds(before)).toBe(before);
  });

  it('EPIPE once the reading end is gone; backpressure on a full pipe', async () => {
    const { readFd, writeFd } = fifo('full');
    const reader = fromFds(readFd, null, { name: 'reader' });
    const writer = fromFds(null, writeFd, { name: 'writer' });
    const chunk = Buffer.alloc(64 * 1024, 3);
    const writes: Promise<void>[] = [];
    let n = 0;
    while (!writer.needsDrain && n < 200) {
      writes.push(writer.write(chunk));
      n++;
    }
    expect(writer.needsDrain).toBe(true);
    const got = readBytes(reader.incoming$, n * chunk.length, 10_000);
    await within(writer.drained(), 10_000, 'drained');
    await Promise.all(writes);
    expect((await got).length).toBe(n * chunk.length);
    await reader.close();
    let err: unknown;
    for (let i = 0; i < 10 && err === undefined; i++) await writer.write(chunk).catch((e: unknown) => (err = e));
    expect(err).toMatchObject({ code: 'EPIPE', message: expect.stringContaining('writer') });
    await writer.close();
  });

  it('a null read fd ends at once, a null write fd refuses writes', async () => {
    const t = fromFds(null, null, { name: 'nothing' });
    expect((await collect(t.incoming$, 1000)).end).toBe('complete');
    await expect(t.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'CLOSED' });
    await t.close();
  });

  it('fromFd refuses a one-way fd and a closed fd', () => {
    const { readFd, writeFd } = fifo('oneway');
    expect(() => fromFd(readFd)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    closeSync(readFd);
    closeSync(writeFd);
    const file = join(dir.path, 'f');
    writeFileSync(file, 'x');
    const fd = openSync(file, 'r');
    expect(() => fromFd(fd)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    closeSync(fd);
    expect(() => fromFd(fd)).toThrow(/not open/);
  });
});

describe('fd transport: a socket fd handed to a child process', () => {
  let mods: string;
  beforeAll(() => {
    mods = transpiledTransports();
  });
  afterAll(() => removeTranspiled(mods));

  it('fromFd(3) in a child speaks over the inherited socketpair end, with half-close', async () => {
    // The child plays an embedded guest: it got fd 3 from its parent (as QEMU passes fds).
    const script = `
      import { fromFd } from ${JSON.stringify(`${mods}/fdTransport.js`)};
      const t = fromFd(3, { name: 'passed' });
      const parts = [];
      t.incoming$.subscribe({
        next: (c) => parts.push(Buffer.from(c)),
        complete: async () => {
          await t.write(Buffer.from(Buffer.concat(parts).toString().toUpperCase()));
          await t.write(Buffer.from(' ' + t.name + ' ' + JSON.stringify(t.capabilities.eofVisible)));
          await t.closeWrite();
          await t.close();
        },
      });
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const sock = child.stdio[3] as Socket;
      const parent = new StreamTransport(sock, sock, { name: 'parent' });
      const reply = collect(parent.incoming$, 10_000);
      await parent.write(Buffer.from('hello '));
      await parent.write(Buffer.from('fd'));
      await parent.closeWrite();
      const r = await reply;
      expect(r.end).toBe('complete');
      expect(r.bytes.toString()).toBe('HELLO FD passed true');
      expect(await within(exited, 10_000, 'child exit')).toBe(0);
      await parent.close();
    } finally {
      child.kill('SIGKILL');
    }
  });
});

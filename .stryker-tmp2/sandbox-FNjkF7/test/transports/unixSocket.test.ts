// @ts-nocheck
import { execFileSync } from 'node:child_process';
import { lstatSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransportError } from '../../transports/errors.js';
import { StreamTransport } from '../../transports/streamTransport.js';
import { connectUnix, listenUnix, type UnixListener } from '../../transports/unixSocket.js';
import { collect, fdCount, readBytes, settleFds, settlesWithin, sleep, tempDir, within } from './helpers.js';

let dir: ReturnType<typeof tempDir>;
let sock: string;
const cleanups: Array<() => Promise<unknown> | unknown> = [];

beforeEach(() => {
  dir = tempDir('unix');
  sock = join(dir.path, 's.sock');
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  dir.remove();
});

async function pair(): Promise<{ server: UnixListener; client: StreamTransport; conn: StreamTransport }> {
  const server = await listenUnix(sock);
  cleanups.push(() => server.close());
  const accepted = firstValueFrom(server.connections$);
  const client = await connectUnix(sock, { timeoutMs: 2000 });
  const conn = await within(accepted, 2000, 'accept');
  cleanups.push(() => client.close(), () => conn.close());
  return { server, client, conn };
}

/** A raw Node server whose accepted sockets go to `onSocket`. */
async function rawServer(onSocket: (s: Socket) => void): Promise<void> {
  const srv = createServer({ allowHalfOpen: true }, onSocket);
  await new Promise<void>((r) => srv.listen(sock, () => r()));
  cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
}

function staleSocketFile(path: string): void {
  // Bound but never listening, and left behind when python exits: a stale socket.
  execFileSync('python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])', path]);
}

describe('unix socket transport', () => {
  it('carries bytes both ways and names the path', async () => {
    const { client, conn } = await pair();
    expect(client.name).toBe(`unix:${sock}`);
    expect(client.capabilities).toEqual({ eofVisible: true, separateStderr: false, exitStatus: false });
    expect(conn.name).toBe(`unix:${sock}#1`);
    const got = readBytes(conn.incoming$, 5);
    await client.write(Buffer.from('hello'));
    expect((await got).toString()).toBe('hello');
    const back = readBytes(client.incoming$, 3);
    await conn.write(Buffer.from('bye'));
    expect((await back).toString()).toBe('bye');
  });

  it('loses nothing written before the first subscription', async () => {
    const { client, conn } = await pair();
    await conn.write(Buffer.from('early '));
    await conn.write(Buffer.from('bytes'));
    await conn.closeWrite();
    await sleep(50);
    const r = await collect(client.incoming$);
    expect(r.end).toBe('complete');
    expect(r.bytes.toString()).toBe('early bytes');
  });

  it('half-close: EOF reaches the far end, which can still answer', async () => {
    const { client, conn } = await pair();
    const serverSide = collect(conn.incoming$);
    await client.write(Buffer.from('request'));
    await client.closeWrite();
    const r = await serverSide;
    expect(r.end).toBe('complete');
    expect(r.bytes.toString()).toBe('request');
    const clientSide = collect(client.incoming$);
    await conn.write(Buffer.from('reply after EOF'));
    await conn.closeWrite();
    const c = await clientSide;
    expect(c).toMatchObject({ end: 'complete', completions: 1 });
    expect(c.bytes.toString()).toBe('reply after EOF');
    await expect(client.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('ECONNRESET when the peer resets (resetAndDestroy over TCP)', async () => {
    const srv = createServer((s) => {
      s.write('partial', () => setTimeout(() => s.resetAndDestroy(), 20));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    const port = (srv.address() as { port: number }).port;
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const t = new StreamTransport(socket, socket, { name: `tcp:127.0.0.1:${port}` });
    cleanups.push(() => t.close());
    const r = await collect(t.incoming$);
    expect(r.end).toBe('error');
    expect(r.bytes.toString()).toBe('partial');
    expect(r.error).toBeInstanceOf(TransportError);
    expect(r.error).toMatchObject({ code: 'ECONNRESET' });
    expect((r.error as Error).message).toContain(`tcp:127.0.0.1:${port}`);
    await expect(t.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  it('ECONNRESET on a unix socket whose peer closes with our bytes unread', async () => {
    let peer: Socket | undefined;
    await rawServer((s) => (peer = s));
    const client = await connectUnix(sock);
    cleanups.push(() => client.close());
    const r = collect(client.incoming$);
    await client.write(Buffer.from('never read'));
    await within(
      (async () => {
        while (peer === undefined) await sleep(5);
      })(),
      2000,
      'accept',
    );
    peer!.destroy();
    const res = await r;
    expect(res.end).toBe('error');
    expect(res.error).toMatchObject({ code: 'ECONNRESET' });
  });

  it('EPIPE when writing to a peer that has gone', async () => {
    let peer: Socket | undefined;
    await rawServer((s) => {
      peer = s;
      s.resume();
    });
    const client = await connectUnix(sock);
    cleanups.push(() => client.close());
    const r = collect(client.incoming$);
    await within(
      (async () => {
        while (peer === undefined) await sleep(5);
      })(),
      2000,
      'accept',
    );
    peer!.destroy();
    const res = await r;
    expect(res.end).toBe('complete'); // the peer's FIN first
    let err: unknown;
    for (let i = 0; i < 50 && err === undefined; i++) {
      await client.write(Buffer.alloc(65536)).catch((e: unknown) => (err = e));
    }
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).code).toMatch(/^(EPIPE|ECONNRESET)$/);
    expect((err as Error).message).toContain(`unix:${sock}`);
  });

  it('backpressure: needsDrain while the reader does not read, drained() after it does', async () => {
    const { client, conn } = await pair();
    const chunk = Buffer.alloc(256 * 1024, 7);
    const writes: Promise<void>[] = [];
    let i = 0;
    while (!client.needsDrain && i < 400) {
      writes.push(client.write(chunk));
      i++;
    }
    expect(client.needsDrain).toBe(true);
    const total = i * chunk.length;
    const drained = client.drained();
    expect(await settlesWithin(drained, 200)).toBe(false);
    const got = readBytes(conn.incoming$, total, 10_000);
    await within(drained, 10_000, 'drained');
    await Promise.all(writes);
    expect(client.needsDrain).toBe(false);
    expect((await got).length).toBe(total);
    expect(client.bytesWritten).toBe(total);
  });

  it('pause() holds data back, resume() lets it through', async () => {
    const { client, conn } = await pair();
    const seen: number[] = [];
    const sub = client.incoming$.subscribe((c) => seen.push(c.length));
    cleanups.push(() => sub.unsubscribe());
    client.pause();
    await conn.write(Buffer.from('held'));
    await sleep(100);
    expect(seen).toEqual([]);
    client.resume();
    await within(
      (async () => {
        while (seen.length === 0) await sleep(5);
      })(),
      2000,
      'resume',
    );
    expect(seen.reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('close() is idempotent, ends incoming$ exactly once, and rejects later writes', async () => {
    const { client } = await pair();
    const r = collect(client.incoming$);
    await Promise.all([client.close(), client.close()]);
    await client.close();
    const res = await r;
    expect(res).toMatchObject({ end: 'complete', completions: 1 });
    await expect(client.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'CLOSED' });
    // A late subscriber learns of the end at once.
    expect((await collect(client.incoming$, 500)).end).toBe('complete');
  });

  it('connectUnix: ENOENT and ECONNREFUSED name the path', async () => {
    await expect(connectUnix(join(dir.path, 'missing.sock'))).rejects.toMatchObject({
      code: 'ENOENT',
      message: expect.stringContaining('missing.sock'),
    });
    staleSocketFile(sock);
    await expect(connectUnix(sock, { timeoutMs: 2000 })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
      message: expect.stringContaining(sock),
    });
  });

  it('listenUnix: mode 0600, replaces a stale socket, refuses a live one or a plain file, unlinks on close', async () => {
    staleSocketFile(sock);
    const server = await listenUnix(sock);
    expect(lstatSync(sock).mode & 0o777).toBe(0o600);
    await expect(listenUnix(sock)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await server.close();
    await server.close();
    expect(existsSync(sock)).toBe(false);
    const file = join(dir.path, 'plain');
    writeFileSync(file, 'not a socket');
    await expect(listenUnix(file)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(existsSync(file)).toBe(true);
  });

  it('listenUnix: queues connections until subscribed; close() stops accepting and completes', async () => {
    const server = await listenUnix(sock, { mode: 0o660 });
    cleanups.push(() => server.close());
    expect(lstatSync(sock).mode & 0o777).toBe(0o660);
    const c1 = await connectUnix(sock);
    const c2 = await connectUnix(sock);
    cleanups.push(() => c1.close(), () => c2.close());
    await sleep(50);
    const conns = await within(firstValueFrom(server.connections$.pipe(take(2), toArray())), 2000, 'queued');
    expect(conns.map((c) => c.name)).toEqual([`unix:${sock}#1`, `unix:${sock}#2`]);
    for (const c of conns) cleanups.push(() => c.close());
    const done = new Promise<void>((resolve) => server.connections$.subscribe({ complete: () => resolve() }));
    await server.close();
    await within(done, 1000, 'connections$ complete');
    await expect(connectUnix(sock)).rejects.toBeInstanceOf(TransportError);
  });

  it('leaks no fds', async () => {
    const before = fdCount();
    for (let i = 0; i < 3; i++) {
      const server = await listenUnix(sock);
      const accepted = firstValueFrom(server.connections$);
      const client = await connectUnix(sock);
      const conn = await accepted;
      const got = readBytes(conn.incoming$, 2);
      await client.write(Buffer.from('hi'));
      await got;
      await client.close();
      await conn.close();
      await server.close();
    }
    await connectUnix(join(dir.path, 'nope')).catch(() => undefined);
    expect(await settleFds(before)).toBe(before);
  });
});

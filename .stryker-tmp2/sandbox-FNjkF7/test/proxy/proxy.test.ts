// @ts-nocheck
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type Proxy, type ProxyOptions } from '../../proxy/proxy.js';
import { parseProxyArgs } from '../../cli/stapsh-proxy/main.js';
import { parseToxic } from '../../proxy/toxics.js';
import { createTrace, type Trace } from '../../trace/recorder.js';
import type { TraceEvent } from '../../trace/format.js';
import { connectUnix } from '../../transports/unixSocket.js';
import type { Transport } from '../../transports/transport.js';
import { eventually, killAll, spawnTracked } from '../support/procs.js';
import { waitForUnixListener } from '../support/realPeers.js';

const PROXY_BIN = resolve(import.meta.dirname, '../../bin/stapsh-proxy.js');
let dir: string;
let n = 0;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-proxyunit-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  killAll();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fake guest: `onConnection` gets each socket; records what it received and whether it saw EOF/close. */
async function fakeGuest(onConnection: (s: Socket) => void = () => undefined) {
  const path = join(dir, `guest${n++}.sock`);
  const seen: Array<{ data: Buffer[]; eof: boolean; closed: boolean }> = [];
  const sockets: Socket[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    const rec = { data: [] as Buffer[], eof: false, closed: false };
    seen.push(rec);
    s.on('data', (d: Buffer) => rec.data.push(d));
    s.on('end', () => (rec.eof = true));
    s.on('close', () => (rec.closed = true));
    s.on('error', () => undefined);
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(path, r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        sockets.forEach((x) => x.destroy());
        server.close(() => r());
      }),
  );
  return { path, seen, received: (i = 0) => Buffer.concat(seen[i]?.data ?? []).toString('latin1') };
}

async function proxy(options: Omit<ProxyOptions, 'listen'>): Promise<Proxy & { trace: TraceEvent[] }> {
  const listen = join(dir, `proxy${n++}.sock`);
  const events: TraceEvent[] = [];
  const trace: Trace | undefined = options.trace ?? createTrace({ source: 'test' });
  trace.events$.subscribe((e) => events.push(e));
  const p = await startProxy({ ...options, listen, trace });
  cleanups.push(() => p.close());
  return Object.assign(p, { trace: events });
}

/** Read a transport to its end (bounded). */
function readAll(t: Transport, timeoutMs = 5_000): Promise<{ text: string; end: 'eof' | 'error' }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`no end within ${timeoutMs} ms; got ${Buffer.concat(chunks).toString('latin1')}`)), timeoutMs);
    const done = (end: 'eof' | 'error') => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), end });
    };
    t.incoming$.subscribe({ next: (b) => chunks.push(Buffer.from(b)), complete: () => done('eof'), error: () => done('error') });
  });
}

/** The trace's injected faults as [direction, message]. */
const faults = (trace: readonly TraceEvent[]) =>
  trace.flatMap((e) => (e.kind === 'transport' && e.what === 'fault' ? [[e.direction ?? '', e.message ?? '']] : []));

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

describe('stapsh-proxy in process', () => {
  it('relays both ways, forwards half-closes, records every chunk as frames', async () => {
    const guest = await fakeGuest((s) => {
      s.on('data', (d: Buffer) => {
        if (d.toString().includes('stap 4.8')) s.write('stapsh 4.8 x86_64 6.1\n');
      });
      s.on('end', () => s.end());
    });
    const p = await proxy({ upstream: { kind: 'unix', path: guest.path } });
    const client = await connectUnix(p.path);
    const reading = readAll(client);
    await client.write(bytes('stap 4.8\n'));
    await eventually(() => guest.received().length > 0, 2_000, 'the guest got the hello');
    await client.closeWrite();
    const r = await reading;
    expect(r).toEqual({ text: 'stapsh 4.8 x86_64 6.1\n', end: 'eof' });
    expect(guest.received()).toBe('stap 4.8\n');
    await eventually(() => guest.seen[0]!.closed && p.open === 0, 2_000, 'both sides closed');
    await client.close();
    const frames = p.trace.filter((e) => e.kind === 'frame');
    expect(frames.map((f) => [f.actor, 'direction' in f ? f.direction : '', 'summary' in f ? f.summary : ''])).toEqual([
      ['proxy', 'host->guest', 'stap 4.8'],
      ['proxy', 'guest->host', 'stapsh 4.8 x86_64 6.1'],
    ]);
    // No toxics: the two ends, and no faults.
    expect(p.trace.filter((e) => e.kind === 'transport').map((e) => e.what)).toEqual(['eof', 'eof']);
  });

  it('limit_data:downstream forwards exactly N bytes, then closes both sides', async () => {
    const guest = await fakeGuest((s) => s.write('x'.repeat(100)));
    const p = await proxy({ upstream: { kind: 'unix', path: guest.path }, toxics: [parseToxic('limit_data:downstream:bytes=7')] });
    const client = await connectUnix(p.path);
    const r = await readAll(client);
    expect(r.text).toBe('xxxxxxx');
    await eventually(() => guest.seen[0]!.eof, 2_000, 'the guest side closed');
    await client.close();
    expect(faults(p.trace)).toEqual([
      ['guest->host', 'toxic limit_data:downstream:bytes=7'],
      ['guest->host', 'limit_data: byte limit reached, both sides closed'],
    ]);
  });

  it('limit_data:upstream with slicer and latency forwards exactly N bytes of what the host sent', async () => {
    const guest = await fakeGuest();
    const p = await proxy({
      upstream: { kind: 'unix', path: guest.path },
      toxics: ['limit_data:upstream:bytes=10', 'slicer:upstream:avg=3,var=2', 'latency:upstream:ms=5,jitter=5'].map(parseToxic),
      seed: 3,
    });
    const client = await connectUnix(p.path);
    const reading = readAll(client);
    await client.write(bytes('0123456789abcdef'));
    expect((await reading).text).toBe('');
    await eventually(() => guest.seen[0]!.eof, 2_000, 'the guest side closed');
    expect(guest.received()).toBe('0123456789');
    await client.close();
  });

  it('down refuses at once without reaching the guest; toxicity=0 never applies', async () => {
    const guest = await fakeGuest((s) => s.end('hi\n'));
    const p = await proxy({ upstream: { kind: 'unix', path: guest.path }, toxics: [parseToxic('down:both')] });
    const client = await connectUnix(p.path);
    expect((await readAll(client, 2_000)).text).toBe('');
    expect(guest.seen).toHaveLength(0);
    await client.close();
    expect(faults(p.trace)).toEqual([
      ['', 'toxic down:both'],
      ['', 'down: connection refused'],
    ]);
    const q = await proxy({ upstream: { kind: 'unix', path: guest.path }, toxics: [parseToxic('down:both:toxicity=0')] });
    const c2 = await connectUnix(q.path);
    expect((await readAll(c2, 2_000)).text).toBe('hi\n');
    await c2.close();
  });

  it('reset_peer destroys both sides after ms; timeout swallows data and closes after ms', async () => {
    const guest = await fakeGuest();
    const p = await proxy({ upstream: { kind: 'unix', path: guest.path }, toxics: [parseToxic('reset_peer:both:ms=50')] });
    const t0 = Date.now();
    const client = await connectUnix(p.path);
    await readAll(client, 3_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
    await eventually(() => guest.seen[0]!.eof, 2_000, 'guest side destroyed');
    await client.close();

    const g2 = await fakeGuest();
    const q = await proxy({ upstream: { kind: 'unix', path: g2.path }, toxics: [parseToxic('timeout:upstream:ms=150')] });
    // Its own start: the timeout counts from this connection, not the reset_peer one above.
    const t1 = Date.now();
    const c2 = await connectUnix(q.path);
    const reading = readAll(c2, 3_000);
    await c2.write(bytes('swallowed\n'));
    await reading;
    expect(Date.now() - t1).toBeGreaterThanOrEqual(149); // 150 ms, less a clock tick
    expect(g2.received()).toBe('');
    await c2.close();
    expect(faults(p.trace)).toEqual([
      ['', 'toxic reset_peer:both:ms=50'],
      ['', 'reset_peer: both sides reset after 50 ms'],
    ]);
    expect(faults(q.trace)).toEqual([
      ['host->guest', 'toxic timeout:upstream:ms=150'],
      ['', 'timeout: both sides closed after 150 ms'],
    ]);
  });

  it('slow_close delays forwarding the guest\'s end', async () => {
    const guest = await fakeGuest((s) => s.end('bye\n'));
    const p = await proxy({ upstream: { kind: 'unix', path: guest.path }, toxics: [parseToxic('slow_close:downstream:ms=200')] });
    const t0 = Date.now();
    const client = await connectUnix(p.path);
    expect((await readAll(client)).text).toBe('bye\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    await client.close();
  });

  it('--connect-cmd relays stdin/stdout and merges stderr downstream', async () => {
    const p = await proxy({ upstream: { kind: 'cmd', argv: ['sh', '-c', 'echo to-stderr >&2; cat'] } });
    const client = await connectUnix(p.path);
    const reading = readAll(client);
    await client.write(bytes('echoed\n'));
    await client.closeWrite();
    const r = await reading;
    expect(r.end).toBe('eof');
    expect(r.text.split('\n').sort()).toEqual(['', 'echoed', 'to-stderr']);
    await client.close();
  });

  it('an unreachable guest closes the client promptly', async () => {
    const p = await proxy({ upstream: { kind: 'unix', path: join(dir, 'nobody.sock') } });
    const client = await connectUnix(p.path);
    expect((await readAll(client, 3_000)).text).toBe('');
    await client.close();
    const errors = p.trace.filter((e) => e.kind === 'transport' && e.what === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ actor: 'proxy', message: expect.stringContaining('cannot reach the guest') });
  });

  it('close() ends every open connection (bounded)', async () => {
    const guest = await fakeGuest();
    const p = await proxy({ upstream: { kind: 'unix', path: guest.path } });
    const client = await connectUnix(p.path);
    const reading = readAll(client, 5_000);
    await eventually(() => guest.seen.length === 1, 2_000, 'connected upstream');
    await p.close();
    await reading;
    expect(p.open).toBe(0);
    await eventually(() => guest.seen[0]!.eof, 2_000, 'guest side closed');
    await client.close();
  });
});

describe('stapsh-proxy CLI', () => {
  it('parses its options; refuses bad ones naming them', () => {
    const o = parseProxyArgs(['--listen', 'unix:/a', '--connect-cmd', "sh -c 'exec x'", '--toxic', 'latency:both:ms=1', '--seed', '9']);
    expect(o.upstream).toEqual({ kind: 'cmd', argv: ['sh', '-c', 'exec x'] });
    expect(o.toxics.map((t) => t.name)).toEqual(['latency']);
    expect(o.seed).toBe(9);
    const run = (args: string[]) => spawnSync(process.execPath, [PROXY_BIN, ...args], { encoding: 'utf8', timeout: 10_000 });
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--connect-cmd');
    const bad = run(['--listen', 'unix:/tmp/x', '--connect', 'unix:/tmp/y', '--toxic', 'latency:both:ms=-3']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("bad toxic 'latency:both:ms=-3'");
    const both = run(['--listen', 'unix:/tmp/x']);
    expect(both.status).not.toBe(0);
    expect(both.stderr).toContain('exactly one of --connect');
  });

  it('SIGTERM: stops, flushes the trace, exits 0', async () => {
    const guest = await fakeGuest((s) => s.write('stapsh 4.8 x86_64 6.1\n'));
    const sock = join(dir, 'cli.sock');
    const traceFile = join(dir, 'cli.jsonl');
    const proc = spawnTracked([process.execPath, PROXY_BIN, '--listen', `unix:${sock}`, '--connect', `unix:${guest.path}`, '--trace', traceFile]);
    await waitForUnixListener(sock);
    const client = await connectUnix(sock);
    const reading = readAll(client);
    await client.write(bytes('stap 4.8\n'));
    await eventually(() => guest.received() === 'stap 4.8\n', 3_000, 'relayed');
    proc.kill('SIGTERM');
    expect((await proc.wait(10_000)).code).toBe(0);
    expect((await reading).text).toBe('stapsh 4.8 x86_64 6.1\n');
    const lines = readFileSync(traceFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind?: string; summary?: string });
    expect(lines[0]).toMatchObject({ source: 'stapsh-proxy' });
    // This fake guest greets on connect, so its hello may reach the proxy before the host's `stap`: compare as a set.
    expect(lines.filter((l) => l.kind === 'frame').map((l) => l.summary).sort()).toEqual(['stap 4.8', 'stapsh 4.8 x86_64 6.1']);
    await client.close();
  });
});

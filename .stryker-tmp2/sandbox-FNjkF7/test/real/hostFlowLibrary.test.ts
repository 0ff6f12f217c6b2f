/**
 * The host library's consumption with demand: `session.output()`,
 * `session.stdout` and `runOnRemotes`' merged streams read slowly, against
 * our guest on real unix sockets with a real child (`seq`), and over the
 * memory pair with a stalled reader. The oracle for "held back, not
 * buffered" is the child's progress (its `wchar` in /proc/PID/io) against
 * what the consumer has taken; for the memory pair, the bytes the far end's
 * writes got accepted.
 */
// @ts-nocheck


import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUTPUT_HIGH_WATER_MARK } from '../../host/output.js';
import { runOnRemotes } from '../../host/runner.js';
import { startSession } from '../../host/session.js';
import { createMemoryPair } from '../../transports/memory.js';
import { connectUnix } from '../../transports/unixSocket.js';
import { killAll, spawnTracked, waitForListening } from '../support/procs.js';
import { scriptedBindir } from '../support/realPeers.js';
import { fakeGuestCommands } from '../support/fakeGuest.js';

const ROOT = resolve(import.meta.dirname, '../..');
const OUR_STAPSH = join(ROOT, 'bin/stapsh.js');
const MiB = 1024 * 1024;
const N = 1_500_000; // seq 1 N: 10,888,897 bytes
/** Guest 1 MiB + host 1 MiB + kernel pipe and socket buffers + stream buffers. */
const IN_FLIGHT_CAP = 12 * MiB;

let dir: string;
let bindir: string;
let expected: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-flowlib-'));
  bindir = scriptedBindir(dir, `#!/bin/sh\necho $$ > "$CHILD_PIDDIR/child.pid"\nexec seq 1 ${N}\n`);
  expected = await new Promise<string>((res) => {
    let s = '';
    const p = spawn('seq', ['1', String(N)]);
    p.stdout.setEncoding('latin1').on('data', (d: string) => (s += d));
    p.on('close', () => res(s));
  });
});
afterEach(() => killAll());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const module = { name: 'seq.ko', bytes: new TextEncoder().encode('ELF') };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Our guest on a fresh unix socket; `progress()` is its child's bytes written so far. */
async function guest(): Promise<{ sock: string; progress: () => number }> {
  const d = mkdtempSync(join(dir, 'g-'));
  const piddir = join(d, 'pids');
  const tmp = join(d, 'tmp');
  mkdirSync(piddir);
  mkdirSync(tmp);
  const sock = join(d, 'sock');
  spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${sock}`, '--bindir', bindir], { env: { ...process.env, TMPDIR: tmp, CHILD_PIDDIR: piddir } });
  await waitForListening(sock);
  let last = 0;
  return {
    sock,
    progress: () => {
      try {
        const pid = Number(readFileSync(join(piddir, 'child.pid'), 'utf8'));
        last = Number(/wchar: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
      } catch {
        // not started yet, or exited: its last reading stands
      }
      return last;
    },
  };
}

/** A Writable that takes `chunk` bytes per `delayMs`, collecting them. */
function slowSink(delayMs: number, onTake: (n: number) => void = () => undefined): { sink: Writable; text: () => string } {
  let s = '';
  const sink = new Writable({
    highWaterMark: 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      s += chunk.toString('latin1');
      onTake(chunk.length);
      setTimeout(cb, delayMs);
    },
  });
  return { sink, text: () => s };
}

describe('the host library with demand', () => {
  it('for await over session.output(), awaiting between chunks: every byte, the child held back', async () => {
    const g = await guest();
    const session = startSession(await connectUnix(g.sock), { module, remote: `unix:${g.sock}` });
    let got = '';
    let maxGap = 0;
    for await (const c of session.output()) {
      expect(c.stream).toBe('stdout');
      got += Buffer.from(c.bytes).toString('latin1');
      maxGap = Math.max(maxGap, g.progress() - got.length);
      await sleep(2);
    }
    const result = await session.done;
    expect(result.ok).toBe(true);
    expect(got).toBe(expected);
    expect(maxGap).toBeLessThan(IN_FLIGHT_CAP);
  });

  it('session.stdout piped into a slow Writable (Node streams): every byte, the child held back', async () => {
    const g = await guest();
    const session = startSession(await connectUnix(g.sock), { module, remote: `unix:${g.sock}` });
    let taken = 0;
    let maxGap = 0;
    const { sink, text } = slowSink(2, (n) => {
      taken += n;
      maxGap = Math.max(maxGap, g.progress() - taken);
    });
    await pipeline(session.stdout, sink);
    expect((await session.done).ok).toBe(true);
    expect(text()).toBe(expected);
    expect(maxGap).toBeLessThan(IN_FLIGHT_CAP);
  });

  it('two remotes into one slow sink: both slowed down, every prefixed line whole', async () => {
    const [a, b] = await Promise.all([guest(), guest()]);
    const socks = [a.sock, b.sock];
    const runner = runOnRemotes(
      socks.map((s) => `unix:${s}`),
      { module, prefix: true, connect: (_uri, i) => connectUnix(socks[i]!) },
    );
    let taken = 0;
    let maxGap = 0;
    const { sink, text } = slowSink(1, (n) => {
      taken += n;
      // Prefixes add 3 bytes a line: the children's bytes are at most `taken`.
      maxGap = Math.max(maxGap, a.progress() + b.progress() - taken);
    });
    await pipeline(runner.stdout, sink);
    const { firstFailure } = await runner.done;
    expect(firstFailure).toBeNull();
    expect(maxGap).toBeLessThan(2 * IN_FLIGHT_CAP);
    const lines = text().split('\n');
    expect(lines.pop()).toBe('');
    for (const r of [0, 1]) {
      const mine = lines.filter((l) => l.startsWith(`${r}: `)).map((l) => l.slice(3));
      expect(mine.length).toBe(N);
      expect(mine.join('\n') + '\n').toBe(expected);
    }
    expect(lines.length).toBe(2 * N);
  });

  it('the memory pair with a stalled reader: the far end is held back at the marks, then every byte arrives', async () => {
    const [hostEnd, guestEnd] = createMemoryPair({ names: ['memory:host', 'memory:guest'] });
    const total = 16 * MiB;
    const frame = 64 * 1024;
    let accepted = 0;
    // A guest that answers the handshake, then writes data frames as fast as the channel accepts them.
    const flood = async () => {
      await guestEnd.write(new TextEncoder().encode('OK\n'));
      for (let at = 0; at < total; at += frame) {
        const payload = new Uint8Array(frame).fill((at / frame) & 0xff);
        await guestEnd.write(new TextEncoder().encode(`data stdout ${frame}\n`));
        await guestEnd.write(payload);
        accepted += frame;
      }
      await guestEnd.write(new TextEncoder().encode('quit\n'));
    };
    const say = (text: string) => void guestEnd.write(new TextEncoder().encode(text));
    guestEnd.incoming$.subscribe(
      fakeGuestCommands({
        line: (line) => {
          if (line.startsWith('stap ')) say('stapsh 4.8 x86_64 6.1.0-memory\n');
          else if (line.startsWith('option')) say('OK\n');
          else if (line.startsWith('run')) void flood();
        },
        fileDone: () => say('OK\n'),
      }),
    );
    const session = startSession(hostEnd, { module, remote: 'memory:', wantData: true, extensions: false });
    const out = session.stdout;
    await session.hello;
    // Nobody reads for a while: the writes stop being accepted once the marks are full.
    let before = -1;
    for (let i = 0; i < 50 && accepted !== before; i++) {
      before = accepted;
      await sleep(20);
    }
    expect(accepted).toBe(before);
    // Host mark + the Readable's own buffer + the link's 64 KiB + one frame in hand.
    expect(accepted).toBeLessThanOrEqual(DEFAULT_OUTPUT_HIGH_WATER_MARK + 3 * frame + 64 * 1024);
    expect(accepted).toBeGreaterThan(0);
    // Then read it all: every byte, in order.
    let n = 0;
    let ok = true;
    for await (const chunk of out) {
      const b = chunk as Buffer;
      for (let i = 0; i < b.length; i += 4096) if (b[i] !== (Math.floor((n + i) / frame) & 0xff)) ok = false;
      n += b.length;
    }
    expect(ok).toBe(true);
    expect(n).toBe(total);
    expect((await session.done).ok).toBe(true);
  });
});

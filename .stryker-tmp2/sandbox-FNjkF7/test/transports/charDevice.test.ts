// @ts-nocheck
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCharDevice, type CharDeviceTransport } from '../../transports/charDevice.js';
import { collect, fdCount, readBytes, settleFds, settlesWithin, sleep, tempDir, within } from './helpers.js';

let dir: ReturnType<typeof tempDir>;
let socat: ChildProcess | undefined;
const open: CharDeviceTransport[] = [];

beforeEach(() => {
  dir = tempDir('pty');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  socat?.kill('SIGKILL');
  // Our end of its stderr pipe closed now, so the next test's fd count starts clean.
  socat?.stderr?.destroy();
  socat = undefined;
  dir.remove();
});

/** Resolves once socat (run with `-d -d`, stderr piped) made its links and says it entered its transfer loop. */
async function socatLooping(child: ChildProcess, links: readonly string[]): Promise<void> {
  let said = '';
  child.stderr!.setEncoding('latin1').on('data', (s: string) => (said += s));
  await within(
    (async () => {
      while (!links.every((l) => existsSync(l)) || !said.includes('starting data transfer loop')) await sleep(10);
    })(),
    5000,
    'socat ptys and its transfer loop',
  );
}

/** Two raw ptys joined back to back by socat: what is written to one is read from the other. */
async function ptyPair(): Promise<{ a: string; b: string }> {
  const a = join(dir.path, 'A');
  const b = join(dir.path, 'B');
  socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  await socatLooping(socat, [a, b]);
  return { a, b };
}

async function dev(path: string): Promise<CharDeviceTransport> {
  const t = await openCharDevice(path);
  open.push(t);
  return t;
}

describe('character device (listening mode) over a pty', () => {
  it('carries every byte value untranslated both ways', async () => {
    const { a, b } = await ptyPair();
    const ta = await dev(a);
    const tb = await dev(b);
    expect(ta.capabilities).toEqual({ eofVisible: false, separateStderr: false, exitStatus: false });
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    // \n, \r, ^C, ^D, ^Z, ^S, ^Q must pass as plain bytes (raw mode, no opost/onlcr/isig/icanon/ixon).
    const payload = Buffer.concat([Buffer.from('stap 4.8\n\r\n\x03\x04\x1a\x13\x11'), all]);
    const got = readBytes(tb.incoming$, payload.length);
    await ta.write(payload);
    expect(await got).toEqual(payload);
    const back = readBytes(ta.incoming$, 9);
    await tb.write(Buffer.from('stapsh x\n'));
    expect((await back).toString()).toBe('stapsh x\n');
  });

  it('loses nothing sent before the first subscription', async () => {
    const { a, b } = await ptyPair();
    const ta = await dev(a);
    const tb = await dev(b);
    await ta.write(Buffer.from('stale bytes\n'));
    await sleep(100);
    expect((await readBytes(tb.incoming$, 12)).toString()).toBe('stale bytes\n');
  });

  it('the far end closing is not EOF: incoming$ listens on, and a new far end can talk', async () => {
    const { a, b } = await ptyPair();
    const tb = await dev(b);
    const seen: Buffer[] = [];
    let ended = false;
    const sub = tb.incoming$.subscribe({ next: (c) => seen.push(Buffer.from(c)), complete: () => (ended = true), error: () => (ended = true) });
    try {
      const first = await openCharDevice(a);
      await first.write(Buffer.from('one\n'));
      await first.close();
      // Whatever the close did reaches us before what the second end writes after it.
      const second = await dev(a);
      await second.write(Buffer.from('two\n'));
      await within(
        (async () => {
          while (Buffer.concat(seen).length < 8) await sleep(10);
        })(),
        3000,
        'second session',
      );
      expect(Buffer.concat(seen).toString()).toBe('one\ntwo\n');
      expect(ended).toBe(false);
    } finally {
      sub.unsubscribe();
    }
  });

  it('a hangup (the pty pair vanishing) is not EOF either; close() ends incoming$ once', async () => {
    const { b } = await ptyPair();
    const tb = await dev(b);
    const r = collect(tb.incoming$, 10_000);
    socat!.kill('SIGTERM');
    await within(
      (async () => {
        while (tb.hangups === 0) await sleep(10);
      })(),
      3000,
      'hangup seen',
    );
    expect(await settlesWithin(r, 300)).toBe(false);
    await expect(tb.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'EIO' });
    await tb.close();
    await tb.close();
    expect(await r).toMatchObject({ end: 'complete', completions: 1 });
    await expect(tb.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('is raw even when the pty started cooked (opost/onlcr, echo, icanon off)', async () => {
    const a = join(dir.path, 'A');
    const b = join(dir.path, 'B');
    socat = spawn('socat', ['-d', '-d', `pty,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    await socatLooping(socat, [a, b]);
    const ta = await dev(a);
    const tb = await dev(b);
    expect(execFileSync('stty', ['-F', a, '-a']).toString()).toMatch(/-opost/);
    const got = readBytes(tb.incoming$, 4);
    await ta.write(Buffer.from('a\nb\n'));
    expect((await got).toString()).toBe('a\nb\n');
    const back = readBytes(ta.incoming$, 4);
    await tb.write(Buffer.from('x\ry\n')); // no icrnl, no line buffering
    expect((await back).toString()).toBe('x\ry\n');
  });

  it('rejects a missing device naming the path', async () => {
    await expect(openCharDevice(join(dir.path, 'nope'))).rejects.toMatchObject({
      code: 'ENOENT',
      message: expect.stringContaining('nope'),
    });
  });

  it('leaks no fds', async () => {
    const { a, b } = await ptyPair();
    const before = fdCount();
    for (let i = 0; i < 3; i++) {
      const ta = await openCharDevice(a);
      const tb = await openCharDevice(b);
      const got = readBytes(tb.incoming$, 2);
      await ta.write(Buffer.from('hi'));
      await got;
      await ta.close();
      await tb.close();
    }
    expect(await settleFds(before)).toBe(before);
  });
});

describe('character device without a tty (polled)', () => {
  it('a FIFO opened read-write: data arrives, the writer going away is no EOF', async () => {
    const path = join(dir.path, 'port');
    execFileSync('mkfifo', [path]);
    const before = fdCount();
    const t = await openCharDevice(path, { pollMs: 10 });
    const seen: Buffer[] = [];
    let ended = false;
    const sub = t.incoming$.subscribe({ next: (c) => seen.push(Buffer.from(c)), complete: () => (ended = true) });
    const w = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(w, 'from the host\n');
    closeSync(w);
    await within(
      (async () => {
        while (Buffer.concat(seen).length < 14) await sleep(5);
      })(),
      3000,
      'data',
    );
    expect(Buffer.concat(seen).toString()).toBe('from the host\n');
    // Our own writes go into the FIFO (and so come back: a loop).
    await t.write(Buffer.from('echo'));
    await within(
      (async () => {
        while (Buffer.concat(seen).length < 18) await sleep(5);
      })(),
      3000,
      'loop',
    );
    // The host's going away came before the echo: no EOF for it.
    expect(ended).toBe(false);
    await t.close();
    expect(ended).toBe(true);
    sub.unsubscribe();
    expect(await settleFds(before)).toBe(before);
  });

  it('/dev/null: reads are EOF forever (a virtio port with no host), which is not the end', async () => {
    const t = await openCharDevice('/dev/null', { pollMs: 10 });
    const r = collect(t.incoming$, 5000);
    expect(await settlesWithin(r, 200)).toBe(false);
    await t.write(Buffer.from('into the void'));
    await t.close();
    expect(await r).toMatchObject({ end: 'complete', completions: 1, chunks: 0 });
  });
});

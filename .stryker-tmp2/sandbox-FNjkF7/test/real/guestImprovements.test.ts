/**
 * Our guest as a real process where SystemTap's 4.8 guest loses data or
 * desynchronises (docs/stapsh-4.8-measured.md). Where it helps to keep the
 * README honest, the same bytes also go to SystemTap's guest to show the
 * difference is real.
 */
// @ts-nocheck


import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { alive, eventually, killAll, spawnTracked, waitForListening, waitForPath, type Proc } from '../support/procs.js';
import { describeReal, itReal, REAL_STAPSH, scriptedBindir, strayWorkspaces } from '../support/realPeers.js';
import { readdirSync, readFileSync } from 'node:fs';

const OUR_STAPSH = resolve(import.meta.dirname, '../../bin/stapsh.js');

const CHILD = `#!/bin/sh
echo $$ > "$CHILD_PIDDIR/$$"
echo "args: $# first-length: \${#1}"
trap 'echo "end probe: bye"; exit 0' HUP
case "$1" in
  deaf) trap '' HUP;;
esac
i=0
while :; do echo "tick $i"; i=$((i+1)); sleep 0.1; done
`;

let dir: string;
let bindir: string;
let piddir: string;
let tmp: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-impr-'));
  bindir = scriptedBindir(dir, CHILD);
});
// One pid dir per test: a pid from an earlier test's (dead) child would make
// "the child is gone" vacuous; one TMPDIR too, for "no temp dir left".
beforeEach(() => {
  piddir = mkdtempSync(join(dir, 'pids-'));
  tmp = mkdtempSync(join(dir, 'tmp-'));
});
afterEach(() => killAll());

/** The one child this test started. */
function onlyChild(): number {
  const pids = readdirSync(piddir).map(Number);
  expect(pids).toHaveLength(1);
  return pids[0]!;
}

/**
 * The frames of a data-mode guest's stdout, parsed (replies, `data STREAM
 * N` + N bytes); throws on anything else. Independent of our decoders.
 */
function parseFrames(bytes: Buffer): { replies: string[]; payload: Record<string, number> } {
  const replies: string[] = [];
  const payload: Record<string, number> = {};
  let at = 0;
  while (at < bytes.length) {
    const nl = bytes.indexOf(0x0a, at);
    if (nl < 0) throw new Error(`a partial line at byte ${at}: ${bytes.subarray(at, at + 40).toString('latin1')}`);
    const line = bytes.subarray(at, nl).toString('latin1');
    at = nl + 1;
    const m = /^data (stdout|stderr) (\d+)$/.exec(line);
    if (m) {
      const n = Number(m[2]);
      if (at + n > bytes.length) throw new Error(`a data frame of ${n} bytes cut at ${bytes.length - at}`);
      payload[m[1]!] = (payload[m[1]!] ?? 0) + n;
      at += n;
    } else replies.push(line);
  }
  return { replies, payload };
}

/** Bytes process `pid` has read so far (its rchar: every read(2), pipes included). */
function bytesRead(pid: number): number {
  return Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = () => ({ ...process.env, TMPDIR: tmp, CHILD_PIDDIR: piddir });

function ours(...args: string[]): Proc {
  return spawnTracked([process.execPath, OUR_STAPSH, '--protocol-version', '4.8', '--bindir', bindir, ...args], { env: env() });
}

/** Send everything at once, then EOF; collect the guest's stdout. */
async function oneShot(p: Proc, bytes: string): Promise<string> {
  p.child.stdin!.end(Buffer.from(bytes, 'latin1'));
  await p.wait(15_000);
  return p.stdout();
}

const HELLO = /^stapsh 4\.8 \S+ \S+\n/;

describe('our guest, as a process', () => {
  it('handles every command that arrives in one chunk together with EOF', async () => {
    const out = await oneShot(ours(), 'stap 4.8\nstap 4.8\noption data\noption\nquit\n');
    expect(out.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^stapsh 4\.8 /),
      expect.stringMatching(/^stapsh 4\.8 /),
      'OK',
      'ERROR: Could not parse option',
      'quit',
    ]);
  });

  it('consumes the payload of a refused file, so the stream stays in sync', async () => {
    const out = await oneShot(ours(), 'file 3 _bad\nabcstap 4.8\n');
    expect(out).toMatch(/^ERROR: Bad character '_' in file name\nstapsh 4\.8 /);
  });

  it('accepts command lines over 4095 bytes whole', async () => {
    const p = ours();
    p.child.stdin!.write(`run ${'a'.repeat(5000)}\n`);
    await p.waitFor('first-length: 5000', 10_000);
    p.child.stdin!.end();
    await p.wait(10_000);
  });

  it('refuses lines over 64 KiB and carries on', async () => {
    const out = await oneShot(ours(), `${'x'.repeat(70_000)}\nstap\n`);
    expect(out).toMatch(/^ERROR: Command line too long\nstapsh 4\.8 /);
  });

  it('caps the cumulative upload with a clear error', async () => {
    const out = await oneShot(ours('--max-upload', '10'), 'file 6 a\n123456file 6 b\n123456stap\n');
    expect(out).toMatch(/^OK\nERROR: Upload limit exceeded \(10 bytes per session\)\nstapsh 4\.8 /);
  });

  it('in data mode keeps what the child prints after SIGHUP, then says quit', async () => {
    const p = ours();
    p.child.stdin!.write('option data\nrun\n');
    await p.waitFor('tick 1', 10_000);
    p.child.stdin!.write('quit\n');
    await p.wait(10_000);
    expect(p.stdout()).toMatch(/data stdout 15\nend probe: bye\nquit\n$/);
  });

  it('loses nothing when the host stops reading for longer than the drain bound', async () => {
    const slowDir = join(dir, 'slow');
    const slowBin = scriptedBindir(slowDir, '#!/bin/sh\necho $$ > "$CHILD_PIDDIR/$$"\nexec head -c 8388608 /dev/zero\n');
    const p = spawnTracked([process.execPath, OUR_STAPSH, '--bindir', slowBin, '--protocol-version', '4.8'], { env: env() });
    const received: Buffer[] = [];
    p.child.stdout!.removeAllListeners('data');
    p.child.stdout!.pause();
    p.child.stdin!.write('option data\nrun\n');
    await eventually(() => readdirSync(piddir).length > 0, 10_000, 'the child started');
    // The stimulus, not a synchronisation: the host keeps not reading for
    // longer than the guest's 2 s drain bound.
    await new Promise((r) => setTimeout(r, 3_000));
    p.child.stdout!.on('data', (c: string) => received.push(Buffer.from(c, 'latin1')));
    p.child.stdout!.resume();
    const { code } = await p.wait(20_000);
    expect(code).toBe(0);
    const frames = parseFrames(Buffer.concat(received));
    expect(frames.replies).toEqual(['OK', 'OK', 'quit']);
    expect(frames.payload).toEqual({ stdout: 8388608 });
  });

  it('SIGKILLs a child that ignores SIGHUP after the grace period, and cleans up', async () => {
    const p = ours('--grace', '300');
    p.child.stdin!.write('run deaf\n');
    await p.waitFor('tick 1', 10_000);
    const pid = onlyChild();
    p.child.stdin!.end();
    const { code } = await p.wait(5_000);
    expect(code).toBe(137);
    expect(alive(pid)).toBe(false);
    expect(strayWorkspaces(tmp)).toEqual([]);
  });
});

describeReal('the same bytes to SystemTap stapsh 4.8 (the differences are real)', () => {
  itReal('SystemTap may drop commands that arrive together with EOF: each of 10 tries answers only a prefix of the session', async () => {
    // What it says when the same commands come one at a time (measured; the release from the hello).
    const complete = (hello: string) => [hello, hello, 'OK', 'ERROR: Could not parse option', 'quit'];
    const answered: string[][] = [];
    for (let i = 0; i < 10; i++) {
      const p = spawnTracked([REAL_STAPSH], { env: env() });
      const out = await oneShot(p, 'stap 4.8\nstap 4.8\noption data\noption\nquit\n');
      answered.push(out.split('\n').filter(Boolean));
    }
    // A race, so the set of outcomes measured: all five answered, or fewer, down to none (most tries
    // here, not all: 10 whole answers in a row were seen under load). Never anything else, never out of order.
    for (const lines of answered) {
      const hello = lines[0] ?? '';
      if (lines.length > 0) expect(hello).toMatch(/^stapsh 4\.8 \S+ \S+$/);
      expect(lines).toEqual(complete(hello).slice(0, lines.length));
    }
    console.log(`SystemTap stapsh, 5 commands with EOF, lines answered per try: ${answered.map((l) => l.length).join(' ')}`);
  });

  itReal('SystemTap reads a refused file payload as the next command', async () => {
    const p = spawnTracked([REAL_STAPSH], { env: env() });
    p.child.stdin!.write('file 3 _bad\n');
    await p.waitFor('Bad character', 5_000);
    const before = bytesRead(p.pid);
    p.child.stdin!.write('abcstap 4.8\n');
    // Once read, the line is handled before the guest reads again (for the EOF).
    await eventually(() => bytesRead(p.pid) >= before + 'abcstap 4.8\n'.length, 5_000, 'SystemTap\'s guest reading the line');
    p.child.stdin!.end();
    await p.wait(5_000);
    expect(p.stdout()).toBe("ERROR: Bad character '_' in file name\n");
  });
});

describe('abrupt disconnects on --listen', () => {
  /** A recorded session's host side, cut at chosen offsets. */
  const SESSION = 'stap 4.8\noption data\nfile 5 m.ko\nhellorun\n';

  async function listenGuest(sock: string): Promise<Proc> {
    const g = spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${sock}`, '--bindir', bindir, '--protocol-version', '4.8'], {
      env: env(),
    });
    await waitForListening(sock);
    return g;
  }

  function open(sock: string): Promise<{ socket: Socket; received: () => string }> {
    return new Promise((resolve, reject) => {
      let got = '';
      const socket = connect({ path: sock }, () => resolve({ socket, received: () => got }));
      socket.setEncoding('latin1').on('data', (s: string) => (got += s));
      socket.once('error', reject);
    });
  }

  it('at many cut points (close and half-close): the child is reaped, the temp dir removed, and the guest keeps serving', async () => {
    const sock = join(dir, `cut-${Date.now()}.sock`);
    const guest = await listenGuest(sock);
    const cuts = [0, 1, 5, 9, 15, 21, 30, 33, 36, 38, 40, SESSION.length];
    for (const [i, cut] of cuts.entries()) {
      const before = new Set(readdirSync(piddir));
      const { socket, received } = await open(sock);
      socket.write(SESSION.slice(0, cut));
      // Cut once the guest has answered every whole command before the cut (a partial line gets no answer).
      const answers = [9, 21, 38, 42].filter((end) => end <= cut).length;
      await eventually(() => (received().match(/^(stapsh 4\.8 .*|OK)$/gm) ?? []).length >= answers, 10_000, `replies to the ${cut} bytes`);
      if (cut === SESSION.length) await eventually(() => received().includes('tick 1'), 10_000, 'child output');
      // Unix sockets have no RST: alternate a full close with a half-close (EOF, still reading).
      if (i % 2 === 0) socket.destroy();
      else socket.end();
      await eventually(() => strayWorkspaces(tmp).length === 0, 10_000, `temp dir removed after cut at ${cut}`);
      for (const pid of readdirSync(piddir).filter((p) => !before.has(p)).map(Number)) {
        await eventually(() => !alive(pid), 10_000, `child ${pid} reaped after cut at ${cut}`);
      }
      socket.destroy();
    }
    const { socket, received } = await open(sock);
    socket.write('stap 4.8\n');
    await eventually(() => HELLO.test(received()), 5_000, 'hello after all cuts');
    socket.destroy();
    guest.kill('SIGTERM');
    expect((await guest.wait(5_000)).code).toBe(0);
  });
});

/**
 * Flow control through the host, with real processes and real pipes: a
 * reader slower than the guest slows the child down (it is not buffered in
 * the host), every byte arrives, and `stap-remote` ends cleanly when its
 * reader leaves.
 *
 * The oracle for "not buffered" is the child's own progress: the bytes the
 * child has written (`wchar` in /proc/PID/io) minus the bytes the reader has
 * taken is what sits between them (pipes, the guest, the socket, the host).
 * With flow control that stays within the buffers' marks (guest 1 MiB, host
 * 1 MiB, kernel pipe and socket buffers); without it, the host takes the
 * child's output as fast as it comes and the gap grows to tens of MiB.
 * The host's peak RSS (VmHWM) is asserted too, against a bound that holds
 * Node's own footprint plus those marks with room to spare.
 */
// @ts-nocheck


import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { alive, eventually, killAll, spawnTracked, waitForListening } from '../support/procs.js';
import { scriptedBindir } from '../support/realPeers.js';
import { fakeGuestCommands } from '../support/fakeGuest.js';
import { parseTrace } from '../../trace/format.js';

const ROOT = resolve(import.meta.dirname, '../..');
const STAP_REMOTE = join(ROOT, 'bin/stap-remote.js');
const OUR_STAPSH = join(ROOT, 'bin/stapsh.js');
const PROXY = join(ROOT, 'bin/stapsh-proxy.js');
const TRACE_CLI = join(ROOT, 'bin/stapsh-trace.js');
const MiB = 1024 * 1024;

/** `seq 1 SEQ_N`: 38,888,896 bytes, deterministic and not periodic (a lost or repeated chunk shows). */
const SEQ_N = 5_000_000;
/** Bytes between the child and the reader with flow control: guest 1 MiB + host 1 MiB + pipes, sockets, stream buffers. */
const IN_FLIGHT_CAP = 12 * MiB;
/** stap-remote's peak RSS (VmHWM). Measured here: 90–95 MiB streaming 64 MiB to a slow reader; 126 MiB and rising without flow control. */
const HOST_RSS_CAP = 160 * MiB;

const CHILD = `#!/bin/sh
echo $$ > "$CHILD_PIDDIR/child.pid"
case "$*" in
  *seq.ko*) exec seq 1 ${SEQ_N};;
  *seqerr.ko*) exec seq 1 ${SEQ_N} >&2;;
  *both.ko*) seq 1 200000 >&2 & seq 1 200000; wait;;
  *forever.ko*)
    trap 'echo hup > "$CHILD_PIDDIR/hup"; exit 0' HUP
    while :; do echo "a line of output that goes on and on"; done;;
esac
`;

let dir: string;
let bindir: string;
let expectedSeq: Buffer;
const servers: Server[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-hostflow-'));
  bindir = scriptedBindir(dir, CHILD);
  for (const m of ['seq.ko', 'seqerr.ko', 'both.ko', 'forever.ko']) writeFileSync(join(dir, m), 'ELF');
  expectedSeq = await new Promise<Buffer>((res, rej) => {
    const p = spawn('seq', ['1', String(SEQ_N)]);
    const parts: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => parts.push(b));
    p.on('close', (code) => (code === 0 ? res(Buffer.concat(parts)) : rej(new Error(`seq exited ${code}`))));
  });
});
afterEach(() => {
  killAll();
  for (const s of servers.splice(0)) s.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh directory per test: the child's pid and markers, the guest's TMPDIR. */
function testDir(): { piddir: string; tmp: string; sock: string } {
  const d = mkdtempSync(join(dir, 't-'));
  const piddir = join(d, 'pids');
  const tmp = join(d, 'tmp');
  mkdirSync(piddir);
  mkdirSync(tmp);
  return { piddir, tmp, sock: join(d, 'sock') };
}

async function ourGuest(t: { piddir: string; tmp: string; sock: string }, extra: string[] = []) {
  const g = spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${t.sock}`, '--bindir', bindir, ...extra], {
    env: { ...process.env, TMPDIR: t.tmp, CHILD_PIDDIR: t.piddir },
  });
  await waitForListening(t.sock);
  return g;
}

function readStatus(pid: number, field: string): number | null {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function wchar(pid: number): number | null {
  try {
    const m = /wchar: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

interface SlowRead {
  readonly bytes: number;
  readonly sha256: string;
  /** The other stream, as text. */
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Largest (child's wchar − bytes read) seen, when the child's pid was known. */
  readonly maxInFlight: number;
  readonly inFlightSamples: number;
  /** The host's peak RSS, last read before it exited. */
  readonly hostPeakRss: number;
}

/**
 * Run `argv` with its stdout read `chunk` bytes at a time with `delayMs`
 * between reads (a slow reader on a real pipe), sampling the producer's
 * progress (`producerPid()`) against what was read.
 */
function readSlowly(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  options: { delayMs: number; chunk: number; producerPid: () => number | null; timeoutMs?: number; stream?: 'stdout' | 'stderr' },
): Promise<SlowRead> {
  return new Promise((resolveRead, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }) as unknown as ChildProcessWithoutNullStreams;
    const hash = createHash('sha256');
    let bytes = 0;
    let stderr = '';
    let maxInFlight = 0;
    let samples = 0;
    let peak = 0;
    const sample = () => {
      const hwm = readStatus(child.pid!, 'VmHWM');
      if (hwm !== null) peak = Math.max(peak, hwm);
      const pid = options.producerPid();
      const written = pid === null ? null : wchar(pid);
      if (written !== null) {
        samples++;
        maxInFlight = Math.max(maxInFlight, written - bytes);
      }
    };
    const sampler = setInterval(sample, 50);
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      reject(new Error(`${argv.join(' ')}: not done within ${options.timeoutMs ?? 120_000} ms (read ${bytes} bytes)\n${stderr}`));
    }, options.timeoutMs ?? 120_000);
    // The stream read slowly; the other one is collected as text.
    const [slow, other] = options.stream === 'stderr' ? [child.stderr, child.stdout] : [child.stdout, child.stderr];
    other.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const readSome = () => {
      let c: Buffer | null;
      if ((c = slow.read(options.chunk) as Buffer | null) === null && (c = slow.read() as Buffer | null) === null) {
        slow.once('readable', readSome);
        return;
      }
      bytes += c.length;
      hash.update(c);
      setTimeout(readSome, options.delayMs);
    };
    slow.once('readable', readSome);
    child.on('close', (code, signal) => {
      clearInterval(sampler);
      clearTimeout(timer);
      // What was still in the pipe when the writer exited.
      for (let c; (c = slow.read() as Buffer | null) !== null; ) {
        bytes += c.length;
        hash.update(c);
      }
      resolveRead({ bytes, sha256: hash.digest('hex'), stderr, code, signal, maxInFlight, inFlightSamples: samples, hostPeakRss: peak });
    });
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const pidIn = (piddir: string) => () => {
  try {
    return Number(readFileSync(join(piddir, 'child.pid'), 'utf8'));
  } catch {
    return null;
  }
};

/** `stap-remote` against `remote` with module `module`, its `stream` read slowly (64 KiB per 4 ms). */
const slowStapRemote = (remote: string, module: string, producerPid: () => number | null, stream: 'stdout' | 'stderr' = 'stdout') =>
  readSlowly([process.execPath, STAP_REMOTE, `--remote=${remote}`, join(dir, module)], process.env, { delayMs: 4, chunk: 64 * 1024, producerPid, stream });

/** Every byte of `seq 1 SEQ_N` read, the child never far ahead of the reader, the host within its RSS bound. */
function expectSeqDeliveredAndHeldBack(r: SlowRead, inFlightCap = IN_FLIGHT_CAP): void {
  expect(r.code).toBe(0);
  expect(r.bytes).toBe(expectedSeq.length);
  expect(r.sha256).toBe(sha(expectedSeq));
  expect(r.inFlightSamples).toBeGreaterThan(20);
  expect(r.maxInFlight).toBeLessThan(inFlightCap);
  expect(r.hostPeakRss).toBeGreaterThan(0);
  expect(r.hostPeakRss).toBeLessThan(HOST_RSS_CAP);
}

describe('flow control through stap-remote', () => {
  it('a slow reader slows our guest\'s child down: every byte arrives, nothing piles up in the host', async () => {
    const t = testDir();
    await ourGuest(t);
    const r = await slowStapRemote(`unix:${t.sock}`, 'seq.ko', pidIn(t.piddir));
    expect(r.stderr).toBe('');
    expectSeqDeliveredAndHeldBack(r);
  });

  it('a scripted stdio guest that writes as fast as it can (stdout and stderr): held back, every byte arrives', async () => {
    const t = testDir();
    // A guest over stdio that answers the handshake and then floods its stdout
    // (and some stderr) with no regard for the reader, as fast as its pipe takes it.
    const guest = join(t.tmp, 'flood-guest.mjs');
    writeFileSync(
      guest,
      `import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(join(t.piddir, 'child.pid'))}, String(process.pid));
const N = ${SEQ_N};
let buf = '';
let fileLeft = 0;
process.stdin.setEncoding('latin1');
const flood = async () => {
  let i = 1;
  const write = (s) => new Promise((r) => (process.stdout.write(s) ? r() : process.stdout.once('drain', r)));
  process.stderr.write('stderr says hi\\n');
  while (i <= N) {
    let s = '';
    for (const end = Math.min(N, i + 9999); i <= end; i++) s += i + '\\n';
    await write(s);
  }
  process.stderr.write('stderr says bye\\n');
  process.exit(0);
};
process.stdin.on('data', (d) => {
  buf += d;
  let nl;
  for (;;) {
    if (fileLeft > 0) {
      const n = Math.min(fileLeft, buf.length);
      buf = buf.slice(n);
      fileLeft -= n;
      if (fileLeft > 0) return;
      process.stdout.write('OK\\n');
    }
    if ((nl = buf.indexOf('\\n')) < 0) return;
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    if (line.startsWith('stap ')) process.stdout.write('stapsh 4.8 x86_64 6.1.0-flood\\n');
    else if (line.startsWith('option')) process.stdout.write('OK\\n');
    else if (line.startsWith('file ')) fileLeft = Number(line.split(' ')[1]);
    else if (line.startsWith('run')) {
      process.stdout.write('OK\\n');
      void flood();
    }
  }
});
`,
    );
    chmodSync(guest, 0o755);
    const r = await readSlowly(
      [process.execPath, STAP_REMOTE, '--remote=stapsh:', '--stapsh', `${process.execPath} ${guest}`, join(dir, 'seq.ko')],
      process.env,
      { delayMs: 4, chunk: 64 * 1024, producerPid: pidIn(t.piddir) },
    );
    expect(r.stderr).toBe('stderr says hi\nstderr says bye\n');
    expectSeqDeliveredAndHeldBack(r);
  });

  it('stderr frames are held back like stdout: a slow reader of stap-remote\'s stderr slows the child', async () => {
    const t = testDir();
    await ourGuest(t);
    const r = await slowStapRemote(`unix:${t.sock}`, 'seqerr.ko', pidIn(t.piddir), 'stderr');
    expect(r.stderr).toBe('');
    expectSeqDeliveredAndHeldBack(r);
  });

  it('stdout and stderr frames alike: every byte of both arrives in data mode', async () => {
    const t = testDir();
    await ourGuest(t);
    const p = spawnTracked([process.execPath, STAP_REMOTE, `--remote=unix:${t.sock}`, join(dir, 'both.ko')]);
    const exit = await p.wait(120_000);
    expect(exit.code).toBe(0);
    const lines = Array.from({ length: 200_000 }, (_, i) => `${i + 1}\n`).join('');
    expect(p.stdout()).toBe(lines);
    expect(p.stderr()).toBe(lines);
  });

  it('a burst of frames and quit in one write reaches a pipe whole before exit', async () => {
    const t = testDir();
    // A guest that sends the run's OK, 2048 data frames (16 MiB, stdout and stderr) and quit in one write.
    const frames: Buffer[] = [];
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    for (let i = 0; i < 2048; i++) {
      const payload = Buffer.alloc(8192 + i, `frame ${i} `);
      const stream = i % 5 === 4 ? 'stderr' : 'stdout';
      (stream === 'stdout' ? out : err).push(payload);
      frames.push(Buffer.from(`data ${stream} ${payload.length}\n`), payload);
    }
    const burst = Buffer.concat([Buffer.from('OK\n'), ...frames, Buffer.from('quit\n')]);
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on(
        'data',
        fakeGuestCommands({
          line: (line) => {
            if (line.startsWith('stap ')) socket.write('stapsh 4.8 x86_64 6.1.0-burst\n');
            else if (line.startsWith('option')) socket.write('OK\n');
            else if (line.startsWith('run')) socket.end(burst);
          },
          fileDone: () => socket.write('OK\n'),
        }),
      );
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(t.sock, r));
    // The reader waits before it reads at all: at exit, most of the output is still queued for the pipe.
    const child = spawn(process.execPath, [STAP_REMOTE, `--remote=unix:${t.sock}`, '--no-extensions', join(dir, 'seq.ko')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const got: Buffer[] = [];
    const gotErr: Buffer[] = [];
    child.stderr.on('data', (b: Buffer) => gotErr.push(b));
    const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    await new Promise((r) => setTimeout(r, 1_000));
    child.stdout.on('data', (b: Buffer) => got.push(b));
    const code = await closed;
    expect(code).toBe(0);
    expect(Buffer.concat(got).equals(Buffer.concat(out))).toBe(true);
    expect(Buffer.concat(gotErr).equals(Buffer.concat(err))).toBe(true);
  });

  it('| head -c 1000: a quiet exit, the guest told to quit, its child hung up, nothing left behind', async () => {
    const t = testDir();
    const guest = await ourGuest(t);
    const child = spawn(process.execPath, [STAP_REMOTE, `--remote=unix:${t.sock}`, join(dir, 'forever.ko')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('close', (code, signal) => r({ code, signal })));
    // As `head -c 1000`: read 1000 bytes, then close the pipe's read end.
    let taken = 0;
    await new Promise<void>((r) => {
      child.stdout.on('data', (b: Buffer) => {
        taken += b.length;
        if (taken >= 1000) {
          child.stdout.destroy();
          r();
        }
      });
    });
    const exit = await Promise.race([closed, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('stap-remote did not end within 30 s of its reader leaving')), 30_000))]);
    expect(stderr).toBe('');
    expect(exit).toEqual({ code: 141, signal: null }); // quiet, with the status of a filter whose reader left (128 + SIGPIPE)
    // The guest's child got SIGHUP (its trap wrote the marker) and is gone; the session's temp dir too.
    expect(existsSync(join(t.piddir, 'hup'))).toBe(true);
    const pid = pidIn(t.piddir)();
    expect(pid).not.toBeNull();
    await eventually(() => !alive(pid!), 5_000, 'the child to be gone');
    await eventually(() => readdirSync(t.tmp).length === 0, 5_000, 'the session temp dir to be removed');
    // The guest keeps serving.
    expect(guest.child.exitCode).toBeNull();
  });

  it('the proxy between a fast guest and a slow host: bounded, every byte delivered', async () => {
    const t = testDir();
    await ourGuest(t);
    const front = join(t.tmp, '..', 'front');
    const proxy = spawnTracked([process.execPath, PROXY, '--listen', `unix:${front}`, '--connect', `unix:${t.sock}`]);
    await waitForListening(front);
    let proxyPeak = 0;
    const sampler = setInterval(() => {
      const hwm = readStatus(proxy.child.pid!, 'VmHWM');
      if (hwm !== null) proxyPeak = Math.max(proxyPeak, hwm);
    }, 50);
    try {
      const r = await slowStapRemote(`unix:${front}`, 'seq.ko', pidIn(t.piddir));
      // One more hop's buffers (the proxy holds up to 1 MiB per direction).
      expectSeqDeliveredAndHeldBack(r, IN_FLIGHT_CAP + 2 * MiB);
    } finally {
      clearInterval(sampler);
    }
    expect(proxyPeak).toBeGreaterThan(0);
    expect(proxyPeak).toBeLessThan(HOST_RSS_CAP);
  });
});

describe('traces are current on disk', () => {
  const sessionOf = (text: string) => parseTrace(text);

  it('stapsh --listen --trace: each ended session is in the file while the guest runs; kill -9 keeps them', async () => {
    const t = testDir();
    const tracePath = join(t.tmp, '..', 'guest.trace');
    const guest = await ourGuest(t, ['--trace', tracePath]);
    await eventually(() => existsSync(tracePath), 5_000, 'the trace file');
    // `stapsh-trace follow` shows each session as it happens.
    const follow = spawnTracked([process.execPath, TRACE_CLI, 'follow', tracePath]);
    for (let n = 1; n <= 2; n++) {
      const p = spawnTracked([process.execPath, STAP_REMOTE, `--remote=unix:${t.sock}`, join(dir, 'both.ko')]);
      expect((await p.wait(60_000)).code).toBe(0);
      await eventually(() => (follow.stdout().match(/guest \S+ host\s+quit/g) ?? []).length === n, 5_000, `session ${n}'s quit in follow's output`);
      // Within the sink's flush window (150 ms) of the session's end; the bound is generous.
      await eventually(
        () => {
          const parsed = sessionOf(readFileSync(tracePath, 'utf8'));
          return new Set(parsed.events.filter((e) => e.kind === 'frame' && e.reply === 'quit').map((e) => e.session)).size === n;
        },
        5_000,
        `session ${n}'s quit in the trace`,
      );
      expect(guest.child.exitCode).toBeNull();
    }
    guest.kill('SIGKILL');
    await guest.wait(10_000);
    const parsed = sessionOf(readFileSync(tracePath, 'utf8'));
    expect(parsed.errors).toEqual([]);
    expect(parsed.header).not.toBeNull();
    const sessions = new Set(parsed.events.filter((e) => e.kind === 'frame').map((e) => e.session));
    expect(sessions.size, [...sessions].join(' ')).toBe(2);
  });

  it('stapsh-proxy --trace: a session through it is in the file when it ends, the proxy still running', async () => {
    const t = testDir();
    await ourGuest(t);
    const front = join(t.tmp, '..', 'front');
    const tracePath = join(t.tmp, '..', 'proxy.trace');
    const proxy = spawnTracked([process.execPath, PROXY, '--listen', `unix:${front}`, '--connect', `unix:${t.sock}`, '--trace', tracePath]);
    await waitForListening(front);
    const p = spawnTracked([process.execPath, STAP_REMOTE, `--remote=unix:${front}`, join(dir, 'both.ko')]);
    expect((await p.wait(60_000)).code).toBe(0);
    await eventually(
      () => existsSync(tracePath) && sessionOf(readFileSync(tracePath, 'utf8')).events.some((e) => e.kind === 'frame' && e.reply === 'quit'),
      5_000,
      "the session's quit in the proxy's trace",
    );
    expect(proxy.child.exitCode).toBeNull();
  });
});

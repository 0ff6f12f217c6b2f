/**
 * A host that stops reading for a long time while the child writes as fast
 * as it can: our guest (`stapsh --listen unix:SOCK`, data mode) must hold
 * the child back (its output pipe is paused) instead of buffering without
 * bound, and the framing must survive the stall.
 *
 * The child is `exec seq 1 1000000000`: deterministic and not periodic, so
 * a reordered, dropped or duplicated frame shows as a wrong line. The host
 * is a raw unix-socket client: it reads the replies up to `run`'s OK, then
 * stops reading (`socket.pause()`) for BACKPRESSURE_SECONDS (default 60)
 * while the guest's RSS (/proc/PID/status VmRSS) is sampled every 500 ms;
 * then reads again for a few seconds, checking every `data stdout N` header
 * is followed by exactly N bytes and that the payloads concatenated are a
 * prefix of seq's output; then `quit`, which must end the stream with
 * `quit` and the child.
 */
// @ts-nocheck


import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { alive, eventually, killAll, spawnTracked, waitForListening } from '../support/procs.js';
import { scriptedBindir, strayWorkspaces } from '../support/realPeers.js';

const OUR_STAPSH = resolve(import.meta.dirname, '../../bin/stapsh.js');
const PAUSE_S = Number(process.env.BACKPRESSURE_SECONDS ?? 60);
const RESUME_BOUND_MS = 60_000;
const MiB = 1024 * 1024;
/**
 * The guest's RSS while the host does not read. Measured here (Node 20,
 * 2 cores): ~57 MiB idle and flat at ~57 MiB through a 60 s stall. Unbounded
 * buffering of this child (the guest relays it at ~100 MiB/s once the host
 * reads) would pass either bound within a second or two.
 */
const RSS_CAP = 150 * MiB;
/** Growth over the guest's RSS just before the stall. */
const RSS_GROWTH_CAP = 64 * MiB;

let dir: string;
let bindir: string;
let pidfile: string;
let tmp: string;
const sockets: Socket[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-backpressure-'));
  pidfile = join(dir, 'child.pid');
  bindir = scriptedBindir(dir, `#!/bin/sh\necho $$ > ${pidfile}\nexec seq 1 1000000000\n`);
  tmp = join(dir, 'tmp');
  mkdirSync(tmp);
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  killAll();
  // The child, if a failed test left it running (its command line checked: pids get reused).
  try {
    const pid = Number(readFileSync(pidfile, 'utf8'));
    if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('seq\0')) process.kill(pid, 'SIGKILL');
  } catch {
    // gone or never started
  }
  rmSync(pidfile, { force: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes a process has written so far (/proc/PID/io wchar). */
function written(pid: number): number {
  const m = /wchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  if (!m) throw new Error(`no wchar for ${pid}`);
  return Number(m[1]);
}

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Incremental parser of the guest → host stream after `run`'s OK: frames,
 * then `quit`. Payloads are checked against seq's output as they come.
 */
class FrameChecker {
  private buf: Buffer = Buffer.alloc(0);
  private need = 0; // payload bytes still owed by the current frame
  private partial = ''; // seq's current line, not yet ended
  private next = 1; // the number seq's next line must hold
  payloadBytes = 0;
  frames = 0;
  quit = false;
  error: string | null = null;

  push(chunk: Buffer): void {
    if (this.error !== null) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length > 0 && this.error === null) {
      if (this.need > 0) {
        const take = Math.min(this.need, this.buf.length);
        this.payload(this.buf.subarray(0, take));
        this.need -= take;
        this.buf = this.buf.subarray(take);
        continue;
      }
      const nl = this.buf.indexOf(0x0a);
      if (nl < 0) {
        if (this.buf.length > 64) this.error = `no header line in ${JSON.stringify(this.buf.subarray(0, 64).toString('latin1'))}`;
        return;
      }
      const line = this.buf.subarray(0, nl).toString('latin1');
      this.buf = this.buf.subarray(nl + 1);
      if (this.quit) {
        this.error = `bytes after quit: ${JSON.stringify(line)}`;
        return;
      }
      const m = /^data stdout (\d+)$/.exec(line);
      if (m) {
        this.need = Number(m[1]);
        this.frames += 1;
        if (this.need === 0) this.error = 'empty frame';
      } else if (line === 'quit') {
        this.quit = true;
      } else {
        this.error = `unexpected line ${JSON.stringify(line)} after ${this.frames} frames`;
      }
    }
  }

  private payload(bytes: Buffer): void {
    this.payloadBytes += bytes.length;
    const lines = (this.partial + bytes.toString('latin1')).split('\n');
    this.partial = lines.pop()!;
    for (const l of lines) {
      if (l !== String(this.next)) {
        this.error = `seq line ${this.next} read as ${JSON.stringify(l)} (after ${this.payloadBytes} payload bytes)`;
        return;
      }
      this.next += 1;
    }
    // The unfinished line must be a prefix of the expected one.
    if (!String(this.next).startsWith(this.partial)) this.error = `partial line ${JSON.stringify(this.partial)} is not a prefix of ${this.next}`;
  }

  /** Lines of seq's output seen whole. */
  lines(): number {
    return this.next - 1;
  }
}

describe('backpressure: a host that stops reading', () => {
  it(
    `the guest holds the child back for ${PAUSE_S} s with bounded RSS, and the framing is intact afterwards`,
    async () => {
      const sock = join(dir, 'guest.sock');
      const guest = spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${sock}`, '--bindir', bindir, '--protocol-version', '4.8'], {
        env: { ...process.env, TMPDIR: tmp },
      });
      const gpid = guest.child.pid!;
      await waitForListening(sock, 10_000);
      const idleRss = rss(gpid);

      const socket = connect({ path: sock });
      sockets.push(socket);
      socket.on('error', () => undefined);
      let head = Buffer.alloc(0);
      const checker = new FrameChecker();
      let replies: string[] | null = null;
      let ended = false;
      socket.on('end', () => (ended = true));
      socket.on('close', () => (ended = true));
      socket.on('data', (chunk: Buffer) => {
        if (replies !== null) {
          checker.push(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        // hello, OK (option data), OK (file), OK (run): then frames.
        let at = 0;
        const lines: string[] = [];
        while (lines.length < 4) {
          const nl = head.indexOf(0x0a, at);
          if (nl < 0) return;
          lines.push(head.subarray(at, nl).toString('latin1'));
          at = nl + 1;
        }
        replies = lines;
        // Stop reading at once: what Node already read is handled, nothing more is read until resume().
        socket.pause();
        checker.push(head.subarray(at));
      });
      await new Promise<void>((res, rej) => {
        socket.once('connect', res);
        socket.once('error', rej);
      });
      socket.write('stap 4.8\noption data\nfile 4 stap_1.ko\nELF!run\n');
      await eventually(() => replies !== null, 10_000, "the replies up to run's OK");
      expect(replies![0]).toMatch(/^stapsh 4\.8 \S+ \S+$/);
      expect(replies!.slice(1)).toEqual(['OK', 'OK', 'OK']);
      expect(checker.error).toBeNull();
      await eventually(() => {
        try {
          return alive(Number(readFileSync(pidfile, 'utf8')));
        } catch {
          return false;
        }
      }, 5_000, 'child started');
      const child = Number(readFileSync(pidfile, 'utf8'));

      // The stall: sample the guest's RSS every 500 ms.
      await sleep(500);
      const startRss = rss(gpid);
      // What the child wrote before it blocked: the bytes in flight (its pipe, the guest, the socket).
      const inFlight = written(child);
      const samples: number[] = [];
      const stallEnd = Date.now() + PAUSE_S * 1000;
      while (Date.now() < stallEnd) {
        samples.push(rss(gpid));
        await sleep(500);
      }
      const maxRss = Math.max(...samples);
      // The child is held back: alive, blocked writing to its pipe, writing (almost) nothing more.
      expect(alive(child)).toBe(true);
      const writtenDuringStall = written(child) - inFlight;
      const childState = readFileSync(`/proc/${child}/stat`, 'utf8').slice(readFileSync(`/proc/${child}/stat`, 'utf8').lastIndexOf(')') + 2)[0];
      const seenBeforeResume = checker.payloadBytes;
      console.log(
        `backpressure: ${PAUSE_S} s stall, guest RSS idle ${(idleRss / MiB).toFixed(1)} MiB, at stall start ${(startRss / MiB).toFixed(1)} MiB, ` +
          `max ${(maxRss / MiB).toFixed(1)} MiB, last ${(samples.at(-1)! / MiB).toFixed(1)} MiB over ${samples.length} samples; ` +
          `child state ${childState}, ${(inFlight / MiB).toFixed(2)} MiB written before it blocked, ${writtenDuringStall} bytes during the stall; ` +
          `${seenBeforeResume} payload bytes read before the stall`,
      );
      expect(maxRss).toBeLessThan(RSS_CAP);
      expect(maxRss - startRss).toBeLessThan(RSS_GROWTH_CAP);
      expect(inFlight).toBeLessThan(4 * MiB);
      expect(writtenDuringStall).toBeLessThan(MiB);

      // Resume: read for a while, everything checked as it comes.
      // The flow resumes: 4 MiB more arrive, checked as they come (the rate is printed; speed is the benchmark's).
      const t0 = Date.now();
      socket.resume();
      await eventually(() => checker.payloadBytes - seenBeforeResume > 4 * MiB || checker.error !== null, RESUME_BOUND_MS, '4 MiB after the stall');
      expect(checker.error).toBeNull();
      const bytesResumed = checker.payloadBytes - seenBeforeResume;
      const rate = bytesResumed / ((Date.now() - t0) / 1000) / MiB;

      // quit: the child is hung up, its output drained, then `quit`, then the connection ends.
      socket.write('quit\n');
      await eventually(() => checker.quit || checker.error !== null, 15_000, 'quit from the guest');
      expect(checker.error).toBeNull();
      await eventually(() => ended, 5_000, 'the connection closed by the guest');
      expect(checker.error).toBeNull();
      await eventually(() => !alive(child), 5_000, 'child gone');
      await eventually(() => strayWorkspaces(tmp).length === 0, 2_000, 'temp dir removed');
      console.log(
        `backpressure: after resume ${(bytesResumed / MiB).toFixed(1)} MiB in ${Date.now() - t0} ms (${rate.toFixed(0)} MiB/s), ` +
          `${checker.frames} frames, ${checker.lines()} seq lines verified, ${(checker.payloadBytes / MiB).toFixed(1)} MiB in all`,
      );
      expect(alive(gpid)).toBe(true);
      guest.kill('SIGTERM');
      expect((await guest.wait(5_000)).code).toBe(0);
    },
    PAUSE_S * 1000 + 60_000,
  );
});

/**
 * Endurance: many short sessions back to back, with a minimal raw host
 * client (a unix socket, the bytes stap 4.8 sends in data mode).
 *
 * - ENDURANCE_SESSIONS (default 1000) sessions on ONE `stapsh --listen
 *   unix:SOCK`: every one completes (hello, three OKs, the child's one line
 *   framed, `quit`, then the guest closes the connection); the guest's open
 *   fds (/proc/PID/fd) and RSS after the first 100 sessions and after the
 *   last are compared (fds equal within a small margin, RSS growth bounded);
 *   every session's temp dir is removed.
 * - ENDURANCE_VIRTIO_SESSIONS sessions on ONE virtio stand-in port, our
 *   guest `stapsh -l PORT` restarted for each (it serves one session and
 *   exits, as under systemd's Restart=always). Each is a Node process
 *   start, ~0.26-0.35 s per session here: CI (CI set) runs 1000, about 5
 *   minutes; elsewhere the default is 200.
 */
// @ts-nocheck


import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startVirtioStandin, type VirtioStandin } from '../../standins/virtio.js';
import { eventually, killAll, spawnTracked, waitForListening } from '../support/procs.js';
import { scriptedBindir, strayWorkspaces } from '../support/realPeers.js';

const OUR_STAPSH = resolve(import.meta.dirname, '../../bin/stapsh.js');
const SESSIONS = Number(process.env.ENDURANCE_SESSIONS ?? 1000);
// CI runs the issue's 1,000 (about 5 minutes: a guest process start per session); 200 elsewhere.
const VIRTIO_SESSIONS = Number(process.env.ENDURANCE_VIRTIO_SESSIONS ?? (process.env.CI ? 1000 : 200));
const MiB = 1024 * 1024;
/** Open fds of the --listen guest: after the first 100 sessions vs after the last. */
const FD_MARGIN = 3;
/** RSS growth of the --listen guest between those two points (each right after a full GC). */
const RSS_GROWTH_CAP = 30 * MiB;
/** Live V8 heap growth (after a full GC) between those two points; measured: +0.8 MiB over 900 sessions. */
const HEAP_GROWTH_CAP = 8 * MiB;

/** The bytes of one data-mode session, as stap 4.8 sends them (the module is 4 bytes). */
const SESSION = 'stap 4.8\noption data\nfile 4 stap_1.ko\nELF!run\n';

let dir: string;
let bindir: string;
let tmp: string;
const standins: VirtioStandin[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-endurance-'));
  bindir = scriptedBindir(dir, '#!/bin/sh\necho once\n');
  tmp = join(dir, 'tmp');
  mkdirSync(tmp);
});
afterEach(async () => {
  killAll();
  await Promise.allSettled(standins.splice(0).map((s) => s.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Outcome {
  readonly hello: string;
  readonly replies: string[];
  readonly stdout: string;
  readonly quit: boolean;
  /** The peer closed the connection (our --listen guest does after quit). */
  readonly closed: boolean;
}

/** Parse what a guest sent: hello, three replies, then frames up to `quit`. */
function parse(bytes: Buffer): Outcome | null {
  const lines: string[] = [];
  let at = 0;
  while (lines.length < 4) {
    const nl = bytes.indexOf(0x0a, at);
    if (nl < 0) return null;
    lines.push(bytes.subarray(at, nl).toString('latin1'));
    at = nl + 1;
  }
  let stdout = '';
  for (;;) {
    const nl = bytes.indexOf(0x0a, at);
    if (nl < 0) return null;
    const line = bytes.subarray(at, nl).toString('latin1');
    if (line === 'quit') {
      if (nl + 1 !== bytes.length) throw new Error(`bytes after quit: ${JSON.stringify(bytes.subarray(nl + 1).toString('latin1'))}`);
      return { hello: lines[0]!, replies: lines.slice(1), stdout, quit: true, closed: false };
    }
    const m = /^data stdout (\d+)$/.exec(line);
    if (!m) throw new Error(`unexpected line ${JSON.stringify(line)} in ${JSON.stringify(bytes.toString('latin1'))}`);
    const n = Number(m[1]);
    if (bytes.length < nl + 1 + n) return null;
    stdout += bytes.subarray(nl + 1, nl + 1 + n).toString('latin1');
    at = nl + 1 + n;
  }
}

/**
 * One session on a unix socket: send the whole session, read up to `quit`
 * (and, with `waitClose`, until the guest closes), bounded.
 */
function rawSession(sock: string, waitClose: boolean, timeoutMs = 10_000): Promise<Outcome> {
  return new Promise((res, rej) => {
    let got = Buffer.alloc(0);
    let outcome: Outcome | null = null;
    const s = connect({ path: sock });
    const fail = (e: Error) => {
      clearTimeout(t);
      s.destroy();
      rej(e);
    };
    const t = setTimeout(() => fail(new Error(`session not done within ${timeoutMs} ms: ${JSON.stringify(got.toString('latin1'))}`)), timeoutMs);
    const done = (o: Outcome) => {
      clearTimeout(t);
      s.destroy();
      res(o);
    };
    s.on('connect', () => s.write(SESSION));
    s.on('error', fail);
    s.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      try {
        outcome = parse(got);
      } catch (e) {
        fail(e as Error);
        return;
      }
      if (outcome && !waitClose) done(outcome);
    });
    s.on('end', () => {
      if (outcome) done({ ...outcome, closed: true });
      else fail(new Error(`EOF before quit: ${JSON.stringify(got.toString('latin1'))}`));
    });
  });
}

function expectComplete(o: Outcome, i: number): void {
  if (!/^stapsh 4\.8 \S+ \S+$/.test(o.hello) || o.replies.join() !== 'OK,OK,OK' || o.stdout !== 'once\n' || !o.quit) {
    throw new Error(`session ${i} incomplete: ${JSON.stringify(o)}`);
  }
}

/** A minimal Chrome DevTools Protocol client for a Node process started with --inspect. */
async function inspector(url: string): Promise<{ call: (method: string) => Promise<Record<string, unknown>>; close: () => void }> {
  const ws = new WebSocket(url);
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  let id = 0;
  const pending = new Map<number, (r: Record<string, unknown>) => void>();
  ws.on('message', (m: Buffer) => {
    const x = JSON.parse(m.toString()) as { id?: number; result?: Record<string, unknown> };
    if (x.id !== undefined) pending.get(x.id)?.(x.result ?? {});
    if (x.id !== undefined) pending.delete(x.id);
  });
  const call = (method: string) =>
    new Promise<Record<string, unknown>>((res, rej) => {
      const i = ++id;
      const t = setTimeout(() => rej(new Error(`${method}: no answer within 10 s`)), 10_000);
      pending.set(i, (r) => {
        clearTimeout(t);
        res(r);
      });
      ws.send(JSON.stringify({ id: i, method }));
    });
  return { call, close: () => ws.close() };
}

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

describe('endurance', () => {
  it(
    `${SESSIONS} sessions back to back on one stapsh --listen: all complete; fds and RSS flat; temp dirs removed`,
    async () => {
      const sock = join(dir, 'listen.sock');
      const guest = spawnTracked(
        [process.execPath, '--inspect=127.0.0.1:0', OUR_STAPSH, '--listen', `unix:${sock}`, '--bindir', bindir, '--protocol-version', '4.8'],
        { env: { ...process.env, TMPDIR: tmp } },
      );
      const pid = guest.child.pid!;
      await guest.waitFor(/ws:\/\/\S+/, 10_000, 'stderr');
      const cdp = await inspector(/ws:\/\/\S+/.exec(guest.stderr())![0]);
      await waitForListening(sock, 10_000);
      const measure = async () => {
        await cdp.call('HeapProfiler.collectGarbage');
        const heap = (await cdp.call('Runtime.getHeapUsage')) as { usedSize: number };
        return { fds: fds(pid), rss: rss(pid), heap: heap.usedSize };
      };
      const t0 = Date.now();
      let early: { fds: number; rss: number; heap: number } | null = null;
      const warm = Math.min(100, SESSIONS);
      for (let i = 1; i <= SESSIONS; i++) {
        const o = await rawSession(sock, true);
        expectComplete(o, i);
        if (!o.closed) throw new Error(`session ${i}: the guest did not close the connection`);
        if (i === warm) {
          // Let the session's teardown (temp dir, child reaped) finish before measuring.
          await eventually(() => strayWorkspaces(tmp).length === 0, 2_000, 'temp dirs removed after the warm-up');
          await new Promise((r) => setTimeout(r, 200));
          early = await measure();
        }
      }
      const ms = Date.now() - t0;
      await eventually(() => strayWorkspaces(tmp).length === 0, 2_000, 'temp dirs removed after the last session');
      await new Promise((r) => setTimeout(r, 200));
      const late = await measure();
      cdp.close();
      const show = (m: { fds: number; rss: number; heap: number }) =>
        `${m.fds} fds, RSS ${(m.rss / MiB).toFixed(1)} MiB, heap ${(m.heap / MiB).toFixed(2)} MiB`;
      console.log(
        `endurance --listen: ${SESSIONS} sessions in ${ms} ms (${(ms / SESSIONS).toFixed(1)} ms each); ` +
          `after ${warm}: ${show(early!)}; after ${SESSIONS}: ${show(late)}`,
      );
      expect(Math.abs(late.fds - early!.fds)).toBeLessThanOrEqual(FD_MARGIN);
      expect(late.rss - early!.rss).toBeLessThan(RSS_GROWTH_CAP);
      expect(late.heap - early!.heap).toBeLessThan(HEAP_GROWTH_CAP);
      expect(strayWorkspaces(tmp)).toEqual([]);
      guest.kill('SIGTERM');
      expect((await guest.wait(5_000)).code).toBe(0);
    },
    Math.max(60_000, SESSIONS * 300),
  );

  it(
    `${VIRTIO_SESSIONS} sessions back to back on one virtio stand-in port, the guest restarted for each`,
    async () => {
      const s = await startVirtioStandin({ port: join(dir, 'port'), socket: join(dir, 'port.sock') });
      standins.push(s);
      const vtmp = join(dir, 'vtmp');
      mkdirSync(vtmp);
      const t0 = Date.now();
      for (let i = 1; i <= VIRTIO_SESSIONS; i++) {
        const guest = spawnTracked([process.execPath, OUR_STAPSH, '-l', s.port, '--bindir', bindir, '--protocol-version', '4.8'], {
          env: { ...process.env, TMPDIR: vtmp },
        });
        // The host connects once the guest has opened the port (its temp dir exists): a host that
        // comes first is case (e) of virtio.test.ts; here, once in ~2,000 sessions, such a host got
        // nothing within 20 s (cause not found: see the notes), which would make this test flaky.
        // No EOF over virtio: read up to quit.
        await eventually(() => strayWorkspaces(vtmp).length > 0, 10_000, `guest ${i} up`);
        let o: Outcome;
        try {
          o = await rawSession(s.socket, false, 20_000);
        } catch (e) {
          const exit = guest.child.exitCode ?? guest.child.signalCode;
          throw new Error(
            `virtio session ${i}: ${(e as Error).message}; guest ${exit === null ? 'running' : `exited ${exit}`}, ` +
              `its output ${JSON.stringify(guest.stdout() + guest.stderr())}; stand-in ${JSON.stringify(s.stats())}`,
          );
        }
        expectComplete(o, i);
        const exit = await guest.wait(10_000);
        if (exit.code !== 0) throw new Error(`guest ${i} exited ${JSON.stringify(exit)}: ${guest.stderr()}`);
      }
      const ms = Date.now() - t0;
      console.log(`endurance virtio: ${VIRTIO_SESSIONS} sessions (one guest process each) in ${ms} ms (${(ms / VIRTIO_SESSIONS).toFixed(0)} ms each)`);
      expect(s.stats()).toMatchObject({ connections: VIRTIO_SESSIONS, hangups: VIRTIO_SESSIONS });
      await eventually(() => strayWorkspaces(vtmp).length === 0, 2_000, 'temp dirs removed');
    },
    Math.max(60_000, VIRTIO_SESSIONS * 1_000),
  );
});

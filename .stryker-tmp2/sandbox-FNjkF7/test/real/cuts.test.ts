/**
 * Abrupt disconnects with real processes, sampled: a whole session of our
 * host (library) and our guest (`stapsh --listen`, real child processes)
 * through stapsh-proxy, whose `limit_data` toxic cuts the connection after
 * exactly N bytes in one direction. For offsets spread over a recorded
 * session, in both directions: the host reports the run's result or a clear
 * error within 1 s of the cut; the guest hangs up its child, reaps it,
 * removes its temp dir, and keeps serving. (Every offset, and reset and
 * half-close, are covered in memory: test/host/memorySession.test.ts.)
 */
// @ts-nocheck

import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSession } from '../../host/session.js';
import { startProxy, type Proxy } from '../../proxy/proxy.js';
import { parseToxic } from '../../proxy/toxics.js';
import { mulberry32 } from '../../protocol/random.js';
import { connectUnix } from '../../transports/unixSocket.js';
import { alive, eventually, killAll, spawnTracked, waitForListening } from '../support/procs.js';
import { scriptedBindir, strayWorkspaces } from '../support/realPeers.js';

const OUR_STAPSH = resolve(import.meta.dirname, '../../bin/stapsh.js');
const SAMPLES = Number(process.env.CUT_SAMPLES ?? 10);
const MODULE = { name: 'stap_77.ko', bytes: new Uint8Array(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256)) };

let dir: string;
let guestTmp: string;
let piddir: string;
let sock: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-cuts-'));
  guestTmp = join(dir, 'tmp');
  piddir = join(dir, 'pids');
  mkdirSync(guestTmp);
  mkdirSync(piddir);
  const bindir = scriptedBindir(
    dir,
    `#!/bin/sh\necho $$ > "${piddir}/$$"\ntrap 'echo "end probe"; rm -f "${piddir}/$$"; exit 7' HUP\ni=0\nwhile [ $i -lt 8 ]; do echo "tick $i"; i=$((i+1)); sleep 0.05; done\nrm -f "${piddir}/$$"\nexit 3\n`,
  );
  sock = join(dir, 'guest.sock');
  spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${sock}`, '--bindir', bindir, '--grace', '1000'], { env: { ...process.env, TMPDIR: guestTmp } });
  await waitForListening(sock);
});
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

const livePids = () => (existsSync(piddir) ? readdirSync(piddir).map((f) => Number(readFileSync(join(piddir, f), 'utf8'))).filter(alive) : []);

/** One session through a proxy (with a toxic, or none); the cut's time from the proxy's log. */
async function session(n: number, toxic: string | null) {
  let cutAt: number | null = null;
  const proxy: Proxy = await startProxy({
    listen: join(dir, `proxy${n}.sock`),
    upstream: { kind: 'unix', path: sock },
    toxics: toxic === null ? [] : [parseToxic(toxic)],
    log: (m) => {
      if (cutAt === null && /limit_data/.test(m)) cutAt = Date.now();
    },
  });
  try {
    const transport = await connectUnix(proxy.path);
    let up = 0;
    let down = 0;
    const handle = startSession(transport, {
      module: MODULE,
      remote: `unix:${proxy.path}`,
      replyTimeoutMs: 5_000,
      onWire: (d, b) => (d === 'host->guest' ? (up += b.length) : (down += b.length)),
    });
    let out = '';
    handle.output$.subscribe((c) => (out += Buffer.from(c.bytes).toString('latin1')));
    const result = await handle.done;
    return { result, doneAt: Date.now(), cutAt: cutAt as number | null, up, down, out };
  } finally {
    await proxy.close();
  }
}

describe('cuts at sampled byte offsets, real processes', () => {
  it('a complete session first: its size in each direction', async () => {
    const r = await session(0, null);
    expect(r.result.ok).toBe(true);
    expect(r.result.exit).toEqual({ code: 3, signal: null });
    expect(r.out).toBe(Array.from({ length: 8 }, (_, i) => `tick ${i}\n`).join(''));
    sizes.up = r.up;
    sizes.down = r.down;
    expect(sizes.up).toBeGreaterThan(3000);
    expect(sizes.down).toBeGreaterThan(100);
  });

  const sizes = { up: 0, down: 0 };
  const random = mulberry32(20261126);
  for (const direction of ['upstream', 'downstream'] as const) {
    it(`${direction}: a clear end on the cut (not the reply bound); child hung up and reaped, temp dir removed, guest still serving`, async () => {
      const total = direction === 'upstream' ? sizes.up : sizes.down;
      expect(total).toBeGreaterThan(0);
      // Spread over the session, plus the edges: 1 byte, and one short of the whole.
      const offsets = [1, total - 1, ...Array.from({ length: SAMPLES - 2 }, (_, i) => Math.max(2, Math.floor(((i + random()) * total) / (SAMPLES - 2))))];
      let n = direction === 'upstream' ? 100 : 200;
      const seen: string[] = [];
      for (const at of offsets) {
        const r = await session(n++, `limit_data:${direction}:bytes=${at}`);
        const why = `${direction} cut at ${at}/${total}: ${r.result.ok ? `ok, ended ${r.result.ended}` : r.result.error}`;
        seen.push(why);
        expect(r.cutAt, why).not.toBeNull();
        // The feature's bound: the 5 s reply timeout; the cut itself must end the session.
        expect(r.doneAt - r.cutAt!, why).toBeLessThan(5_000);
        if (!r.result.ok) {
          expect(r.result.error, why).toMatch(/on remote 'unix:/);
          expect(r.result.error, why).not.toMatch(/ within \d+ ms /);
        }
        // The guest side: the child hung up (or done) and reaped, the temp dir gone.
        await eventually(() => livePids().length === 0, 10_000, `child gone after ${why}`);
        await eventually(() => strayWorkspaces(guestTmp).length === 0, 10_000, `temp dir removed after ${why}`);
      }
      // Still serving after all those cuts.
      const last = await session(n, null);
      expect(last.result.ok).toBe(true);
      expect(seen.length).toBe(SAMPLES);
    });
  }
});

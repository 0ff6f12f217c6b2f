/**
 * Real `stap` 4.8 ⇄ our `stapsh-proxy` ⇄ SystemTap's `stapsh` 4.8 (behind
 * `socat UNIX-LISTEN,fork EXEC:stapsh,stderr`, in a mount namespace where
 * staprun is a scripted child): a clean pass-through recorded in the proxy's
 * trace, a 1-byte slicer both ways, and a downstream data limit that makes
 * stap fail while the guest cleans up.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, expect } from 'vitest';
import { startSession, type OutputChunk } from '../../host/session.js';
import { connectUnix } from '../../transports/unixSocket.js';
import { alive, eventually, killAll, spawnTracked, type Proc } from '../support/procs.js';
import { describeReal, fakeKernelTree, itReal, REAL_STAPSH, runRealStap, socatUnixListen, trackedTempDir, waitForUnixListener, withScriptedChild, type SocatListener } from '../support/realPeers.js';

const PROXY = resolve(import.meta.dirname, '../../bin/stapsh-proxy.js');
const STAP_REMOTE = resolve(import.meta.dirname, '../../bin/stap-remote.js');
/** Our host on EOF inside a frame (N depends on where the 200 bytes end: the hello carries the kernel release). */
const OUR_CUT_ERROR = (sock: string) =>
  new RegExp(`^stap-remote: input ended \\d+ bytes short of a stdout frame on remote 'unix:${sock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'\n$`);

const LINES = 30;
const EXPECTED = Array.from({ length: LINES }, (_, i) => `line ${i} from the scripted child\n`).join('');
const QUICK_CHILD = `#!/bin/sh
i=0
while [ $i -lt ${LINES} ]; do echo "line $i from the scripted child"; i=$((i+1)); done
echo "child stderr" >&2
# SystemTap's guest loses output of a child that exits at once (its data-loss bug): linger.
sleep 0.5
exit 0
`;
const SLOW_CHILD = `#!/bin/sh
i=0
while [ $i -lt 300 ]; do echo "tick $i of a long-running child, padded to be long enough"; i=$((i+1)); sleep 0.05; done
`;

afterEach(() => killAll());

async function setup(childScript: string, toxics: string[]): Promise<{ dir: string; guest: SocatListener; proxy: Proc; proxySock: string; traceFile: string }> {
  const dir = trackedTempDir('stapflow-proxy-');
  const guestSock = join(dir, 'guest.sock');
  const proxySock = join(dir, 'proxy.sock');
  const traceFile = join(dir, 'proxy.jsonl');
  const guest = await socatUnixListen(guestSock, [REAL_STAPSH], { childScript });
  const proxy = spawnTracked([
    process.execPath,
    PROXY,
    '--listen',
    `unix:${proxySock}`,
    '--connect',
    `unix:${guestSock}`,
    '--trace',
    traceFile,
    '--seed',
    '7',
    '-v',
    ...toxics.flatMap((t) => ['--toxic', t]),
  ]);
  await waitForUnixListener(proxySock);
  return { dir, guest, proxy, proxySock, traceFile };
}

async function stopProxy(proxy: Proc): Promise<void> {
  proxy.kill('SIGTERM');
  expect((await proxy.wait(10_000)).code).toBe(0);
}

interface Frame {
  kind: string;
  actor: string;
  direction: string;
  frame: string;
  summary: string;
}

function frames(traceFile: string): Frame[] {
  return readFileSync(traceFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Frame)
    .filter((e) => e.kind === 'frame');
}

async function cleanSession(toxics: string[]) {
  const { dir, guest, proxy, proxySock, traceFile } = await setup(QUICK_CHILD, toxics);
  const stap = runRealStap({ remote: `unix:${proxySock}`, kernelTree: fakeKernelTree(dir), timeoutMs: 40_000 });
  const r = await stap.result;
  expect(r.stdout, r.stderr + proxy.stderr()).toBe(EXPECTED);
  expect(r.stderr).toContain('child stderr\n');
  expect(r.code).toBe(0);
  await eventually(() => guest.scripted!.strayWorkspaces().length === 0, 5_000, 'guest temp dir removal');
  await stopProxy(proxy);
  return { trace: frames(traceFile), guest };
}

describeReal('real stap 4.8 ⇄ stapsh-proxy ⇄ SystemTap stapsh 4.8', () => {
  itReal('a clean pass-through: the same output, and every frame recorded in order', async () => {
    const { trace } = await cleanSession([]);
    expect(trace.every((f) => f.actor === 'proxy')).toBe(true);
    const summaries = trace.map((f) => `${f.direction} ${f.frame} ${f.summary}`);
    const at = (re: RegExp) => {
      const i = summaries.findIndex((s) => re.test(s));
      expect(i, `${re} in\n${summaries.join('\n')}`).toBeGreaterThanOrEqual(0);
      return i;
    };
    const order = [
      at(/^host->guest command stap 4\.8/),
      at(/^guest->host reply stapsh 4\.8 /),
      at(/^host->guest command option data$/),
      at(/^host->guest command file \d+ stap_\d+\.bo$/),
      at(/^host->guest payload \d+ bytes of stap_\d+\.bo$/),
      at(/^host->guest command run .*\.\/stap_\d+\.bo$/),
      // One frame, or a burst of them recorded as one event (`data stdout ×N, B bytes`).
      at(/^guest->host data data stdout (\d+|×\d+, \d+ bytes)$/),
      at(/^guest->host reply quit$/),
    ];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(summaries.filter((s) => s.startsWith('guest->host data ')).length).toBeGreaterThan(0);
  });

  itReal('slicer avg=1 both ways: our host gets byte-identical output from SystemTap\'s guest; real stap with 1-byte commands too', async () => {
    const { guest, proxy, proxySock, traceFile } = await setup(QUICK_CHILD, ['slicer:both:avg=1']);
    const transport = await connectUnix(proxySock);
    const session = startSession(transport, { module: { name: 'stap_1234.ko', bytes: new Uint8Array(3000).map((_, i) => i) }, remote: `unix:${proxySock}`, replyTimeoutMs: 20_000 });
    const out: OutputChunk[] = [];
    session.output$.subscribe((c) => out.push(c));
    const result = await session.done;
    expect(result.ok, JSON.stringify(result)).toBe(true);
    const text = (stream: string) => Buffer.concat(out.filter((c) => c.stream === stream).map((c) => Buffer.from(c.bytes))).toString('latin1');
    expect(text('stdout')).toBe(EXPECTED);
    expect(text('stderr')).toBe('child stderr\n');
    await eventually(() => guest.scripted!.strayWorkspaces().length === 0, 5_000, 'guest temp dir removal');
    await stopProxy(proxy);
    const trace = frames(traceFile);
    expect(trace.some((f) => f.frame === 'payload' && f.summary === '3000 bytes of stap_1234.ko')).toBe(true);
    expect(trace.at(-1)).toMatchObject({ direction: 'guest->host', frame: 'reply', summary: 'quit' });

    // Real stap: its commands and the 3 KB upload one byte per write. (Its replies
    // one byte per write make SystemTap 4.8's host lose output, measured: see the report.)
    await cleanSession(['slicer:upstream:avg=1']);
  });

  // Measured: on this cut SystemTap 4.8's host either takes the EOF inside a
  // data frame as the session's end (exit 0, no error: what this test first
  // measured and asserted) or dies of SIGSEGV reading past it (what a CI run
  // got, issue #15; and 60 of 60 runs here on 2026-12-06, 30 on a quiet
  // machine, 30 beside other test runs). Either is SystemTap's; the test
  // asserts that set, and ours exactly (below).
  const STAP_OUTCOMES_ON_CUT = [
    { code: 0, signal: null },
    { code: null, signal: 'SIGSEGV' },
  ];
  const FULL = Array.from({ length: 300 }, (_, i) => `tick ${i} of a long-running child, padded to be long enough\n`).join('');

  itReal('limit_data:downstream:bytes=200: stap ends on a cut session (exit 0 or SIGSEGV, as measured), the guest cleans up its child and temp dir', async () => {
    const { dir, guest, proxy, proxySock } = await setup(SLOW_CHILD, ['limit_data:downstream:bytes=200']);
    const stap = runRealStap({ remote: `unix:${proxySock}`, kernelTree: fakeKernelTree(dir), timeoutMs: 40_000 });
    await eventually(() => guest.scripted!.childPids().length > 0, 30_000, 'the child started');
    // 300 ticks take 15 s: stap ends long before (the bound of stap.result), with a strict prefix of the child's output.
    const r = await stap.result;
    const transcript = `exit ${r.code} ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\nproxy: ${proxy.stderr()}`;
    // The proxy logs the cut as it makes it; under load that line can reach us after stap has ended.
    await proxy.waitFor('downstream: limit_data reached', 10_000, 'stderr').catch(() => undefined);
    expect(proxy.stderr(), transcript).toContain('downstream: limit_data reached');
    expect(r.stdout.length, transcript).toBeLessThan(200);
    expect(FULL.startsWith(r.stdout), transcript).toBe(true);
    expect(STAP_OUTCOMES_ON_CUT, transcript).toContainEqual({ code: r.code, signal: r.signal });
    const pids = guest.scripted!.childPids();
    expect(pids.length).toBe(1);
    await eventually(() => pids.every((p) => !alive(p)), 10_000, `children ${pids.join(',')} gone`);
    await eventually(() => guest.scripted!.strayWorkspaces().length === 0, 5_000, 'guest temp dir removal');
    await stopProxy(proxy);
  });

  itReal('limit_data:downstream:bytes=200: our stap-remote on the same cut fails naming the remote, exit 1', async () => {
    const { dir, guest, proxy, proxySock } = await setup(SLOW_CHILD, ['limit_data:downstream:bytes=200']);
    const module = join(dir, 'stap_1234.ko');
    writeFileSync(module, 'ELF');
    const host = spawnTracked([process.execPath, STAP_REMOTE, `--remote=unix:${proxySock}`, module]);
    const exit = await host.wait(40_000);
    const transcript = `exit ${exit.code} ${exit.signal}\nstdout: ${host.stdout()}\nstderr: ${host.stderr()}\nproxy: ${proxy.stderr()}`;
    // The proxy logs the cut as it makes it; under load that line can reach us after stap has ended.
    await proxy.waitFor('downstream: limit_data reached', 10_000, 'stderr').catch(() => undefined);
    expect(proxy.stderr(), transcript).toContain('downstream: limit_data reached');
    expect(FULL.startsWith(host.stdout()), transcript).toBe(true);
    expect(host.stdout().length, transcript).toBeLessThan(200);
    expect(host.stderr(), transcript).toMatch(OUR_CUT_ERROR(proxySock));
    expect(exit, transcript).toEqual({ code: 1, signal: null });
    const pids = guest.scripted!.childPids();
    expect(pids.length).toBe(1);
    await eventually(() => pids.every((p) => !alive(p)), 10_000, `children ${pids.join(',')} gone`);
    await eventually(() => guest.scripted!.strayWorkspaces().length === 0, 5_000, 'guest temp dir removal');
    await stopProxy(proxy);
  });

  itReal('--connect-cmd: the proxy spawns SystemTap\'s stapsh per client (inside the scripted-child namespace)', async () => {
    const dir = trackedTempDir('stapflow-proxy-');
    const proxySock = join(dir, 'proxy.sock');
    const traceFile = join(dir, 'proxy.jsonl');
    const proxy = withScriptedChild(QUICK_CHILD, [process.execPath, PROXY, '--listen', `unix:${proxySock}`, '--connect-cmd', REAL_STAPSH, '--trace', traceFile]);
    await waitForUnixListener(proxySock);
    const r = await runRealStap({ remote: `unix:${proxySock}`, kernelTree: fakeKernelTree(dir), timeoutMs: 40_000 }).result;
    expect(r.stdout, r.stderr + proxy.stderr()).toBe(EXPECTED);
    expect(r.stderr).toContain('child stderr\n');
    expect(proxy.childPids()).toHaveLength(1);
    await eventually(() => proxy.strayWorkspaces().length === 0, 5_000, 'guest temp dir removal');
    proxy.signal('SIGTERM');
    expect((await proxy.wait(10_000)).code).toBe(0);
    expect(frames(traceFile).some((f) => f.frame === 'reply' && f.summary === 'quit')).toBe(true);
  });
});

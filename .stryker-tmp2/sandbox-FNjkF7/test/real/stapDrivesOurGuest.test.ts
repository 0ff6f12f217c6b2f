/**
 * Real `stap` 4.8 drives our guest: over `stapsh --listen unix:` and over
 * `stapsh -l` on a pty (socat relays stap's unix socket to the pty's other
 * side). The BPF runtime compiles against a fake kernel tree, and the child
 * is a script in our `--bindir`.
 */
// @ts-nocheck


import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { alive, eventually, killAll, spawnTracked, waitForListening, waitForPath, type Proc } from '../support/procs.js';
import { describeReal, fakeKernelTree, itReal, REAL_STAP, scriptedBindir, strayWorkspaces, waitForUnixListener } from '../support/realPeers.js';

const OUR_STAPSH = resolve(import.meta.dirname, '../../bin/stapsh.js');
const SCRIPT = 'probe begin { printf("hi\\n"); exit() }';

const CHILD = `#!/bin/sh
echo $$ > "$CHILD_PIDDIR/$$"
echo "child args: $0 $*"
echo "to stderr" >&2
trap 'echo "end probe: bye"; exit 0' HUP
i=0
while [ $i -lt \${TICKS:-1000} ]; do echo "tick $i"; i=$((i+1)); sleep 0.1; done
exit \${STATUS:-0}
`;

let dir: string;
let tree: string;
let bindir: string;
let piddir: string;
let guestTmp: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-stap-'));
  tree = fakeKernelTree(dir);
  bindir = scriptedBindir(dir, CHILD);
  guestTmp = join(dir, 'guest-tmp');
  mkdirSync(guestTmp, { recursive: true });
});
// One pid dir per test: "the child is gone" must be about this test's child.
beforeEach(() => {
  piddir = mkdtempSync(join(dir, 'pids-'));
});
afterEach(() => killAll());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function guestEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, TMPDIR: guestTmp, CHILD_PIDDIR: piddir, ...extra };
}

function stap(remote: string): Proc {
  return spawnTracked([REAL_STAP, '--runtime=bpf', '-r', tree, `--remote=${remote}`, '-e', SCRIPT], {
    env: { ...process.env, HOME: dir },
  });
}

const childPids = () => readdirSync(piddir).map(Number);

async function listen(sock: string, env: NodeJS.ProcessEnv): Promise<Proc> {
  const guest = spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${sock}`, '--bindir', bindir], { env });
  await waitForListening(sock);
  return guest;
}

describeReal('real stap 4.8 drives our stapsh', () => {
  itReal('over --listen unix: a natural exit: output, stderr, and the status lost as in SystemTap', async () => {
    const sock = join(dir, 'natural.sock');
    const guest = await listen(sock, guestEnv({ TICKS: '3', STATUS: '3' }));
    const host = stap(`unix:${sock}`);
    const { code } = await host.wait(30_000);
    expect(host.stdout()).toMatch(/^child args: \S+\/stapbpf \.\/stap_\d+\.bo\ntick 0\ntick 1\ntick 2\n$/);
    expect(host.stderr()).toContain('to stderr\n');
    // SystemTap's host reads no status over a socket: 0 although the child exited 3.
    expect(code).toBe(0);
    await eventually(() => strayWorkspaces(guestTmp).length === 0, 10_000, 'temp dir removal');
    guest.kill('SIGTERM');
    expect((await guest.wait(5_000)).code).toBe(0);
  });

  itReal('over --listen unix: SIGINT on stap hangs up the child, its last words arrive, and the guest keeps serving', async () => {
    const sock = join(dir, 'sigint.sock');
    const guest = await listen(sock, guestEnv());
    const first = stap(`unix:${sock}`);
    await first.waitFor('tick 2', 30_000, 'stdout');
    expect(childPids()).toHaveLength(1);
    const pid = childPids()[0]!;
    first.kill('SIGINT');
    await first.wait(10_000);
    expect(first.stdout()).toContain('end probe: bye\n');
    await eventually(() => !alive(pid), 10_000, `child ${pid} gone`);
    await eventually(() => strayWorkspaces(guestTmp).length === 0, 10_000, 'temp dir removal');

    const second = stap(`unix:${sock}`);
    await second.waitFor('tick 0', 30_000, 'stdout');
    second.kill('SIGINT');
    await second.wait(10_000);
    expect(second.stdout()).toContain('end probe: bye\n');
    guest.kill('SIGTERM');
    expect((await guest.wait(5_000)).code).toBe(0);
    expect(strayWorkspaces(guestTmp)).toEqual([]);
  });

  itReal('over stapsh -l on a pty, stale lines before the hello ignored', async () => {
    const port = join(dir, 'port');
    const sock = join(dir, 'port.sock');
    // socat: the pty is the guest's "virtio port"; stap connects to the socket side.
    spawnTracked(['socat', `PTY,link=${port},raw,echo=0`, `UNIX-LISTEN:${sock}`]);
    await waitForPath(port);
    // socat without fork accepts once: don't probe it by connecting.
    await waitForUnixListener(sock);
    const guest = spawnTracked([process.execPath, OUR_STAPSH, '-l', port, '--bindir', bindir], {
      env: guestEnv({ TICKS: '2', STATUS: '0' }),
    });
    const host = stap(`unix:${sock}`);
    const { code } = await host.wait(30_000);
    expect(code).toBe(0);
    expect(host.stdout()).toMatch(/child args: \S+\/stapbpf \.\/stap_\d+\.bo\ntick 0\ntick 1\n$/);
    // -l merges stderr into the port: framed stderr reaches stap.
    expect(host.stderr()).toContain('to stderr\n');
    expect((await guest.wait(5_000)).code).toBe(0);
    expect(strayWorkspaces(guestTmp)).toEqual([]);
  });
});

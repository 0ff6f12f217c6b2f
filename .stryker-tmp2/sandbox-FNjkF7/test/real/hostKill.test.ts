/**
 * The host dies (`kill -9` of `stap-remote`) while the module runs: what
 * the guest must do on its own, with nobody left to send `quit`.
 *
 * - `--remote=stapsh:` (our host spawns our guest over stdio, in its own
 *   process group): the guest sees EOF on stdin, SIGHUPs the child, removes
 *   its temp dir and exits, so no helper outlives the host.
 * - `--remote=unix:SOCK` against `stapsh --listen`: the connection closes,
 *   that session's child is SIGHUPed and its temp dir removed, and the
 *   listening guest keeps serving (a new `stap-remote` session succeeds).
 * - A child that ignores SIGHUP (`trap '' HUP`) is SIGKILLed after the
 *   guest's `--grace` (500 ms here), in both modes.
 *
 * The child is a shell script installed as `staprun` in a bindir: it
 * records its pid and its parent's (the guest's), writes "got HUP" to a
 * marker file on SIGHUP, and prints ticks until stopped. The SIGHUP latency
 * (host SIGKILL → marker file) is measured and printed.
 *
 * - `--remote=ssh://root@127.0.0.1:PORT` against a throwaway sshd (as in
 *   test/real/ssh.test.ts; skipped locally without openssh-server or root,
 *   a failure in CI): the ssh client, a helper in its own process group,
 *   sees EOF on its stdin and exits; the remote guest then sees EOF, SIGHUPs
 *   the child and exits.
 */
// @ts-nocheck


import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { alive, eventually, killAll, spawnTracked, waitForListening, type Proc } from '../support/procs.js';
import { scriptedBindir, strayWorkspaces } from '../support/realPeers.js';
import { describeSsh, startPrivateSshd } from '../support/sshd.js';

const REPO = resolve(import.meta.dirname, '../..');
const OUR_STAPSH = join(REPO, 'bin', 'stapsh.js');
const STAP_REMOTE = join(REPO, 'bin', 'stap-remote.js');
const GRACE_MS = 500;

/**
 * `$MARK_DIR/pid` (the child), `$MARK_DIR/guest` (its parent, the guest),
 * `$MARK_DIR/hup` on SIGHUP. With `deaf` among the arguments SIGHUP is
 * ignored; with `once` it prints one line and exits 0.
 */
const CHILD = `#!/bin/sh
case " $* " in
  *" once "*) echo "once"; exit 0;;
esac
echo $$ > "$MARK_DIR/pid.tmp" && mv "$MARK_DIR/pid.tmp" "$MARK_DIR/pid"
echo $PPID > "$MARK_DIR/guest.tmp" && mv "$MARK_DIR/guest.tmp" "$MARK_DIR/guest"
case " $* " in
  *" deaf "*) trap '' HUP;;
  *) trap 'echo "got HUP" > "$MARK_DIR/hup"; exit 0' HUP;;
esac
i=0
while :; do echo "tick $i"; i=$((i+1)); sleep 0.05; done
`;

let dir: string;
let bindir: string;
let modulePath: string;
let seq = 0;
/** Processes a test may leave behind (pid, and a word their command line must contain: pids get reused). */
const strays: { pid: number; marker: string }[] = [];

function killIfStill(pid: number, marker: string): void {
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(marker)) return;
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-hostkill-'));
  bindir = scriptedBindir(dir, CHILD);
  modulePath = join(dir, 'stap_1234.ko');
  writeFileSync(modulePath, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]));
});
afterEach(() => {
  killAll();
  // The guest and its child are not in a tracked process group in the stdio case (stap-remote spawned them).
  for (const { pid, marker } of strays.splice(0)) killIfStill(pid, marker);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  /** Marker files of this case's child. */
  readonly marks: string;
  /** The guests' TMPDIR. */
  readonly tmp: string;
  readonly env: NodeJS.ProcessEnv;
}

function newCase(): Case {
  const base = join(dir, `case${++seq}`);
  const marks = join(base, 'marks');
  const tmp = join(base, 'tmp');
  mkdirSync(marks, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  return { marks, tmp, env: { ...process.env, TMPDIR: tmp, MARK_DIR: marks } };
}

const readPid = (path: string): number => Number(readFileSync(path, 'utf8').trim());

/** Poll tightly (5 ms) until `check()`; the elapsed ms since `t0`, or a rejection after `timeoutMs`. */
async function timeUntil(check: () => boolean, t0: number, timeoutMs: number, what: string): Promise<number> {
  const end = t0 + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what} not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - t0;
}

/** Start stap-remote, wait for ticks, note the child's and the guest's pids. */
async function runUntilTicks(c: Case, remote: string, extra: string[], moduleArgs: string[] = []): Promise<{ host: Proc; child: number; guest: number }> {
  const host = spawnTracked([process.execPath, STAP_REMOTE, `--remote=${remote}`, ...extra, modulePath, ...moduleArgs], { env: c.env });
  await host.waitFor('tick 2', 15_000, 'stdout');
  await eventually(() => existsSync(join(c.marks, 'pid')) && existsSync(join(c.marks, 'guest')), 5_000, 'pid files');
  const child = readPid(join(c.marks, 'pid'));
  const guest = readPid(join(c.marks, 'guest'));
  strays.push({ pid: child, marker: 'staprun' }, { pid: guest, marker: 'stapsh' });
  expect(alive(child)).toBe(true);
  expect(strayWorkspaces(c.tmp)).toHaveLength(1);
  return { host, child, guest };
}

async function killHost(host: Proc): Promise<number> {
  const t0 = Date.now();
  host.kill('SIGKILL');
  const exit = await host.wait(5_000);
  expect(exit.signal).toBe('SIGKILL');
  return t0;
}

function stapshCommand(): string {
  return `${process.execPath} ${OUR_STAPSH} --bindir ${bindir} --grace ${GRACE_MS}`;
}

async function listenGuest(c: Case): Promise<{ guest: Proc; sock: string }> {
  const sock = join(dir, `listen${seq}.sock`);
  const guest = spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${sock}`, '--bindir', bindir, '--grace', String(GRACE_MS)], {
    env: c.env,
  });
  await waitForListening(sock, 10_000);
  return { guest, sock };
}

/** A whole new session on the listening guest: stap-remote with a child that prints one line. */
async function expectServing(c: Case, sock: string): Promise<void> {
  const again = spawnTracked([process.execPath, STAP_REMOTE, `--remote=unix:${sock}`, modulePath, 'once'], { env: c.env });
  const exit = await again.wait(15_000);
  expect(exit.code, again.stderr()).toBe(0);
  expect(again.stdout()).toBe('once\n');
  // Also a raw hello, answered.
  const hello = await new Promise<string>((res, rej) => {
    let got = '';
    const s = connect({ path: sock }, () => s.write('stap 4.8\n'));
    const t = setTimeout(() => {
      s.destroy();
      rej(new Error(`no hello: ${JSON.stringify(got)}`));
    }, 5_000);
    s.setEncoding('latin1').on('data', (d: string) => {
      got += d;
      if (got.includes('\n')) {
        clearTimeout(t);
        s.destroy();
        res(got);
      }
    });
    s.on('error', rej);
  });
  expect(hello).toMatch(/^stapsh \S+ \S+ \S+\n$/);
}

const latencies: Record<string, number> = {};
afterAll(() => {
  // Measured figures, for the record.
  console.log(`hostKill measurements (ms): ${JSON.stringify(latencies)}`);
});

describe('the host is SIGKILLed while the module runs', () => {
  it('stapsh: (stdio): the guest SIGHUPs the child, removes its temp dir and exits itself', async () => {
    const c = newCase();
    const { host, child, guest } = await runUntilTicks(c, 'stapsh:', [`--stapsh=${stapshCommand()}`]);
    // The spawned guest is not the host itself (a helper in its own process).
    expect(guest).not.toBe(host.child.pid);
    expect(alive(guest)).toBe(true);
    const t0 = await killHost(host);
    const hup = await timeUntil(() => existsSync(join(c.marks, 'hup')), t0, 10_000, 'SIGHUP to the child');
    expect(readFileSync(join(c.marks, 'hup'), 'utf8')).toBe('got HUP\n');
    const childGone = await timeUntil(() => !alive(child), t0, 10_000, 'child gone');
    const guestGone = await timeUntil(() => !alive(guest), t0, 10_000, 'guest gone (EOF on its stdin)');
    await eventually(() => strayWorkspaces(c.tmp).length === 0, 10_000, 'guest temp dir removed');
    latencies.stdioHup = hup;
    latencies.stdioChildGone = childGone;
    latencies.stdioGuestGone = guestGone;
  });

  it('unix: against stapsh --listen: SIGHUP to the child, temp dir removed, and the guest keeps serving', async () => {
    const c = newCase();
    const { guest: listener, sock } = await listenGuest(c);
    const { host, child, guest } = await runUntilTicks(c, `unix:${sock}`, []);
    expect(guest).toBe(listener.child.pid);
    const t0 = await killHost(host);
    const hup = await timeUntil(() => existsSync(join(c.marks, 'hup')), t0, 10_000, 'SIGHUP to the child');
    const childGone = await timeUntil(() => !alive(child), t0, 10_000, 'child gone');
    await eventually(() => strayWorkspaces(c.tmp).length === 0, 10_000, 'session temp dir removed');
    latencies.unixHup = hup;
    latencies.unixChildGone = childGone;
    expect(alive(listener.child.pid!)).toBe(true);
    await expectServing(c, sock);
    await eventually(() => strayWorkspaces(c.tmp).length === 0, 10_000, 'temp dirs of the later sessions removed');
    listener.kill('SIGTERM');
    expect((await listener.wait(5_000)).code).toBe(0);
  });

  it(`stapsh: with a child ignoring SIGHUP: SIGKILLed after --grace ${GRACE_MS} (not before); the guest exits`, async () => {
    const c = newCase();
    const { host, child, guest } = await runUntilTicks(c, 'stapsh:', [`--stapsh=${stapshCommand()}`], ['deaf']);
    const t0 = await killHost(host);
    const childGone = await timeUntil(() => !alive(child), t0, GRACE_MS + 10_000, 'deaf child gone');
    // It ignored the SIGHUP: only the SIGKILL after the grace period ended it.
    expect(childGone).toBeGreaterThanOrEqual(GRACE_MS - 20);
    expect(existsSync(join(c.marks, 'hup'))).toBe(false);
    const guestGone = await timeUntil(() => !alive(guest), t0, GRACE_MS + 10_000, 'guest gone');
    await eventually(() => strayWorkspaces(c.tmp).length === 0, 10_000, 'guest temp dir removed');
    latencies.stdioDeafChildGone = childGone;
    latencies.stdioDeafGuestGone = guestGone;
  });

  it(`unix: with a child ignoring SIGHUP: SIGKILLed after --grace ${GRACE_MS} (not before); the guest keeps serving`, async () => {
    const c = newCase();
    const { guest: listener, sock } = await listenGuest(c);
    const { host, child } = await runUntilTicks(c, `unix:${sock}`, [], ['deaf']);
    const t0 = await killHost(host);
    const childGone = await timeUntil(() => !alive(child), t0, GRACE_MS + 10_000, 'deaf child gone');
    expect(childGone).toBeGreaterThanOrEqual(GRACE_MS - 20);
    expect(existsSync(join(c.marks, 'hup'))).toBe(false);
    await eventually(() => strayWorkspaces(c.tmp).length === 0, 10_000, 'session temp dir removed');
    latencies.unixDeafChildGone = childGone;
    expect(alive(listener.child.pid!)).toBe(true);
    await expectServing(c, sock);
    listener.kill('SIGTERM');
    expect((await listener.wait(5_000)).code).toBe(0);
  });
});

// ---------------------------------------------------------------------------
// ssh: a throwaway sshd on 127.0.0.1, as test/real/ssh.test.ts starts it.

/** sshd whose logins get PATH (a `stapsh` wrapper for our guest), TMPDIR and MARK_DIR of `c`; and an ssh_config for the client. */
async function startSshd(c: Case): Promise<{ port: number; sshConfig: string }> {
  const home = join(dir, `sshd${seq}`);
  const pathDir = join(home, 'path');
  mkdirSync(pathDir, { recursive: true });
  chmodSync(dir, 0o755);
  writeFileSync(join(pathDir, 'stapsh'), `#!/bin/sh\nexec ${process.execPath} ${OUR_STAPSH} --bindir ${bindir} --grace ${GRACE_MS} "$@"\n`);
  chmodSync(join(pathDir, 'stapsh'), 0o755);
  const { port, sshConfig } = await startPrivateSshd(home, { PATH: `${pathDir}:/usr/bin:/bin`, TMPDIR: c.tmp, MARK_DIR: c.marks });
  return { port, sshConfig };
}

/** Pids whose parent is `ppid`, with their command names. */
function childrenOf(ppid: number): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppidOf = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppidOf === ppid) out.push({ pid: Number(e), comm });
    } catch {
      // gone
    }
  }
  return out;
}


describeSsh('the host is SIGKILLed with an ssh:// remote', () => {
  it('the ssh client exits (EOF on its stdin), and the remote guest SIGHUPs the child, removes its temp dir and exits', async () => {
    const c = newCase();
    const { port, sshConfig } = await startSshd(c);
    const { host, child, guest } = await runUntilTicks(c, `ssh://root@127.0.0.1:${port}`, [`--ssh-config=${sshConfig}`]);
    const ssh = childrenOf(host.child.pid!).filter((p) => p.comm === 'ssh');
    expect(ssh).toHaveLength(1);
    const sshPid = ssh[0]!.pid;
    strays.push({ pid: sshPid, marker: 'ssh' });
    const t0 = await killHost(host);
    const sshGone = await timeUntil(() => !alive(sshPid), t0, 10_000, 'ssh client gone');
    const hup = await timeUntil(() => existsSync(join(c.marks, 'hup')), t0, 10_000, 'SIGHUP to the remote child');
    const childGone = await timeUntil(() => !alive(child), t0, 10_000, 'remote child gone');
    const guestGone = await timeUntil(() => !alive(guest), t0, 10_000, 'remote guest gone');
    await eventually(() => strayWorkspaces(c.tmp).length === 0, 10_000, 'remote temp dir removed');
    latencies.sshClientGone = sshGone;
    latencies.sshHup = hup;
    latencies.sshChildGone = childGone;
    latencies.sshGuestGone = guestGone;
  });
});

/**
 * virtio-serial with the stand-in (`standins/virtio.ts`): a pty for the
 * guest (`stapsh -l PORT`), a unix socket for the host. The port outlives
 * the guest (the host never sees EOF), the guest sees the host leave (the
 * pty is hung up, as a real port reads 0), bytes wait for the other side.
 * Our `-l` guest serves one session and exits; tests restart it as
 * systemd's `Restart=always` would. The scenarios checked on both the
 * stand-in and a real port are in test/support/portScenarios.ts.
 */
// @ts-nocheck


import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSession, type OutputChunk } from '../../host/session.js';
import { connectRemote } from '../../host/connect.js';
import { parseRemote } from '../../protocol/remoteUri.js';
import { startVirtioStandin, type VirtioStandin } from '../../standins/virtio.js';
import { openCharDevice, type CharDeviceTransport } from '../../transports/charDevice.js';
import { connectUnix } from '../../transports/unixSocket.js';
import type { Transport } from '../../transports/transport.js';
import { concatBytes } from '../../protocol/bytes.js';
import { alive, eventually, killAll, spawnTracked, type Proc } from '../support/procs.js';
import { describeReal, fakeKernelTree, itReal, NEED_SOCAT, REAL_STAP, REAL_STAPSH, scriptedBindir, strayWorkspaces, within } from '../support/realPeers.js';
import { describeNeeding } from '../support/needs.js';

const OUR_STAPSH = resolve(import.meta.dirname, '../../bin/stapsh.js');
const STANDIN_BIN = resolve(import.meta.dirname, '../../bin/virtio-standin.js');
const SCRIPT = 'probe begin { printf("hi\\n"); exit() }';
const MODULE = { name: 'stap_1234.ko', bytes: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0x0a, 0x03, 0x11, 0x13, 0x0d, 0x04]) };

const CHILD = `#!/bin/sh
echo $$ > "$CHILD_PIDDIR/$$"
echo "child args: $0 $*"
echo "to stderr" >&2
trap 'echo "end probe: bye"; exit 0' HUP
i=0
while [ $i -lt \${TICKS:-1000} ]; do echo "tick $i"; i=$((i+1)); sleep 0.05; done
exit \${STATUS:-0}
`;

let dir: string;
let bindir: string;
let piddir: string;
let guestTmp: string;
let n = 0;
const standins: VirtioStandin[] = [];
const transports: Transport[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-virtio-'));
  bindir = scriptedBindir(dir, CHILD);
  piddir = join(dir, 'pids');
  guestTmp = join(dir, 'guest-tmp');
  mkdirSync(piddir);
  mkdirSync(guestTmp);
});
afterEach(async () => {
  killAll();
  for (const pid of childPids()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(piddir, { recursive: true, force: true });
  mkdirSync(piddir);
  await Promise.allSettled(transports.splice(0).map((t) => t.close()));
  await Promise.allSettled(standins.splice(0).map((s) => s.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const childPids = () => (piddir ? readdirSync(piddir).map(Number) : []);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function standin(): Promise<VirtioStandin> {
  const i = ++n;
  const s = await startVirtioStandin({ port: join(dir, `port${i}`), socket: join(dir, `port${i}.sock`) });
  standins.push(s);
  return s;
}

async function connect(sock: string): Promise<Transport> {
  const t = await connectUnix(sock, { timeoutMs: 5_000 });
  transports.push(t);
  return t;
}

function guestEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, TMPDIR: guestTmp, CHILD_PIDDIR: piddir, ...extra };
}

/** Our guest on the port, as `stapsh@.service` runs it. */
function ourGuest(port: string, extra: NodeJS.ProcessEnv = {}): Proc {
  return spawnTracked([process.execPath, OUR_STAPSH, '-l', port, '--bindir', bindir], { env: guestEnv(extra) });
}

/** SystemTap's guest on the port, with the scripted child bind-mounted over staprun. */
function realGuest(port: string, extra: NodeJS.ProcessEnv = {}): Proc {
  const child = join(bindir, 'staprun');
  return spawnTracked(
    ['unshare', '-m', 'sh', '-c', 'mount --bind "$0" /usr/bin/staprun && exec "$1" -l "$2"', child, REAL_STAPSH, port],
    { env: guestEnv(extra) },
  );
}

interface HostRun {
  readonly transport: Transport;
  readonly session: ReturnType<typeof startSession>;
  readonly chunks: OutputChunk[];
  /** Everything the guest side sent, stale bytes included (latin1). */
  wire(): string;
  stdout(): string;
  stderr(): string;
}

async function host(sock: string, transport?: Transport, options: { wantData?: boolean } = {}): Promise<HostRun> {
  const t = transport ?? (await connect(sock));
  const chunks: OutputChunk[] = [];
  let wire = '';
  const session = startSession(t, {
    module: MODULE,
    remote: `unix:${sock}`,
    replyTimeoutMs: 15_000,
    ...options,
    onWire: (direction, bytes) => {
      if (direction === 'guest->host') wire += Buffer.from(bytes).toString('latin1');
    },
  });
  session.output$.subscribe((c) => chunks.push(c));
  session.done.catch(() => undefined);
  const text = (stream: 'stdout' | 'stderr') =>
    Buffer.from(concatBytes(chunks.filter((c) => c.stream === stream).map((c) => c.bytes))).toString('latin1');
  return { transport: t, session, chunks, wire: () => wire, stdout: () => text('stdout'), stderr: () => text('stderr') };
}

async function expectComplete(run: HostRun, ticks: number): Promise<void> {
  const result = await within(run.session.done, 20_000, 'session end');
  expect(result.ok, result.ok ? '' : result.error).toBe(true);
  expect(result.ok && result.ended).toBe('quit');
  const ticksText = Array.from({ length: ticks }, (_, i) => `tick ${i}\n`).join('');
  expect(run.stdout()).toMatch(new RegExp(`^child args: \\S+/staprun .*\\./stap_1234\\.ko\\n${ticksText}$`));
  expect(run.stderr()).toBe('to stderr\n');
}

describeNeeding([NEED_SOCAT], 'virtio stand-in tests', 'virtio stand-in: the port itself', () => {
  it('guest output while no host is connected waits, unread, for the next host: nothing dropped', async () => {
    const s = await standin();
    const guest = await openCharDevice(s.port);
    await guest.write(Buffer.from('A'.repeat(100) + 'B'.repeat(40)));
    await sleep(200);
    expect(s.stats()).toMatchObject({ toHost: 0, hostConnected: false });
    const t = await connect(s.socket);
    let got = '';
    t.incoming$.subscribe((b) => (got += Buffer.from(b).toString('latin1')));
    await eventually(() => got.length === 140, 2_000, 'waiting bytes delivered');
    expect(got).toBe('A'.repeat(100) + 'B'.repeat(40));
    expect(s.stats()).toMatchObject({ toHost: 140, hostConnected: true, connections: 1 });
    await guest.close();
  });

  it("bytes a host wrote while no guest had the port open reach the next guest; guests coming and going are no EOF for the host", async () => {
    const s = await standin();
    const t = await connect(s.socket);
    let got = '';
    let completed = false;
    t.incoming$.subscribe({ next: (b) => (got += Buffer.from(b).toString('latin1')), complete: () => (completed = true) });
    await t.write(Buffer.from('quit\nstale\n'));
    const guest1 = await openCharDevice(s.port);
    let got1 = '';
    guest1.incoming$.subscribe((b) => (got1 += Buffer.from(b).toString('latin1')));
    await eventually(() => got1 === 'quit\nstale\n', 2_000, 'host bytes reach the later guest');
    await guest1.close();
    await t.write(Buffer.from('for the next guest\n'));
    await sleep(200);
    expect(completed).toBe(false); // the guest went away: no EOF for the host
    const guest2 = await openCharDevice(s.port);
    let got2 = '';
    guest2.incoming$.subscribe((b) => (got2 += Buffer.from(b).toString('latin1')));
    await eventually(() => got2 === 'for the next guest\n', 2_000, 'bytes kept across guests');
    await guest2.write(Buffer.from('hello host\n'));
    await eventually(() => got === 'hello host\n', 2_000, 'guest to host');
    await guest2.close();
    await sleep(100);
    expect(completed).toBe(false);
    expect(s.stats().hangups).toBe(0);
  });

  it('the host leaving hangs the port up: the guest reads what came, then its session sees EOF and its writes fail; a fresh port waits for the next guest', async () => {
    const s = await standin();
    const guest = await openCharDevice(s.port);
    let got = '';
    let completed = false;
    guest.incoming$.subscribe({ next: (b) => (got += Buffer.from(b).toString('latin1')), complete: () => (completed = true) });
    const t = await connect(s.socket);
    await t.write(Buffer.from('stap 4.8\n'));
    await eventually(() => got === 'stap 4.8\n', 2_000, 'host bytes');
    await t.close();
    await eventually(() => completed, 5_000, 'EOF for the guest after its host left');
    expect(guest.hostGone).toBe(true);
    await expect(guest.write(Buffer.from('stapsh 4.8\n'))).rejects.toMatchObject({ code: 'EPIPE' });
    await guest.close();
    await eventually(() => s.stats().hangups === 1, 2_000, 'hangup counted');
    // The next host and the next guest meet on a fresh pty.
    const t2 = await connect(s.socket);
    let back = '';
    t2.incoming$.subscribe((b) => (back += Buffer.from(b).toString('latin1')));
    await t2.write(Buffer.from('second\n'));
    const guest2 = await openCharDevice(s.port);
    let got2 = '';
    guest2.incoming$.subscribe((b) => (got2 += Buffer.from(b).toString('latin1')));
    await eventually(() => got2 === 'second\n', 5_000, 'second host to second guest');
    await guest2.write(Buffer.from('answer\n'));
    await eventually(() => back === 'answer\n', 2_000, 'second guest to second host');
    await guest2.close();
  });

  it('a guest that has heard nothing yet listens on through a hangup (a host that came and went without a word)', async () => {
    const s = await standin();
    const guest = await openCharDevice(s.port);
    let got = '';
    let completed = false;
    guest.incoming$.subscribe({ next: (b) => (got += Buffer.from(b).toString('latin1')), complete: () => (completed = true) });
    const t = await connect(s.socket);
    await eventually(() => s.stats().hostConnected, 2_000, 'host served');
    await t.close();
    await eventually(() => guest.hangups === 1, 5_000, 'hangup seen');
    const t2 = await connect(s.socket);
    await t2.write(Buffer.from('stap 4.8\n'));
    await eventually(() => got === 'stap 4.8\n', 5_000, 'the guest reopened the port and hears the next host');
    expect(completed).toBe(false);
    await guest.close();
  });

  it('serves one host at a time: a second one waits (queued) and gets what the guest wrote after the first left', async () => {
    const s = await standin();
    const guest = await openCharDevice(s.port);
    let fromHosts = '';
    guest.incoming$.subscribe((b) => (fromHosts += Buffer.from(b).toString('latin1')));
    const t1 = await connect(s.socket);
    let got1 = '';
    t1.incoming$.subscribe((b) => (got1 += Buffer.from(b).toString('latin1')));
    await eventually(() => s.stats().hostConnected, 2_000, 'first host');
    const t2 = await connect(s.socket);
    let got2 = '';
    t2.incoming$.subscribe((b) => (got2 += Buffer.from(b).toString('latin1')));
    await t2.write(Buffer.from('from the second\n'));
    await eventually(() => s.stats().queued === 1, 2_000, 'second host queued');
    await guest.write(Buffer.from('one\n'));
    await eventually(() => got1 === 'one\n', 2_000, 'first host served');
    await sleep(100);
    expect(got2).toBe('');
    expect(fromHosts).toBe('');
    await t1.close();
    // t1 leaving hangs the port up; the second host is served on the fresh pty, where the next guest is.
    await eventually(() => s.stats().connections === 2, 5_000, 'second host taken from the queue');
    await guest.close();
    const guest2 = await openCharDevice(s.port);
    let fromHosts2 = '';
    guest2.incoming$.subscribe((b) => (fromHosts2 += Buffer.from(b).toString('latin1')));
    await guest2.write(Buffer.from('two\n'));
    await eventually(() => got2 === 'two\n', 2_000, 'second host served after the first left');
    await eventually(() => fromHosts2 === 'from the second\n', 2_000, "second host's bytes reach the guest");
    expect(fromHosts).toBe('');
    expect(s.stats()).toMatchObject({ connections: 2, queued: 0, hangups: 1 });
    await guest2.close();
  });

  it('the CLI: --help, and close removes the port and the socket', async () => {
    const help = spawnTracked([process.execPath, STANDIN_BIN, '--help']);
    expect((await help.wait(10_000)).code).toBe(0);
    expect(help.stdout()).toMatch(/Usage: virtio-standin \[options\][\s\S]*--port <PATH>[\s\S]*--socket <PATH>/);
    const port = join(dir, 'cli-port');
    const sock = join(dir, 'cli.sock');
    const cli = spawnTracked([process.execPath, STANDIN_BIN, '--port', port, '--socket', sock]);
    await cli.waitFor('virtio-standin: port', 10_000, 'stderr');
    const t = await connect(sock);
    let got = '';
    t.incoming$.subscribe((b) => (got += Buffer.from(b).toString('latin1')));
    const guest: CharDeviceTransport = await openCharDevice(port);
    await guest.write(Buffer.from('via cli\n'));
    await eventually(() => got === 'via cli\n', 2_000, 'relayed');
    await guest.close();
    cli.kill('SIGTERM');
    expect((await cli.wait(10_000)).code).toBe(0);
    expect(readdirSync(dir)).not.toContain('cli-port');
    expect(readdirSync(dir)).not.toContain('cli.sock');
  });
});

describeNeeding([NEED_SOCAT], 'virtio stand-in tests', 'virtio stand-in: our host and our guest', () => {
  it("(g) libvirt: a stand-in stapvirt relays the port; the status is the child's, not stapvirt's", async () => {
    const s = await standin();

    // stapvirt's job, as `stapvirt [-c URI] connect DOMAIN` does it: relay stdio to the VM's port.
    const stapvirt = join(dir, 'stapvirt');
    writeFileSync(stapvirt, `#!/bin/sh\n[ "$3" = connect ] && [ "$4" = vm1 ] || { echo "bad argv: $*" >&2; exit 64; }\nexec socat - UNIX-CONNECT:${s.socket}\n`);
    chmodSync(stapvirt, 0o755);
    const uri = 'libvirt://vm1/qemu:///system';
    const spec = parseRemote(uri);
    if (!spec.ok) throw new Error(spec.message);
    const guest = ourGuest(s.port, { TICKS: '2', STATUS: '5' });
    const transport = await connectRemote(spec.spec, uri, { stapvirtCommand: stapvirt });
    transports.push(transport);
    expect(transport.capabilities.freshPeer).toBe(false);
    // Data mode by default, as stap asks for libvirt: stapvirt's stderr is its own, the guest's is in the port.
    const run = await host(s.socket, transport);
    const result = await within(run.session.done, 20_000, 'session end');
    expect(result.ok, result.ok ? '' : result.error).toBe(true);
    expect(result.ok && result.extensions).toEqual({ status: true, nonce: true });
    expect(result.exit).toEqual({ code: 5, signal: null });
    expect(run.stdout()).toMatch(/tick 0\ntick 1\n$/);
    expect(run.stderr()).toBe('to stderr\n');
    expect(run.wire()).toMatch(/^stapsh \S+ \S+ \S+ nonce=/);
    expect((await guest.wait(10_000)).code).toBe(5);
  });

  it('(e) a restarting guest: the host sees no EOF, and a host that came first is answered by the next guest', async () => {
    const s = await standin();
    const t = await connect(s.socket);
    let completed = false;
    t.incoming$.subscribe({ complete: () => (completed = true), error: () => (completed = true) });
    for (let i = 0; i < 2; i++) {
      const g = ourGuest(s.port);
      await sleep(300);
      g.kill('SIGTERM');
      await g.wait(10_000);
    }
    await sleep(200);
    expect(completed).toBe(false);
    await t.close();

    // The host connects and sends its `stap` while no guest runs; the guest
    // starts a second later (RestartSec=1) and finds it waiting in the port.
    const run = await host(s.socket);
    await sleep(1_000);
    const guest = ourGuest(s.port, { TICKS: '2' });
    await expectComplete(run, 2);
    expect((await guest.wait(10_000)).code).toBe(0);
  });
});

describeReal('virtio stand-in with SystemTap 4.8', () => {
  let tree: string;
  beforeAll(() => {
    tree = fakeKernelTree(dir);
  });

  itReal('(b) real stap drives our stapsh -l through the port, twice, the guest restarted in between', async () => {
    const s = await standin();
    for (let round = 0; round < 2; round++) {
      const guest = ourGuest(s.port, { TICKS: '2', STATUS: '0' });
      const stap = spawnTracked([REAL_STAP, '--runtime=bpf', '-r', tree, `--remote=unix:${s.socket}`, '-e', SCRIPT], {
        env: { ...process.env, HOME: dir },
      });
      const { code } = await stap.wait(45_000);
      expect(code, stap.stderr()).toBe(0);
      expect(stap.stdout()).toMatch(/child args: \S+\/stapbpf \.\/stap_\d+\.bo\ntick 0\ntick 1\n$/);
      expect(stap.stderr()).toContain('to stderr\n');
      expect((await guest.wait(10_000)).code).toBe(0);
    }
  }, 120_000);

  itReal("(c) our host drives SystemTap's stapsh -l on the port", async () => {
    const s = await standin();
    const guest = realGuest(s.port, { TICKS: '3', STATUS: '0' });
    // SystemTap's -l guest opens the port, makes its temp dir, then sleeps
    // (2 s at a time) until a SIGIO, which a pty raises only for NEW input:
    // a `stap` line already waiting in the port would go unanswered until
    // more bytes came. So the host connects once the guest is waiting.
    await eventually(() => strayWorkspaces(guestTmp).length > 0, 10_000, "SystemTap's guest up");
    await sleep(200);
    const run = await host(s.socket);
    const result = await within(run.session.done, 20_000, 'session end');
    expect(result.ok, result.ok ? '' : result.error).toBe(true);
    expect(result.ok && result.hello.version).toBe('4.8');
    // SystemTap's guest knows neither extension: the host falls back silently (a plain hello, no status).
    expect(result.ok && result.extensions).toEqual({ status: false, nonce: false });
    expect(result.exit).toBeNull();
    expect(run.stdout()).toMatch(/^child args: \S+\/staprun .*\.\/stap_1234\.ko\ntick 0\ntick 1\ntick 2\n$/);
    expect(run.stderr()).toContain('to stderr\n');
    await guest.wait(10_000).catch(() => undefined);
    for (const pid of childPids()) expect(alive(pid)).toBe(false);
  });
});

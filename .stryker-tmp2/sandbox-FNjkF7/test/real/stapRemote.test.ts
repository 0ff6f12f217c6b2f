/** The `stap-remote` CLI end to end, against our guest and SystemTap's stapsh 4.8. */
// @ts-nocheck


import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { alive, eventually, killAll, spawnTracked, waitForListening } from '../support/procs.js';
import { describeReal, itReal, REAL_STAPSH, scriptedBindir } from '../support/realPeers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const STAP_REMOTE = join(ROOT, 'bin/stap-remote.js');
const OUR_STAPSH = join(ROOT, 'bin/stapsh.js');

const CHILD = `#!/bin/sh
echo $$ > "$CHILD_PIDDIR/$$"
sleep 0.2
echo "args: $*"
echo "to stderr" >&2
trap 'echo "end probe: bye"; exit 7' HUP
case "$*" in
  *forever.ko*) while :; do echo tick; sleep 0.1; done;;
esac
sleep 0.2
exit 3
`;

let dir: string;
let bindir: string;
let piddir: string;
let module3: string;
let moduleForever: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-cli-'));
  bindir = scriptedBindir(dir, CHILD);
  module3 = join(dir, 'three.ko');
  moduleForever = join(dir, 'forever.ko');
  writeFileSync(module3, 'ELF');
  writeFileSync(moduleForever, 'ELF');
});
// One pid dir per test: a pid from an earlier test's (dead) child would make "the child is gone" vacuous.
beforeEach(() => {
  piddir = mkdtempSync(join(dir, 'pids-'));
});
afterEach(() => killAll());

/** The one child this test started. */
function onlyChild(): number {
  const pids = readdirSync(piddir).map(Number);
  expect(pids).toHaveLength(1);
  return pids[0]!;
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = () => ({ ...process.env, TMPDIR: dir, CHILD_PIDDIR: piddir, STAPSH_BINDIR: bindir });
const cli = (...args: string[]) => spawnTracked([process.execPath, STAP_REMOTE, ...args], { env: env() });
const ourStapsh = () => `${process.execPath} ${OUR_STAPSH} --bindir ${bindir}`;

describe('stap-remote', () => {
  it('--help documents every option', async () => {
    const p = cli('--help');
    expect((await p.wait(10_000)).code).toBe(0);
    for (const opt of ['--remote', '--remote-prefix', '--verbose', '--stapsh', '--timeout']) expect(p.stdout()).toContain(opt);
  });

  it('a bad remote URI: stap\'s message, exit 1', async () => {
    const p = cli('--remote=foo:bar', module3);
    expect((await p.wait(10_000)).code).toBe(1);
    expect(p.stderr()).toBe("unrecognized URI scheme 'foo' in remote: foo:bar on remote 'foo:bar'\n");
  });

  it('over stapsh: (stdio) the exit status is the child\'s', async () => {
    const p = cli('--remote=stapsh:', '--stapsh', ourStapsh(), module3);
    const { code } = await p.wait(20_000);
    expect(p.stdout()).toBe('args: -R -r 0:stapsh: ./three.ko\n');
    expect(p.stderr()).toBe('to stderr\n');
    expect(code).toBe(3);
  });

  it('over unix: (data mode) output arrives, and the child\'s status 3 through option status; with --remote-prefix', async () => {
    const sock = join(dir, 'cli.sock');
    spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${sock}`, '--bindir', bindir], { env: env() });
    await waitForListening(sock);
    const p = cli(`--remote=unix:${sock}`, `--remote=unix:${sock}`, '--remote-prefix', module3);
    const { code } = await p.wait(20_000);
    // SystemTap's stap exits 0 here: a socket carries no exit status without the extension.
    expect(code).toBe(3);
    const lines = p.stdout().split('\n').filter(Boolean).sort();
    expect(lines).toEqual([`0: args: -R -r 0:unix:${sock} ./three.ko`, `1: args: -R -r 1:unix:${sock} ./three.ko`]);
    expect(p.stderr()).toBe('to stderr\nto stderr\n');
  });

  it('--no-extensions on either side: SystemTap\'s behaviour, exit 0 over unix (no status on a socket)', async () => {
    const sock = join(dir, 'plain.sock');
    spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${sock}`, '--bindir', bindir, '--no-extensions'], { env: env() });
    await waitForListening(sock);
    const plainGuest = cli(`--remote=unix:${sock}`, module3);
    expect((await plainGuest.wait(20_000)).code).toBe(0);
    expect(plainGuest.stdout()).toContain('args: -R -r 0:unix:');
    const sock2 = join(dir, 'plain2.sock');
    spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${sock2}`, '--bindir', bindir], { env: env() });
    await waitForListening(sock2);
    const plainHost = cli(`--remote=unix:${sock2}`, '--no-extensions', module3);
    expect((await plainHost.wait(20_000)).code).toBe(0);
    // The guest's side of --no-extensions, on the wire.
    const guest = spawnTracked([process.execPath, OUR_STAPSH, '--no-extensions', '--bindir', bindir], { env: env() });
    guest.child.stdin!.end('stap 4.8 nonce=abc\noption status\n');
    expect((await guest.wait(10_000)).code).toBe(0);
    expect(guest.stdout()).toMatch(/^stapsh \S+ \S+ \S+\nERROR: Invalid option\n$/);
  });

  it('Ctrl-C sends quit: the child is hung up, its last words arrive, the CLI exits with its status within its reply bound', async () => {
    const p = cli('--remote=stapsh:', '--stapsh', ourStapsh(), '--timeout', '5', moduleForever);
    await p.waitFor('tick', 20_000, 'stdout');
    const pid = onlyChild();
    p.kill('SIGINT');
    // The feature's bound: the 5 s reply timeout, with a generous margin.
    const { code } = await p.wait(15_000);
    expect(p.stdout()).toMatch(/end probe: bye\n$/);
    expect(code).toBe(7);
    await eventually(() => !alive(pid), 10_000, 'child gone');
  });
});

describeReal('stap-remote drives SystemTap stapsh 4.8 over stdio', () => {
  const realStapsh = () => {
    const child = join(dir, 'real-child.sh');
    writeFileSync(child, CHILD);
    chmodSync(child, 0o755);
    return `unshare -m sh -c 'mount --bind "$0" /usr/bin/staprun && exec ${REAL_STAPSH}' ${child}`;
  };

  itReal('output, stderr, and exit status 3 when the child exits 3', async () => {
    const p = cli('--remote=stapsh:', '--stapsh', realStapsh(), module3);
    const { code } = await p.wait(20_000);
    expect(p.stdout()).toBe('args: -R -r 0:stapsh: ./three.ko\n');
    expect(p.stderr()).toBe('to stderr\n');
    expect(code).toBe(3);
  });

  itReal('Ctrl-C: the child is gone and the CLI is out within its reply bound', async () => {
    const p = cli('--remote=stapsh:', '--stapsh', realStapsh(), '--timeout', '5', moduleForever);
    await p.waitFor('tick', 20_000, 'stdout');
    const pid = onlyChild();
    p.kill('SIGINT');
    // The feature's bound: the 5 s reply timeout, with a generous margin.
    const { code } = await p.wait(15_000);
    // SystemTap's guest: without data mode the child shares its stdout, so its last words arrive too.
    expect(p.stdout()).toMatch(/end probe: bye\n$/);
    expect(code).toBe(7);
    await eventually(() => !alive(pid), 10_000, 'child gone');
  });
});

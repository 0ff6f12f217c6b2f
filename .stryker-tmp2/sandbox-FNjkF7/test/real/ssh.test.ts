/**
 * The `ssh` scheme against a real OpenSSH server: a throwaway `sshd` from
 * Debian's openssh-server on 127.0.0.1 (foreground, own host key, root login
 * by a throwaway client key), whose remote PATH finds a `stapsh` wrapper
 * that execs our guest with a scripted child in its bindir. The client is
 * the system `ssh`, run by `connectSsh` with SystemTap's exact remote
 * command.
 *
 * Needs /usr/sbin/sshd, ssh, ssh-keygen and root: skipped locally when
 * missing, a failing test in CI (like describeReal).
 */
// @ts-nocheck


import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release as osRelease, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSession, type OutputChunk } from '../../host/session.js';
import { runOnRemotes, type RemoteOutput } from '../../host/runner.js';
import {
  LEGACY_RELEASE,
  legacyRunCommand,
  needsSshLegacy,
  remoteQuote,
  SshLegacyRemote,
  startSshLegacySession,
} from '../../host/sshLegacy.js';
import { concatBytes } from '../../protocol/bytes.js';
import { ProcessTransport } from '../../transports/processTransport.js';
import {
  classifySshExit,
  connectSsh,
  sshArgv,
  sshExitError,
  sshHostOfUri,
  stapshRemoteCommand,
} from '../../transports/ssh.js';
import type { Transport } from '../../transports/transport.js';
import { alive, eventually, killAll, spawnTracked, type Proc } from '../support/procs.js';
import { describeSsh, freePort, startPrivateSshd } from '../support/sshd.js';

const REPO = resolve(import.meta.dirname, '../..');
const OUR_STAPSH = join(REPO, 'bin', 'stapsh.js');
const STAP_REMOTE = join(REPO, 'bin', 'stap-remote.js');
const MODULE = { name: 'stap_1234.ko', bytes: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]) };

// ---------------------------------------------------------------------------
// A throwaway sshd

let dir: string;
const transports: Transport[] = [];
const remotePids: number[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-ssh-'));
  chmodSync(dir, 0o755);
});
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close().catch(() => undefined)));
  for (const pid of remotePids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  killAll();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Sshd {
  readonly port: number;
  readonly proc: Proc;
  /** The guest's TMPDIR on the "remote". */
  readonly tmp: string;
  /** Client arguments for `extraSshArgs`. */
  readonly clientArgs: readonly string[];
}

let seq = 0;

/** Start sshd; the remote login's PATH is `pathDirs` (so `stapsh` is found there or not). */
async function startSshd(pathDirs: readonly string[]): Promise<Sshd> {
  const home = join(dir, `sshd-${++seq}`);
  const tmp = join(home, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const { port, proc, clientArgs } = await startPrivateSshd(home, { PATH: pathDirs.join(':'), TMPDIR: tmp });
  return { port, proc, tmp, clientArgs };
}

/** A bindir with a scripted `staprun`, and a dir with a `stapsh` wrapper exec'ing our guest with that bindir. */
function stapshOnPath(name: string, childScript: string): { pathDir: string; guestPids: () => number[]; childPids: () => number[] } {
  const base = join(dir, name);
  const bindir = join(base, 'bindir');
  const pathDir = join(base, 'path');
  mkdirSync(bindir, { recursive: true });
  mkdirSync(pathDir, { recursive: true });
  const childPidFile = join(base, 'child.pids');
  const guestPidFile = join(base, 'guest.pids');
  const child = `#!/bin/sh\necho $$ >> ${childPidFile}\n${childScript}`;
  for (const p of ['staprun', 'stapbpf']) {
    writeFileSync(join(bindir, p), child);
    chmodSync(join(bindir, p), 0o755);
  }
  writeFileSync(
    join(pathDir, 'stapsh'),
    `#!/bin/sh\necho $$ >> ${guestPidFile}\nexec ${process.execPath} ${OUR_STAPSH} --bindir ${bindir} --protocol-version 4.8 "$@"\n`,
  );
  chmodSync(join(pathDir, 'stapsh'), 0o755);
  const pids = (file: string) => () => {
    const list = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : [];
    for (const p of list) if (!remotePids.includes(p)) remotePids.push(p);
    return list;
  };
  return { pathDir, guestPids: pids(guestPidFile), childPids: pids(childPidFile) };
}

const uriOf = (port: number) => `ssh://root@127.0.0.1:${port}`;

async function connect(sshd: Sshd, verbose = 0): Promise<Transport> {
  const t = await connectSsh({ host: '127.0.0.1', port: sshd.port, user: 'root' }, uriOf(sshd.port), {
    extraSshArgs: sshd.clientArgs,
    verbose,
  });
  transports.push(t);
  return t;
}

function collect(chunks: OutputChunk[], stream: 'stdout' | 'stderr'): Buffer {
  return Buffer.from(concatBytes(chunks.filter((c) => c.stream === stream).map((c) => c.bytes)));
}

function stray(tmp: string): string[] {
  return existsSync(tmp) ? readdirSync(tmp).filter((n) => n.startsWith('stapsh.')) : [];
}

/** The client arguments as an ssh_config file, for `stap-remote --ssh-config FILE`. */
function sshConfigFile(sshd: Sshd): string {
  const lines = ['Host *'];
  for (let i = 0; i < sshd.clientArgs.length; i += 2) {
    if (sshd.clientArgs[i] === '-o') lines.push(`  ${sshd.clientArgs[i + 1]!.replace('=', ' ')}`);
  }
  const file = join(dir, `ssh_config.${sshd.port}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** A PATH dir with no stapsh but a scripted `staprun` (legacy mode's remote). */
function staprunOnPath(name: string, script: string): string {
  const pathDir = join(dir, name, 'path');
  mkdirSync(pathDir, { recursive: true });
  writeFileSync(join(pathDir, 'staprun'), `#!/bin/sh\n${script}`);
  chmodSync(join(pathDir, 'staprun'), 0o755);
  return pathDir;
}

/** Legacy temp dirs (`stapXXXXXX`) left in the remote's TMPDIR. */
function legacyDirs(tmp: string): string[] {
  return existsSync(tmp) ? readdirSync(tmp).filter((n) => /^stap[A-Za-z0-9]{6}$/.test(n)) : [];
}

/** Control masters of ours still running. */
function masters(): string {
  return spawnSync('pgrep', ['-f', `ControlPath=.*stapflow-sshctl-`], { encoding: 'utf8' }).stdout.trim();
}

function writeModule(name: string): string {
  const path = join(dir, name);
  writeFileSync(path, MODULE.bytes);
  return path;
}

const stapRemote = (...args: string[]) => spawnTracked([process.execPath, STAP_REMOTE, ...args]);

// ---------------------------------------------------------------------------
// Pure parts

describe('ssh argv and exit statuses', () => {
  it("is SystemTap's argv: ssh -q [USER@]HOST [-p PORT] and one remote command string", () => {
    expect(sshArgv({ host: 'box', port: null, user: null })).toEqual([
      'ssh',
      '-q',
      'box',
      "/bin/bash -c 'cmd=`type -P stapsh || exit 127` && exec \"$cmd\"'",
    ]);
    expect(sshArgv({ host: 'box', port: 2222, user: 'root' }, { verbose: 1, sshCommand: '/opt/ssh', extraSshArgs: ['-F', 'cfg'] })).toEqual([
      '/opt/ssh',
      '-F',
      'cfg',
      '-q',
      'root@box',
      '-p',
      '2222',
      "/bin/bash -c 'cmd=`type -P stapsh || exit 127` && exec \"$cmd\" -v'",
    ]);
    // At most two -v, as SystemTap (stap -vv → one, -vvv → two).
    expect(stapshRemoteCommand(5)).toBe("/bin/bash -c 'cmd=`type -P stapsh || exit 127` && exec \"$cmd\" -v -v'");
    expect(sshArgv({ host: '[::1]', port: 22, user: null }).slice(1, 3)).toEqual(['-q', '::1']);
  });

  it('refuses hosts and users ssh would read as options, and bad ports', async () => {
    for (const spec of [
      { host: '-oProxyCommand=touch /tmp/x', port: null, user: null },
      { host: 'a b', port: null, user: null },
      { host: '', port: null, user: null },
      { host: 'box', port: null, user: '-oX' },
      { host: 'box', port: 0, user: null },
      { host: 'box', port: 65536, user: null },
    ]) {
      await expect(connectSsh(spec, 'ssh://x')).rejects.toMatchObject({ code: 'EINVAL' });
    }
  });

  it('a missing ssh program is a clear start failure', async () => {
    await expect(connectSsh({ host: 'box', port: null, user: null }, 'ssh://box', { sshCommand: join(dir, 'no-such-ssh') })).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('classifies 255, 127 and the rest', () => {
    expect(classifySshExit({ code: 255, signal: null })).toBe('connection-failed');
    expect(classifySshExit(127)).toBe('no-stapsh');
    expect(classifySshExit({ code: 0, signal: null })).toBe('ok');
    expect(classifySshExit({ code: 3, signal: null })).toBe('remote-status');
    expect(classifySshExit({ code: null, signal: 'SIGKILL' })).toBe('signal');
    expect(classifySshExit(null)).toBe('unknown');
    expect(sshExitError({ code: 3, signal: null }, 'ssh://box')).toBeNull();
    expect(sshExitError(255, 'ssh://me@box:22/')?.message).toMatch(/^ssh connection to box failed .* on remote 'ssh:\/\/me@box:22\/'$/);
    expect(sshExitError(127, 'box:2222')).toMatchObject({ kind: 'no-stapsh', host: 'box', remote: 'box:2222' });
    expect(sshHostOfUri('ssh://[::1]:22')).toBe('::1');
  });

  it('falls back to legacy mode only for a session that ended without a hello and with ssh status 127', () => {
    const hello = { version: '4.8', machine: 'x86_64', kernelRelease: '6.1.0' };
    expect(needsSshLegacy({ ok: false, error: 'x', hello: null, exit: { code: 127, signal: null } })).toBe(true);
    expect(needsSshLegacy({ ok: false, error: 'x', hello: null, exit: { code: 255, signal: null } })).toBe(false);
    expect(needsSshLegacy({ ok: false, error: 'x', hello, exit: { code: 127, signal: null } })).toBe(false);
    expect(needsSshLegacy({ ok: true, hello, ended: 'eof', status: null, extensions: { status: false, nonce: false }, exit: { code: 127, signal: null } })).toBe(false);
    expect(needsSshLegacy({ ok: false, error: 'x', hello: null, exit: null })).toBe(false);
    expect(legacyRunCommand('/tmp/stapAB12cd', 'm.ko', ['x=1'])).toEqual(['staprun', '/tmp/stapAB12cd/m.ko', 'x=1']);
  });
});

// ---------------------------------------------------------------------------
// Against a real sshd

describeSsh('ssh scheme against a real sshd', () => {
  it('a whole session through ssh://: output, separate stderr, and the child status as ssh exit', async () => {
    const bin = join(dir, 'all.bin');
    writeFileSync(bin, Buffer.from([...Array(256).keys(), 0x0a, ...Buffer.from('data stdout 5\nquit\n')]));
    const remote = stapshOnPath('whole', `echo "args: $*"\necho "to stderr" >&2\ncat ${bin}\nsleep 0.2\nexit 3\n`);
    const sshd = await startSshd([remote.pathDir, '/usr/bin', '/bin']);
    const transport = await connect(sshd);
    expect(transport.capabilities.separateStderr).toBe(true);
    const session = startSession(transport, { module: MODULE, remote: uriOf(sshd.port), replyTimeoutMs: 20_000 });
    const chunks: OutputChunk[] = [];
    session.output$.subscribe((c) => chunks.push(c));
    const result = await session.done;
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect(result.ok && result.hello.version).toBe('4.8');
    const stdout = collect(chunks, 'stdout');
    const expectedArgs = `args: -R -r 0:${uriOf(sshd.port)} ./stap_1234.ko\n`;
    expect(stdout.subarray(0, expectedArgs.length).toString('latin1')).toBe(expectedArgs);
    // Binary-safe, and lines that look like frames are plain output (no data mode over ssh).
    expect(stdout.subarray(expectedArgs.length).equals(readFileSync(bin))).toBe(true);
    expect(collect(chunks, 'stderr').toString('latin1')).toBe('to stderr\n');
    expect(result.exit).toEqual({ code: 3, signal: null });
    expect(classifySshExit(result.exit)).toBe('remote-status');
    expect(sshExitError(result.exit, uriOf(sshd.port))).toBeNull();
    // The remote guest cleaned up and is gone.
    expect(remote.guestPids()).toHaveLength(1);
    await eventually(() => remote.guestPids().every((p) => !alive(p)), 5_000, 'remote guest gone');
    expect(stray(sshd.tmp)).toEqual([]);
  });

  it('verbose puts -v inside the remote command: the guest debug lines arrive on stderr', async () => {
    const remote = stapshOnPath('verbose', 'echo out\nexit 0\n');
    const sshd = await startSshd([remote.pathDir, '/usr/bin', '/bin']);
    const transport = await connect(sshd, 1);
    const session = startSession(transport, { module: MODULE, remote: uriOf(sshd.port), replyTimeoutMs: 20_000 });
    const chunks: OutputChunk[] = [];
    session.output$.subscribe((c) => chunks.push(c));
    const result = await session.done;
    expect(result.ok).toBe(true);
    expect(collect(chunks, 'stdout').toString('latin1')).toBe('out\n');
    expect(collect(chunks, 'stderr').toString('latin1')).toMatch(/^stapsh: /m);
    expect(result.exit).toEqual({ code: 0, signal: null });
  });

  it('no stapsh on the remote PATH: ssh exits 127 and sshExitError says so', async () => {
    const empty = join(dir, 'empty-path');
    mkdirSync(empty, { recursive: true });
    const sshd = await startSshd([empty]);
    const transport = await connect(sshd);
    const session = startSession(transport, { module: MODULE, remote: uriOf(sshd.port), replyTimeoutMs: 20_000 });
    const result = await session.done;
    expect(result.ok).toBe(false);
    await expect(session.hello).rejects.toThrow();
    expect(result.exit).toEqual({ code: 127, signal: null });
    expect(classifySshExit(result.exit)).toBe('no-stapsh');
    const error = sshExitError(result.exit, uriOf(sshd.port));
    expect(error?.kind).toBe('no-stapsh');
    expect(error?.message).toContain('no stapsh on 127.0.0.1');
    expect(error?.message).toContain(uriOf(sshd.port));
    expect(error?.message).toContain('legacy');
  });

  it('a closed port: ssh exits 255, a connection failure naming the remote', async () => {
    const port = await freePort();
    const uri = uriOf(port);
    const transport = await connectSsh({ host: '127.0.0.1', port, user: 'root' }, uri, {
      extraSshArgs: ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'],
    });
    transports.push(transport);
    const started = Date.now();
    const session = startSession(transport, { module: MODULE, remote: uri, replyTimeoutMs: 20_000 });
    const result = await session.done;
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.ok).toBe(false);
    expect(result.exit).toEqual({ code: 255, signal: null });
    const error = sshExitError(result.exit, uri);
    expect(error?.kind).toBe('connection-failed');
    expect(error?.message).toContain('ssh connection to 127.0.0.1 failed');
    expect(error?.message).toContain(`'${uri}'`);
  });

  it('closing the host transport ends ssh, the remote guest and its child, and removes the workspace', async () => {
    const remote = stapshOnPath('close', 'echo ready\nexec sleep 60\n');
    const sshd = await startSshd([remote.pathDir, '/usr/bin', '/bin']);
    const transport = await connect(sshd);
    const session = startSession(transport, { module: MODULE, remote: uriOf(sshd.port), replyTimeoutMs: 20_000 });
    const chunks: OutputChunk[] = [];
    session.output$.subscribe((c) => chunks.push(c));
    await eventually(() => collect(chunks, 'stdout').toString('latin1').includes('ready'), 20_000, 'child output over ssh');
    expect(remote.guestPids()).toHaveLength(1);
    expect(remote.childPids()).toHaveLength(1);
    expect(remote.childPids().every(alive)).toBe(true);
    await session.close();
    const exit = await Promise.race([transport.exit!, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    expect(exit).not.toBeNull();
    await eventually(() => [...remote.guestPids(), ...remote.childPids()].every((p) => !alive(p)), 10_000, 'remote guest and child gone');
    await eventually(() => stray(sshd.tmp).length === 0, 5_000, 'remote workspace removed');
    await session.done;
  });

  it('a SIGKILLed ssh (host gone) still ends the remote guest and its child', async () => {
    const remote = stapshOnPath('killed', 'echo ready\nexec sleep 60\n');
    const sshd = await startSshd([remote.pathDir, '/usr/bin', '/bin']);
    const transport = await connect(sshd);
    expect(transport).toBeInstanceOf(ProcessTransport);
    const session = startSession(transport, { module: MODULE, remote: uriOf(sshd.port), replyTimeoutMs: 20_000 });
    const chunks: OutputChunk[] = [];
    session.output$.subscribe((c) => chunks.push(c));
    await eventually(() => collect(chunks, 'stdout').toString('latin1').includes('ready'), 20_000, 'child output over ssh');
    (transport as ProcessTransport).kill('SIGKILL');
    const result = await session.done;
    expect(result.exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(classifySshExit(result.exit)).toBe('signal');
    await eventually(() => [...remote.guestPids(), ...remote.childPids()].every((p) => !alive(p)), 15_000, 'remote guest and child gone');
    await eventually(() => stray(sshd.tmp).length === 0, 5_000, 'remote workspace removed');
  });

  it('legacy mode: master, uname -rm, mktemp, scp, ssh -t staprun, rm -r, master exit', async () => {
    const base = join(dir, 'legacy');
    const pathDir = join(base, 'path');
    mkdirSync(pathDir, { recursive: true });
    // No stapsh, but a scripted staprun on the remote PATH.
    writeFileSync(join(pathDir, 'staprun'), '#!/bin/sh\necho "staprun $*"\nod -An -tx1 "$1"\necho "to stderr" >&2\nexit 4\n');
    chmodSync(join(pathDir, 'staprun'), 0o755);
    const sshd = await startSshd([pathDir, '/usr/bin', '/bin']);
    const uri = uriOf(sshd.port);
    // The remote really has no stapsh: the stapsh command exits 127.
    const probe = await connect(sshd);
    expect(await probe.exit).toEqual({ code: 127, signal: null });

    const remote = await SshLegacyRemote.open({ host: '127.0.0.1', port: sshd.port, user: 'root' }, uri, {
      extraSshArgs: sshd.clientArgs,
      stepTimeoutMs: 20_000,
    });
    try {
      expect(remote.release).toBe(osRelease());
      expect(remote.machine).toBe(spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim());
      const remoteDir = await remote.makeTempDir();
      expect(remoteDir).toMatch(/\/stap[A-Za-z0-9]{6}$/);
      expect(existsSync(remoteDir)).toBe(true);
      const local = join(base, MODULE.name);
      writeFileSync(local, MODULE.bytes);
      await remote.upload(local, MODULE.name);
      expect(readFileSync(join(remoteDir, MODULE.name))).toEqual(Buffer.from(MODULE.bytes));
      const running = await remote.runCommand(legacyRunCommand(remoteDir, MODULE.name, ['x=a b']));
      transports.push(running);
      let out = '';
      let err = '';
      running.incoming$.subscribe((b) => (out += Buffer.from(b).toString('latin1')));
      running.stderr$.subscribe((b) => (err += Buffer.from(b).toString('latin1')));
      const exit = await Promise.race([running.exit, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
      expect(exit).toEqual({ code: 4, signal: null });
      await eventually(() => out.includes('7f 45 4c 46'), 5_000, 'module bytes echoed');
      expect(out.startsWith(`staprun ${remoteDir}/${MODULE.name} x=a b\n`)).toBe(true);
      expect(err).toBe('to stderr\n');
      await remote.removeTempDir();
      expect(existsSync(remoteDir)).toBe(false);
    } finally {
      await remote.close();
    }
    // The master is gone with its control socket.
    const masters = spawnSync('pgrep', ['-f', `ControlPath=.*stapflow-sshctl-`], { encoding: 'utf8' }).stdout.trim();
    expect(masters).toBe('');
  });

  it('stap-remote over ssh:// with stapsh on the remote PATH: output, stderr, and the child status as exit status', async () => {
    const remote = stapshOnPath('cli-normal', 'echo "args: $*"\necho "to stderr" >&2\nexit 3\n');
    const sshd = await startSshd([remote.pathDir, '/usr/bin', '/bin']);
    const module = writeModule('stap_1234.ko');
    const p = stapRemote(`--remote=${uriOf(sshd.port)}`, '--ssh-config', sshConfigFile(sshd), module, 'x=1');
    const { code } = await p.wait(30_000);
    expect(p.stdout()).toBe(`args: -R -r 0:${uriOf(sshd.port)} ./stap_1234.ko x=1\n`);
    expect(p.stderr()).toBe('to stderr\n');
    expect(code).toBe(3);
    await eventually(() => remote.guestPids().every((p) => !alive(p)), 5_000, 'remote guest gone');
    expect(stray(sshd.tmp)).toEqual([]);
  });

  it('stap-remote over ssh:// without stapsh: legacy mode runs staprun, carries its status, removes the temp dir and the master', async () => {
    const pathDir = staprunOnPath('cli-legacy', 'echo "staprun $*"\nod -An -tx1 "$1"\necho "to stderr" >&2\nexit 4\n');
    const sshd = await startSshd([pathDir, '/usr/bin', '/bin']);
    const module = writeModule('stap_1234.ko');
    const p = stapRemote(`--remote=${uriOf(sshd.port)}`, '--ssh-config', sshConfigFile(sshd), '--remote-prefix', module, 'x=a b');
    const { code } = await p.wait(60_000);
    // Release "1.3": no -R, no -r; the module by its path in the remote temp dir; stdout prefixed as any remote's.
    expect(p.stdout()).toMatch(new RegExp(`^0: staprun ${sshd.tmp}/stap[A-Za-z0-9]{6}/stap_1234\\.ko x=a b\\n0:  7f 45 4c 46 00 01 02 03\\n$`));
    expect(p.stderr()).toBe('to stderr\n');
    expect(code).toBe(4);
    expect(legacyDirs(sshd.tmp)).toEqual([]);
    expect(masters()).toBe('');
  });

  it('stap-remote in legacy mode: Ctrl-C sends SIGINT to the remote staprun, its last words and status arrive, all is cleaned up', async () => {
    const pidFile = join(dir, 'cli-legacy-int.pid');
    const pathDir = staprunOnPath(
      'cli-legacy-int',
      `echo $$ > ${pidFile}\ntrap 'echo "got INT"; exit 7' INT\ntrap 'echo "got HUP"; exit 8' HUP\necho ready\nwhile :; do sleep 0.1; done\n`,
    );
    const sshd = await startSshd([pathDir, '/usr/bin', '/bin']);
    const module = writeModule('stap_1234.ko');
    const p = stapRemote(`--remote=${uriOf(sshd.port)}`, '--ssh-config', sshConfigFile(sshd), module);
    await p.waitFor('ready', 30_000, 'stdout');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    remotePids.push(pid);
    expect(alive(pid)).toBe(true);
    expect(legacyDirs(sshd.tmp)).toHaveLength(1);
    const t0 = Date.now();
    p.kill('SIGINT');
    const { code } = await p.wait(15_000);
    // Bounded by the legacy session's signal timeout (5 s) plus ssh's own teardown; a loaded machine took 5.1 s.
    expect(Date.now() - t0).toBeLessThan(12_000);
    expect(p.stdout()).toBe('ready\ngot INT\n');
    expect(code).toBe(7);
    expect(alive(pid)).toBe(false);
    expect(legacyDirs(sshd.tmp)).toEqual([]);
    expect(masters()).toBe('');
  });

  it('runOnRemotes falls back per remote: the legacy session replaces the failed one (hello from uname, release 1.3); close() hangs staprun up', async () => {
    const pathDir = staprunOnPath('runner-legacy', `trap 'echo "got HUP"; exit 8' HUP\necho ready\nwhile :; do sleep 0.1; done\n`);
    const sshd = await startSshd([pathDir, '/usr/bin', '/bin']);
    const uri = uriOf(sshd.port);
    const failures: boolean[] = [];
    const runner = runOnRemotes([uri], {
      module: MODULE,
      replyTimeoutMs: 20_000,
      connect: async () => {
        const t = await connect(sshd);
        return t;
      },
      fallback: (u, index, failed) => {
        failures.push(needsSshLegacy(failed));
        return startSshLegacySession({ host: '127.0.0.1', port: sshd.port, user: 'root' }, u, {
          module: MODULE,
          extraSshArgs: sshd.clientArgs,
          stepTimeoutMs: 20_000,
        });
      },
    });
    const chunks: RemoteOutput[] = [];
    const completed = new Promise<void>((r) => runner.output$.subscribe({ next: (c) => chunks.push(c), complete: r }));
    await eventually(() => collect(chunks, 'stdout').toString('latin1').includes('ready'), 30_000, 'legacy output');
    expect(failures).toEqual([true]);
    await runner.close();
    await completed;
    const { results, firstFailure } = await runner.done;
    expect(collect(chunks, 'stdout').toString('latin1')).toBe('ready\ngot HUP\n');
    expect(results).toHaveLength(1);
    const result = results[0]!.result;
    expect(result.hello).toEqual({ version: LEGACY_RELEASE, machine: spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim(), kernelRelease: osRelease() });
    expect(result).toMatchObject({ ok: false, exit: { code: 8, signal: null } });
    expect(!result.ok && result.error).toBe(`closed by the host on remote '${uri}'`);
    expect(firstFailure?.uri).toBe(uri);
    expect(legacyDirs(sshd.tmp)).toEqual([]);
    expect(masters()).toBe('');
  });

  it('legacy mode: a failing master is a clear, bounded error', async () => {
    const port = await freePort();
    await expect(
      SshLegacyRemote.open({ host: '127.0.0.1', port, user: 'root' }, uriOf(port), {
        extraSshArgs: ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10'],
        stepTimeoutMs: 15_000,
      }),
    ).rejects.toThrow(`failed to create an ssh control master for ${uriOf(port)} : rc= 255`);
    expect(remoteQuote("it's")).toBe(`'it'\\''s'`);
    expect(remoteQuote('/tmp/stapAB12cd/m.ko')).toBe('/tmp/stapAB12cd/m.ko');
  });
});

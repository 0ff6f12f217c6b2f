/**
 * `stap-remote` with a script (#14): SystemTap's real stap 4.8 compiles
 * (BPF runtime, fake kernel trees given with --kernel-tree), the module runs
 * on our guest and on SystemTap's stapsh with a scripted child (this
 * machine cannot load BPF programs: real stapbpf fails on the memlock
 * limit). Compiles are counted with a `--stap` wrapper around real stap.
 */

import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, expect } from 'vitest';
import { eventually, killAll, pidAlive, spawnTracked, trackedTempDir, waitForListening, type Proc } from '../support/procs.js';
import {
  describeReal,
  fakeKernelTree,
  HELLO_SCRIPT,
  itReal,
  REAL_STAP,
  REAL_STAPSH,
  runRealStap,
  scriptedBindir,
  settledWorkspaces,
  socatUnixListen,
} from '../support/realPeers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const STAP_REMOTE = join(ROOT, 'bin/stap-remote.js');
const OUR_STAPSH = join(ROOT, 'bin/stapsh.js');
const INDEX = join(ROOT, 'dist/index.js');
const OTHER_RELEASE = '6.99.0-stapflow-test';

/**
 * Plays the compiled program: says hi as the script would, and which module
 * it was given (on stderr). It lingers a little before exiting: with a
 * child that exited at once, SystemTap's stapsh 4.8 relayed its stderr but
 * not its stdout (measured while writing this test).
 */
const CHILD = `#!/bin/sh
echo "module: $*" >&2
echo hi
sleep 0.3
exit 0
`;

let dir: string;
let bindir: string;
let guestTmp: string;
let tree: string;
let otherTree: string;
let counter: string;
let countFile: string;

beforeAll(() => {
  dir = trackedTempDir('stapflow-script-');
  chmodSync(dir, 0o755);
  bindir = scriptedBindir(dir, CHILD);
  guestTmp = join(dir, 'guest-tmp');
  mkdirSync(guestTmp);
  tree = fakeKernelTree(join(dir, 'this'));
  otherTree = fakeKernelTree(join(dir, 'other'), OTHER_RELEASE);
  countFile = join(dir, 'stap-invocations');
  counter = join(dir, 'counting-stap');
  writeFileSync(counter, `#!/bin/sh\nprintf "%s\\n" "$*" >> "${countFile}"\nexec ${REAL_STAP} "$@"\n`);
  chmodSync(counter, 0o755);
});
afterEach(() => killAll());


const invocations = () => (existsSync(countFile) ? readFileSync(countFile, 'utf8').split('\n').filter(Boolean) : []);

/** A private run environment: its own cache, HOME (stap's ~/.systemtap) and TMPDIR (to see that nothing is left). */
function runEnv(name: string): { env: NodeJS.ProcessEnv; tmp: string; cache: string } {
  const base = join(dir, name);
  const tmp = join(base, 'tmp');
  const cache = join(base, 'cache');
  mkdirSync(tmp, { recursive: true });
  mkdirSync(join(base, 'home'), { recursive: true });
  return { env: { ...process.env, HOME: join(base, 'home'), TMPDIR: tmp, XDG_CACHE_HOME: cache }, tmp, cache };
}

async function ourGuest(sock: string, kernelRelease?: string): Promise<Proc> {
  const env = { ...process.env, TMPDIR: guestTmp };
  const guest =
    kernelRelease === undefined
      ? spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${sock}`, '--bindir', bindir], { env })
      : // The hello's release comes from uname; the library lets a guest say another one.
        spawnTracked(
          [
            process.execPath,
            '--input-type=module',
            '-e',
            `const { serveGuest } = await import(${JSON.stringify(INDEX)});
             const s = serveGuest({ listen: ${JSON.stringify(sock)}, bindir: ${JSON.stringify(bindir)}, kernelRelease: ${JSON.stringify(kernelRelease)}, signals: true });
             process.exitCode = await s.done;`,
          ],
          { env },
        );
  await waitForListening(sock, 10_000);
  return guest;
}

function stapRemote(env: NodeJS.ProcessEnv, args: readonly string[]): Proc {
  return spawnTracked([process.execPath, STAP_REMOTE, ...args], { env });
}

describeReal('stap-remote compiles scripts with real stap 4.8', () => {
  itReal('-e on our guest: the output and status real stap gives with the same guest', async () => {
    const sock = join(dir, 'one.sock');
    await ourGuest(sock);
    const { env, tmp } = runEnv('one');
    const ours = stapRemote(env, ['-e', HELLO_SCRIPT, '--runtime=bpf', '--kernel-tree', `${osRelease()}=${tree}`, `--remote=unix:${sock}`]);
    const exit = await ours.wait(60_000);
    const theirs = await runRealStap({ remote: `unix:${sock}`, kernelTree: tree }).result;
    expect(ours.stdout()).toBe('hi\n');
    // Real stap over the same guest: the same, or (measured under a CPU hog, CI run 3) its output lost —
    // SystemTap's host drops frames that arrive in one read with others. Ours is asserted exactly.
    expect(['hi\n', '']).toContain(theirs.stdout);
    expect(exit.code).toBe(0);
    expect(theirs.code).toBe(0);
    // Named by the cache key (stap's -m), run as stap would: ./NAME.bo, no flags for bpf.
    expect(ours.stderr()).toMatch(/module: \.\/stapflow_[0-9a-f]{16}\.bo\n/);
    expect(theirs.stderr).toMatch(/module: \.\/stap_\d+\.bo\n/);
    // stap's own warning for the fake tree, passed through as printed.
    expect(ours.stderr()).toContain('WARNING: Kernel function symbol table missing');
    expect(readdirSync(tmp)).toEqual([]);
    expect(await settledWorkspaces(guestTmp, 10_000)).toEqual([]);
  });

  itReal("SCRIPT.stp on SystemTap's stapsh 4.8 (socat relay, scripted staprun)", async () => {
    const sock = join(dir, 'theirs.sock');
    const relay = await socatUnixListen(sock, [REAL_STAPSH], { childScript: CHILD });
    const { env } = runEnv('theirs');
    const script = join(dir, 'hello.stp');
    writeFileSync(script, `${HELLO_SCRIPT}\n`);
    const ours = stapRemote(env, [script, '--runtime=bpf', '--kernel-tree', `${osRelease()}=${tree}`, `--remote=unix:${sock}`]);
    const exit = await ours.wait(60_000);
    const theirs = await runRealStap({ remote: `unix:${sock}`, kernelTree: tree }).result;
    expect(ours.stdout(), ours.stderr()).toBe('hi\n');
    expect(ours.stdout()).toBe(theirs.stdout);
    expect(exit.code).toBe(theirs.code);
    expect(ours.stderr()).toMatch(/module: \.\/stapflow_[0-9a-f]{16}\.bo\n/);
    await relay.close();
  });

  itReal('two releases compile twice, each remote runs its own module; one release compiles once; a second run compiles nothing', async () => {
    const here = join(dir, 'here.sock');
    const there = join(dir, 'there.sock');
    await ourGuest(here);
    await ourGuest(there, OTHER_RELEASE);
    const { env, cache } = runEnv('fleet');
    const trees = ['--kernel-tree', `${osRelease()}=${tree}`, '--kernel-tree', `${OTHER_RELEASE}=${otherTree}`];
    const before = invocations().length;
    const mixed = stapRemote(env, ['--stap', counter, '-e', HELLO_SCRIPT, '--runtime=bpf', ...trees, '--remote-prefix', `--remote=unix:${here}`, `--remote=unix:${there}`]);
    expect((await mixed.wait(90_000)).code).toBe(0);
    const compiles = invocations().slice(before);
    expect(compiles).toHaveLength(2);
    expect(compiles.some((c) => c.includes(`-r ${tree} `))).toBe(true);
    expect(compiles.some((c) => c.includes(`-r ${otherTree} `))).toBe(true);
    expect(mixed.stdout().split('\n').sort()).toEqual(['', '0: hi', '1: hi']);
    const modules = [...mixed.stderr().matchAll(/module: \.\/(stapflow_[0-9a-f]{16})\.bo/g)].map((m) => m[1]);
    expect(modules).toHaveLength(2);
    expect(new Set(modules).size).toBe(2);
    expect(readdirSync(join(cache, 'stapflow', 'modules'))).toHaveLength(2);

    // The same script on the same fleet: from the cache, stap not run.
    const again = stapRemote(env, ['--stap', counter, '-e', HELLO_SCRIPT, '--runtime=bpf', ...trees, `--remote=unix:${here}`, `--remote=unix:${there}`]);
    expect((await again.wait(60_000)).code).toBe(0);
    expect(invocations().slice(before)).toHaveLength(2);
    expect(again.stdout()).toBe('hi\nhi\n');

    // Two remotes of one release, a new script (no cache entry): one compile, one module.
    const same = stapRemote(env, ['--stap', counter, '-e', 'probe begin { printf("hi\\n"); exit() } // same', '--runtime=bpf', ...trees, `--remote=unix:${here}`, `--remote=unix:${here}`]);
    expect((await same.wait(60_000)).code).toBe(0);
    expect(invocations().slice(before)).toHaveLength(3);
    const sameModules = [...same.stderr().matchAll(/module: \.\/(stapflow_[0-9a-f]{16})\.bo/g)].map((m) => m[1]);
    expect(sameModules).toHaveLength(2);
    expect(new Set(sameModules).size).toBe(1);

    // --no-cache compiles again.
    const fresh = stapRemote(env, ['--no-cache', '--stap', counter, '-e', HELLO_SCRIPT, '--runtime=bpf', ...trees, `--remote=unix:${here}`]);
    expect((await fresh.wait(60_000)).code).toBe(0);
    expect(invocations().slice(before)).toHaveLength(4);
    expect(await settledWorkspaces(guestTmp, 10_000)).toEqual([]);
  }, 240_000);

  itReal("a syntax error: stap's message and status, every guest told to quit, nothing left", async () => {
    const sock = join(dir, 'broken.sock');
    const guest = await ourGuest(sock);
    const { env, tmp } = runEnv('broken');
    const trace = join(dir, 'broken.jsonl');
    const p = stapRemote(env, ['-e', 'probe begin { exit( }', '--runtime=bpf', '--kernel-tree', `${osRelease()}=${tree}`, '--trace', trace, `--remote=unix:${sock}`, `--remote=unix:${sock}`]);
    const exit = await p.wait(60_000);
    // What real stap says and exits with for the same script.
    const theirs = await runRealStap({ remote: `unix:${sock}`, kernelTree: tree, script: 'probe begin { exit( }' }).result;
    expect(theirs.code).toBe(1);
    expect(exit.code).toBe(theirs.code);
    expect(p.stderr()).toContain('parse error');
    expect(p.stderr()).toMatch(/stap-remote: stap -p4 for \S+ \S+ failed \(exit status 1\)\n$/);
    expect(p.stdout()).toBe('');
    const quits = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"direction":"host->guest"') && l.includes('"command":"quit"'));
    expect(quits).toHaveLength(2);
    expect(readdirSync(tmp)).toEqual([]);
    expect(await settledWorkspaces(guestTmp, 10_000)).toEqual([]);
    // The guest is still serving.
    expect(guest.exited()).toBeUndefined();
  });

  itReal('on a terminal, a progress line per compile (none on a cache hit)', async () => {
    const sock = join(dir, 'tty.sock');
    await ourGuest(sock);
    const { env } = runEnv('tty');
    const args = [process.execPath, STAP_REMOTE, '-e', HELLO_SCRIPT, '--runtime=bpf', '--kernel-tree', `${osRelease()}=${tree}`, `--remote=unix:${sock}`, `--remote=unix:${sock}`];
    // util-linux's script gives the command a pty for stdout and stderr.
    const inTty = () => spawnTracked(['script', '-qfec', args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' '), '/dev/null'], { env });
    const first = inTty();
    expect((await first.wait(60_000)).code).toBe(0);
    // (read as latin1: the line's closing … is three bytes there)
    expect(first.stdout()).toContain(`compiling for ${osRelease()} `);
    expect(first.stdout()).toMatch(/compiling for \S+ \S+ \(2 remotes\)/);
    expect(first.stdout().match(/compiling for/g)).toHaveLength(1);
    const second = inTty();
    expect((await second.wait(60_000)).code).toBe(0);
    expect(second.stdout()).not.toContain('compiling for');
    expect(second.stdout()).toContain('hi');
  });

  itReal('a compile longer than the reply bound does not time the guests out', async () => {
    const sock = join(dir, 'long.sock');
    await ourGuest(sock);
    const { env } = runEnv('long');
    const slowThenReal = join(dir, 'slow-then-real-stap');
    writeFileSync(slowThenReal, `#!/bin/sh\nsleep 3\nexec ${REAL_STAP} "$@"\n`);
    chmodSync(slowThenReal, 0o755);
    const p = stapRemote(env, ['--timeout', '1', '--stap', slowThenReal, '-e', HELLO_SCRIPT, '--runtime=bpf', '--kernel-tree', `${osRelease()}=${tree}`, `--remote=unix:${sock}`]);
    const exit = await p.wait(60_000);
    expect(p.stdout(), p.stderr()).toBe('hi\n');
    expect(exit.code).toBe(0);
  });

  itReal('Ctrl-C while stap compiles: stap stopped, the sessions end, status 130', async () => {
    const sock = join(dir, 'slow.sock');
    await ourGuest(sock);
    const { env, tmp } = runEnv('slow');
    const pidFile = join(dir, 'slow-stap.pid');
    const slow = join(dir, 'slow-stap');
    // A stand-in compiler that never finishes by itself.
    writeFileSync(slow, `#!/bin/sh\necho $$ > "${pidFile}"\necho "stand-in compiling" >&2\nexec sleep 600\n`);
    chmodSync(slow, 0o755);
    const p = stapRemote(env, ['--stap', slow, '-e', HELLO_SCRIPT, '--runtime=bpf', `--remote=unix:${sock}`, `--remote=unix:${sock}`]);
    await p.waitFor('stand-in compiling', 30_000, 'stderr');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pidAlive(pid)).toBe(true);
    p.signal('SIGINT');
    const exit = await p.wait(30_000);
    expect(exit.code).toBe(130);
    expect(p.stderr()).toContain('stap-remote: interrupted while compiling\n');
    await eventually(() => !pidAlive(pid), 10_000, `stand-in stap ${pid} gone`);
    expect(readdirSync(tmp)).toEqual([]);
    expect(await settledWorkspaces(guestTmp, 10_000)).toEqual([]);
  });
});

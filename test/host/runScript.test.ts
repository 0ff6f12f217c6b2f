/**
 * `runScript` as a library (host/script.ts), against two of our guests
 * served in-process that say different kernel releases, with a stand-in
 * compiler (a shell script taking stap's argv and writing a module that
 * names the release it was built for), so grouping, one compile per
 * release, the cache, a failed compile and Ctrl-C during a compile are
 * checked without SystemTap (test/real/stapRemoteScript.test.ts does it
 * with real stap).
 */

import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveGuest, type GuestServer } from '../../guest/serve.js';
import { runScript } from '../../host/script.js';
import { connectUnix } from '../../transports/unixSocket.js';
import { eventually } from '../support/procs.js';

let dir: string;
let guestTmp: string;
let count: string;
let stap: string;
const guests: GuestServer[] = [];
const socks = { a: '', b: '' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-runscript-'));
  guestTmp = join(dir, 'guest-tmp');
  const bindir = join(dir, 'bin');
  for (const d of [guestTmp, bindir]) mkdirSync(d);
  // The child prints the module it was given.
  writeFileSync(join(bindir, 'stapbpf'), '#!/bin/sh\ncat "$1"; echo\n');
  chmodSync(join(bindir, 'stapbpf'), 0o755);
  count = join(dir, 'compiles');
  stap = join(dir, 'stand-in-stap');
  writeFileSync(
    stap,
    `#!/bin/sh
printf '%s\\n' "$*" >> "${count}"
while [ $# -gt 0 ]; do
  case "$1" in -m) name=$2; shift;; -r) rel=$2; shift;; -e) script=$2; shift;; esac
  shift
done
case "$script" in
  *FAIL*) echo "semantic error: stand-in says no" >&2; exit 3;;
  *SLOW*) echo "stand-in compiling slowly" >&2; exec sleep 600;;
esac
printf 'module for %s' "$rel" > "$name.bo"
echo "$name.bo"
`,
  );
  chmodSync(stap, 0o755);
  socks.a = join(dir, 'a.sock');
  socks.b = join(dir, 'b.sock');
  guests.push(await serveGuest({ listen: socks.a, bindir, kernelRelease: '6.1.0-a', tmpdir: guestTmp }));
  guests.push(await serveGuest({ listen: socks.b, bindir, kernelRelease: '6.1.0-b', tmpdir: guestTmp }));
});
afterAll(async () => {
  for (const g of guests) g.stop();
  await Promise.all(guests.map((g) => g.done));
  rmSync(dir, { recursive: true, force: true });
});

const compiles = () => (existsSync(count) ? readFileSync(count, 'utf8').split('\n').filter(Boolean).length : 0);

function run(uris: string[], text: string, cache: string | false) {
  const handle = runScript(uris, { text }, {
    connect: (uri) => connectUnix(uri.slice('unix:'.length)),
    wantData: true,
    replyTimeoutMs: 10_000,
    compile: { runtime: 'bpf', stap, cache, onStderr: () => undefined },
  });
  const chunks: string[] = [];
  handle.output$.subscribe((c) => chunks.push(`${c.remote}:${c.stream}:${new TextDecoder().decode(c.bytes)}`));
  return { handle, chunks };
}

describe('runScript', () => {
  it('one compile per release, each remote runs its own module; the cache serves the second run', async () => {
    const cache = join(dir, 'cache');
    const before = compiles();
    const uris = [`unix:${socks.a}`, `unix:${socks.b}`, `unix:${socks.a}`];
    const { handle, chunks } = run(uris, 'probe begin { exit() }', cache);
    const report = await handle.compiled;
    const { firstFailure, results } = await handle.done;
    expect(firstFailure).toBeNull();
    expect(results.map((r) => r.result.ok)).toEqual([true, true, true]);
    expect(compiles() - before).toBe(2);
    expect(report.ok && report.groups.map((g) => [g.kernelRelease, g.remotes, g.cached])).toEqual([
      ['6.1.0-a', [0, 2], false],
      ['6.1.0-b', [1], false],
    ]);
    // Per remote, whatever the chunking (the child writes its line and the newline separately).
    const stdoutOf = (remote: number) => chunks.filter((c) => c.startsWith(`${remote}:stdout:`)).map((c) => c.slice(`${remote}:stdout:`.length)).join('');
    expect([0, 1, 2].map(stdoutOf)).toEqual(['module for 6.1.0-a\n', 'module for 6.1.0-b\n', 'module for 6.1.0-a\n']);
    const again = run(uris, 'probe begin { exit() }', cache);
    const second = await again.handle.compiled;
    expect((await again.handle.done).firstFailure).toBeNull();
    expect(compiles() - before).toBe(2);
    expect(second.ok && second.groups.every((g) => g.cached)).toBe(true);
  });

  it("a failed compile: stap's status in the report, every session told to quit, nothing left on the guests", async () => {
    const { handle } = run([`unix:${socks.a}`, `unix:${socks.b}`], 'probe FAIL', false);
    const report = await handle.compiled;
    expect(report.ok).toBe(false);
    if (!report.ok) {
      expect(report.error.status).toBe(3);
      expect(report.error.reason).toBe('failed');
      expect(report.error.message).toBe('stap -p4 for 6.1.0-a x86_64 failed (exit status 3)'.replace('x86_64', report.error.group!.machine));
    }
    const { results } = await handle.done;
    for (const r of results) {
      expect(r.result.ok).toBe(false);
      expect(!r.result.ok && r.result.error).toMatch(/^no module: stap -p4 for .* failed \(exit status 3\) on remote 'unix:/);
    }
    await eventually(() => readdirSync(guestTmp).length === 0, 10_000, 'guest temp dirs removed');
  });

  it('interrupt() during a compile stops the compiler and ends the sessions', async () => {
    const { handle } = run([`unix:${socks.a}`], 'probe SLOW', false);
    await eventually(() => existsSync(count) && readFileSync(count, 'utf8').includes('SLOW'), 20_000, 'the compiler started');
    handle.interrupt();
    const report = await handle.compiled;
    expect(!report.ok && report.error.reason).toBe('interrupted');
    const { results } = await handle.done;
    expect(results[0]!.result.ok).toBe(false);
    await eventually(() => readdirSync(guestTmp).length === 0, 10_000, 'guest temp dirs removed');
  });

  it('a compile over its bound is stopped and reported as a timeout', async () => {
    const handle = runScript([`unix:${socks.b}`], { text: 'probe SLOW' }, {
      connect: (uri) => connectUnix(uri.slice('unix:'.length)),
      wantData: true,
      compile: { runtime: 'bpf', stap, cache: false, timeoutMs: 300, onStderr: () => undefined },
    });
    const report = await handle.compiled;
    expect(!report.ok && report.error.reason).toBe('timeout');
    expect(!report.ok && report.error.message).toMatch(/^stap did not finish compiling for 6\.1\.0-b \S+ within 300 ms$/);
    expect((await handle.done).results[0]!.result.ok).toBe(false);
    await eventually(() => readdirSync(guestTmp).length === 0, 10_000, 'guest temp dirs removed');
  });

  it('no remote reachable: nothing compiled, the connection error reported', async () => {
    const before = compiles();
    const { handle } = run([`unix:${join(dir, 'nobody.sock')}`], 'probe begin {}', false);
    expect(await handle.compiled).toEqual({ ok: true, groups: [] });
    const { firstFailure } = await handle.done;
    expect(firstFailure?.result.ok).toBe(false);
    expect(compiles()).toBe(before);
  });
});

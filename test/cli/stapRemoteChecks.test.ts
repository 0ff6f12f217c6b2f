/**
 * `stap-remote`'s checks before anything is sent (#14): a module that is
 * missing, a directory, has a wrong extension or a name stap refuses, a
 * script without a stap to compile it: one line on stderr, status 1, and no
 * connection to the remote (a unix socket here that counts connections).
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAll, spawnTracked } from '../support/procs.js';

const STAP_REMOTE = resolve(import.meta.dirname, '../../bin/stap-remote.js');
let dir: string;
let sock: string;
let server: Server;
let connections = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-checks-'));
  sock = join(dir, 'remote.sock');
  server = createServer((c) => {
    connections++;
    c.destroy();
  });
  await new Promise<void>((r) => server.listen(sock, r));
  writeFileSync(join(dir, 'm.txt'), 'ELF');
  writeFileSync(join(dir, 'my mod.ko'), 'ELF');
  writeFileSync(join(dir, 'a-b.bo'), 'ELF');
  writeFileSync(join(dir, 'empty.ko'), '');
  writeFileSync(join(dir, 'ok.ko'), 'ELF');
  mkdirSync(join(dir, 'dir.ko'));
});
afterEach(() => killAll());
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

async function run(...args: string[]) {
  const before = connections;
  const p = spawnTracked([process.execPath, STAP_REMOTE, `--remote=unix:${sock}`, ...args], { env: { ...process.env, PATH: '/nonexistent' } });
  const exit = await p.wait(20_000);
  // Give a connection that was made every chance to be counted.
  await new Promise((r) => setTimeout(r, 50));
  return { code: exit.code, stdout: p.stdout(), stderr: p.stderr(), connected: connections - before };
}

describe('stap-remote checks before connecting', () => {
  const cases: [string, () => string[], RegExp][] = [
    ['a missing module', () => [join(dir, 'absent.ko')], /^stap-remote: module \S+absent\.ko does not exist\n$/],
    ['a directory', () => [join(dir, 'dir.ko')], /^stap-remote: \S+dir\.ko is a directory, not a script \(\.stp\) or a compiled module \(\.ko, \.so or \.bo\)\n$/],
    ['a wrong extension', () => [join(dir, 'm.txt')], /^stap-remote: '\S+m\.txt' is neither a script \(\.stp\) nor a compiled module \(\.ko, \.so or \.bo\)\n$/],
    ['a name with a space', () => [join(dir, 'my mod.ko')], /^stap-remote: module name 'my mod' contains a space: stap's module names are letters, digits and underscores only\n$/],
    ['a name with a dash', () => [join(dir, 'a-b.bo')], /^stap-remote: module name 'a-b' contains '-'/],
    ['an empty module', () => [join(dir, 'empty.ko')], /^stap-remote: module \S+empty\.ko is empty\n$/],
    ['a missing script', () => [join(dir, 'absent.stp')], /^stap-remote: script \S+absent\.stp does not exist\n$/],
    ['a script without a stap to compile it', () => ['-e', 'probe begin { exit() }'], /^stap-remote: cannot find stap on PATH to compile the script/],
    ['a --stap that does not exist', () => ['--stap', join(dir, 'nostap'), '-e', 'probe begin { exit() }'], /^stap-remote: cannot find \S+nostap to compile the script/],
    ['a --kernel-tree that is not a directory', () => ['--kernel-tree', `6.1=${join(dir, 'none')}`, '-e', 'probe begin { exit() }'], /^stap-remote: --kernel-tree 6\.1=\S+: \S+none is not a directory\n$/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: one line, status 1, no connection`, async () => {
      const r = await run(...args());
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.connected).toBe(0);
    });
  }

  it('compile options with a module are a usage error (status 2), no connection', async () => {
    const r = await run('--runtime=bpf', join(dir, 'ok.ko'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^stap-remote: --runtime, --kernel-tree and stap options after -- apply to scripts, not to a compiled module; see 'stap-remote --help'\n$/);
    expect(r.connected).toBe(0);
  });

  it('neither a script nor a module: a usage error', async () => {
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a script \(-e SCRIPT or SCRIPT\.stp\) or a compiled module is needed/);
    expect(r.connected).toBe(0);
  });

  it('a good module does connect (the counter works)', async () => {
    const r = await run('--timeout', '2', join(dir, 'ok.ko'));
    expect(r.code).toBe(1);
    expect(r.connected).toBe(1);
  });
});

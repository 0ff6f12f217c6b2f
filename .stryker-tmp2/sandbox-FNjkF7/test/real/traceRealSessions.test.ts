/** Traces of real sessions render in every format: our host with SystemTap's stapsh 4.8. */
// @ts-nocheck

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { describeReal, fakeKernelTree, itReal, REAL_STAP, REAL_STAPSH, scriptedBindir } from '../support/realPeers.js';
import { killAll, spawnTracked, waitForListening } from '../support/procs.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FORMATS = ['text', 'mermaid'] as const;
/** Drawn formats clip long labels: checked for the short ones. */
const PICTURES = ['svg', 'html'] as const;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-realtrace-'));
});
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describeReal('traces of real sessions', () => {
  itReal('stap-remote --trace against SystemTap stapsh 4.8 renders in every format', async () => {
    const child = join(dir, 'child.sh');
    writeFileSync(child, '#!/bin/sh\nsleep 0.1\necho "args: $*"\necho warn >&2\nsleep 0.2\nexit 3\n');
    chmodSync(child, 0o755);
    writeFileSync(join(dir, 'm.ko'), 'ELF');
    const trace = join(dir, 'host.jsonl');
    const stapsh = `unshare -m sh -c 'mount --bind "$0" /usr/bin/staprun && exec ${REAL_STAPSH}' ${child}`;
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin/stap-remote.js'), '--remote=stapsh:', '--stapsh', stapsh, '--trace', trace, join(dir, 'm.ko')],
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, TMPDIR: dir } },
    );
    expect(r.status).toBe(3);
    for (const format of FORMATS) {
      const out = spawnSync(process.execPath, [join(ROOT, 'bin/stapsh-trace.js'), 'render', trace, '--format', format], { encoding: 'utf8' });
      expect(out.status, `${format}: ${out.stderr}`).toBe(0);
      expect(out.stdout, format).toContain('stapsh 4.8');
      expect(out.stdout, format).toContain('run -R -r 0:stapsh: ./m.ko');
    }
    for (const format of PICTURES) {
      const out = spawnSync(process.execPath, [join(ROOT, 'bin/stapsh-trace.js'), 'render', trace, '--format', format], { encoding: 'utf8' });
      expect(out.status, `${format}: ${out.stderr}`).toBe(0);
      expect(out.stdout, format).toContain('stap 4.8');
      expect(out.stdout, format).toContain('stapsh 4.8');
    }
  });

  itReal('real stap 4.8 with our guest through stapsh-proxy: the proxy trace renders in every format', async () => {
    const bindir = scriptedBindir(join(dir, 'proxied'), '#!/bin/sh\necho "args: $*"\nsleep 0.2\n');
    const guestSock = join(dir, 'guest.sock');
    const proxySock = join(dir, 'proxy.sock');
    const trace = join(dir, 'proxy.jsonl');
    spawnTracked([process.execPath, join(ROOT, 'bin/stapsh.js'), '--listen', `unix:${guestSock}`, '--bindir', bindir], {
      env: { ...process.env, TMPDIR: dir },
    });
    await waitForListening(guestSock);
    const proxy = spawnTracked([process.execPath, join(ROOT, 'bin/stapsh-proxy.js'), '--listen', `unix:${proxySock}`, '--connect', `unix:${guestSock}`, '--trace', trace]);
    await waitForListening(proxySock);
    const stap = spawnTracked([REAL_STAP, '--runtime=bpf', '-r', fakeKernelTree(dir), `--remote=unix:${proxySock}`, '-e', 'probe begin { printf("hi\\n"); exit() }'], {
      env: { ...process.env, HOME: dir },
      cwd: dir,
    });
    expect((await stap.wait(60_000)).code).toBe(0);
    expect(stap.stdout()).toMatch(/^args: \.\/stap_\d+\.bo\n$/);
    proxy.kill('SIGTERM');
    expect((await proxy.wait(10_000)).code).toBe(0);
    // SystemTap's host asks for no extension, so our guest says nothing it would not know:
    // the four-word hello, and no `status` line before `quit`.
    const frames = readFileSync(trace, 'utf8').split('\n').filter((l) => l.includes('"kind":"frame"')).map((l) => JSON.parse(l) as { summary: string; direction: string });
    expect(frames.filter((f) => f.direction === 'host->guest').map((f) => f.summary)).not.toContain('option status');
    expect(frames.find((f) => f.summary.startsWith('stapsh '))?.summary).toMatch(/^stapsh \S+ \S+ \S+$/);
    expect(frames.filter((f) => f.summary.startsWith('status'))).toEqual([]);
    for (const format of FORMATS) {
      const out = spawnSync(process.execPath, [join(ROOT, 'bin/stapsh-trace.js'), 'render', trace, '--format', format], { encoding: 'utf8' });
      expect(out.status, `${format}: ${out.stderr}`).toBe(0);
      expect(out.stdout, format).toContain('option data');
      expect(out.stdout, format).toMatch(/run \.\/stap_\d+\.bo/);
    }
    for (const format of PICTURES) {
      const out = spawnSync(process.execPath, [join(ROOT, 'bin/stapsh-trace.js'), 'render', trace, '--format', format], { encoding: 'utf8' });
      expect(out.status, `${format}: ${out.stderr}`).toBe(0);
      expect(out.stdout, format).toContain('option data');
    }
  });
});

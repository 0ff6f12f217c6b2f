/** Our guest with stdio redirected the ways a service manager or a shell may leave it. */
// @ts-nocheck

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const OUR_STAPSH = resolve(import.meta.dirname, '../../bin/stapsh.js');

describe('stapsh stdio', () => {
  it('runs with stdout and stderr on /dev/null, and with stdin from /dev/null', () => {
    const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'latin1', timeout: 20_000 });
    const quiet = sh(`printf 'stap\\nquit\\n' | "${process.execPath}" "${OUR_STAPSH}" >/dev/null 2>/dev/null; echo "rc=$?"`);
    expect(quiet.stdout).toBe('rc=0\n');
    const noInput = sh(`"${process.execPath}" "${OUR_STAPSH}" </dev/null; echo "rc=$?"`);
    expect(noInput.stdout).toBe('rc=0\n');
    const out = join(mkdtempSync(join(tmpdir(), 'stapflow-stdio-')), 'out');
    const toFile = sh(`printf 'stap\\n' | "${process.execPath}" "${OUR_STAPSH}" --protocol-version 4.8 > "${out}"; echo "rc=$?"; cat "${out}"`);
    expect(toFile.stdout).toMatch(/^rc=0\nstapsh 4\.8 \S+ \S+\n$/);
    rmSync(dirname(out), { recursive: true, force: true });
  });
});

describe('SIGUSR1 and SIGUSR2', () => {
  it('end the session cleanly (child hung up, temp dir removed), and SIGUSR1 never opens Node\'s inspector', async () => {
    const { spawnTracked: spawnT, killAll: killT } = await import('../support/procs.js');
    const { scriptedBindir: bindirOf, strayWorkspaces: stray } = await import('../support/realPeers.js');
    const { mkdtempSync: mk, rmSync: rm } = await import('node:fs');
    const { tmpdir: tmp } = await import('node:os');
    const { join: j, resolve: r } = await import('node:path');
    const d = mk(j(tmp(), 'stapflow-usr1-'));
    try {
      const bin = bindirOf(d, "#!/bin/sh\ntrap 'echo \"got HUP\"; exit 7' HUP\necho started\nwhile :; do sleep 0.05; done\n");
      for (const signal of ['SIGUSR1', 'SIGUSR2'] as const) {
        const g = spawnT([process.execPath, r(import.meta.dirname, '../../bin/stapsh.js'), '--bindir', bin], { env: { ...process.env, TMPDIR: d } });
        g.child.stdin!.write('stap 4.8\nrun\n');
        await g.waitFor('started\n', 10_000, 'stdout');
        g.kill(signal);
        expect((await g.wait(10_000)).code).toBe(7);
        expect(g.stdout()).toMatch(/got HUP\n$/);
        expect(stray(d)).toEqual([]);
        // Node announces an opened inspector on stderr ("Debugger listening on ws://…").
        expect(g.stderr()).not.toContain('Debugger listening');
      }
    } finally {
      killT();
      rm(d, { recursive: true, force: true });
    }
  });
});

/** Our guest with stdio redirected the ways a service manager or a shell may leave it. */
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

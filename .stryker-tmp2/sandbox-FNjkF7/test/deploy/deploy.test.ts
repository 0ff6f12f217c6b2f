/**
 * The guest-side deployment files: the systemd template unit parses
 * (`systemd-analyze verify`; guarded by needs.ts: skipped locally without it, failing in CI) and the essential lines are there.
 */
// @ts-nocheck


import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { itNeeding, program } from '../support/needs.js';

const DEPLOY = resolve(import.meta.dirname, '../../deploy');
const UNIT = join(DEPLOY, 'systemd', 'stapsh@.service');
const RULES = join(DEPLOY, 'udev', '90-stapsh.rules');

const SYSTEMD_ANALYZE = program('systemd-analyze', 'systemd-analyze', 'systemd');

describe('deploy/', () => {
  it('stapsh@.service has the essential lines', () => {
    const unit = readFileSync(UNIT, 'utf8');
    const active = unit.split('\n').filter((l) => !l.startsWith('#'));
    expect(active).toContain('ExecStart=/usr/bin/stapsh -l /dev/virtio-ports/%i');
    expect(active).toContain('Restart=always');
    expect(active).toContain('RestartSec=1');
    expect(active).toContain('PrivateTmp=yes');
    expect(active).toContain('ProtectHome=yes');
    // staprun is setuid: NoNewPrivileges would break it.
    expect(active.some((l) => /^NoNewPrivileges=/.test(l))).toBe(false);
  });

  it('90-stapsh.rules starts stapsh@PORTNAME.service for org.systemtap.stapsh.* ports', () => {
    const rules = readFileSync(RULES, 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'));
    expect(rules).toEqual([
      'SUBSYSTEM=="virtio-ports", ATTR{name}=="org.systemtap.stapsh.*", TAG+="systemd", ENV{SYSTEMD_WANTS}+="stapsh@$attr{name}.service"',
    ]);
  });

  itNeeding([SYSTEMD_ANALYZE], 'the unit check', 'systemd-analyze verify finds nothing wrong with the unit (an instance of it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stapflow-deploy-'));
    try {
      const instance = join(dir, 'stapsh@org.systemtap.stapsh.0.service');
      copyFileSync(UNIT, instance);
      const r = spawnSync('systemd-analyze', ['verify', '--man=no', instance], { encoding: 'utf8', timeout: 30_000 });
      const problems = `${r.stdout}\n${r.stderr}`
        .split('\n')
        .filter((l) => l.trim())
        // Not a parse problem: this machine has no /usr/bin/stapsh (npm installs
        // it elsewhere; Debian keeps SystemTap's in /usr/lib/systemtap).
        .filter((l) => !/Command \/usr\/bin\/stapsh is not executable/.test(l));
      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

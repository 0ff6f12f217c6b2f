/**
 * Whether SystemTap's real binaries can be run here, and test wrappers that
 * skip without them locally but FAIL in CI (CI=true), so a CI run can never
 * pass by silently skipping the real-peer tests.
 */

import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';

export const REAL_STAP = '/usr/bin/stap';
export const REAL_STAPSH = '/usr/lib/systemtap/stapsh';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** What is missing for the real-peer tests, empty when nothing is. */
export function missingRealPeers(): string[] {
  const missing: string[] = [];
  if (!executable(REAL_STAP)) missing.push(`${REAL_STAP} (Debian package systemtap)`);
  if (!executable(REAL_STAPSH)) missing.push(`${REAL_STAPSH} (Debian package systemtap-runtime)`);
  if (!onPath('socat')) missing.push('socat (Debian package socat)');
  if (spawnSync('unshare', ['-m', 'true'], { stdio: 'ignore' }).status !== 0) missing.push('unshare -m (needs root)');
  return missing;
}

const missing = missingRealPeers();
const inCi = Boolean(process.env.CI);

/** A describe block for tests that run SystemTap's binaries. */
export function describeReal(name: string, body: () => void): void {
  if (missing.length === 0) {
    describe(name, body);
  } else if (inCi) {
    describe(name, () => {
      it('has the real SystemTap peers installed (required in CI)', () => {
        throw new Error(`real-peer tests cannot run in CI, missing: ${missing.join(', ')}`);
      });
    });
  } else {
    describe.skip(`${name} (skipped: missing ${missing.join(', ')})`, body);
  }
}

/** An `it` inside `describeReal`, with a default bound suited to real processes. */
export function itReal(name: string, body: () => Promise<void>, timeoutMs = 60_000): void {
  it(name, body, timeoutMs);
}

/**
 * A fake kernel build tree that lets `stap --runtime=bpf -r DIR` compile
 * without kernel headers: `.config` with BPF on, an empty Module.symvers,
 * and the release the guest reports (`uname -r`, ours and SystemTap's alike).
 */
export function fakeKernelTree(parent: string): string {
  const dir = join(parent, 'kernel-tree');
  mkdirSync(join(dir, 'include', 'config'), { recursive: true });
  mkdirSync(join(dir, 'include', 'generated'), { recursive: true });
  writeFileSync(join(dir, 'include', 'config', 'kernel.release'), `${release()}\n`);
  writeFileSync(
    join(dir, '.config'),
    ['CONFIG_BPF=y', 'CONFIG_BPF_SYSCALL=y', 'CONFIG_BPF_JIT=y', 'CONFIG_HAVE_EBPF_JIT=y', 'CONFIG_BPF_EVENTS=y', ''].join('\n'),
  );
  writeFileSync(join(dir, 'Module.symvers'), '');
  return dir;
}

/** A bindir whose staprun, stapbpf (and optionally stapdyn) are the given script. */
export function scriptedBindir(parent: string, script: string, programs: readonly string[] = ['staprun', 'stapbpf']): string {
  const dir = join(parent, 'bin');
  mkdirSync(dir, { recursive: true });
  for (const p of programs) {
    writeFileSync(join(dir, p), script);
    chmodSync(join(dir, p), 0o755);
  }
  return dir;
}

/** Temp dirs named like a guest's (`stapsh.XXXXXX`) left in `dir`. */
export function strayWorkspaces(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('stapsh.'));
}

/**
 * Where the virtio scenarios (portScenarios.ts) run: our `stapsh -l` in the
 * restart loop a real guest has (vm/guest/stapsh-loop.sh, as
 * stapsh@.service's Restart=always), with the same child
 * (vm/guest/staprun.sh), either on the virtio stand-in (a pty, socat) on
 * this machine or on a real virtio-serial port in the QEMU test VM (vm/).
 * Both give the host a unix socket and a shell where the guest runs, with
 * TMPDIR (the guest's temp dirs), STAPFLOW_CHILD_PIDDIR (the child's pids)
 * and STAPSH_PIDFILE (the running stapsh's pid) set.
 *
 * {@link describeVm}: the VM's tests are skipped with a notice where its
 * Debian packages are missing, and FAIL when CI is set (as describeReal).
 */
// @ts-nocheck


import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildVmImage, missingForVm } from '../../vm/image.js';
import { bootVm, type Vm } from '../../vm/qemu.js';
import { startVirtioStandin, type VirtioStandin } from '../../standins/virtio.js';
import { describeNeeding, type Need } from './needs.js';
import { realPeers, spawnGroup, trackedTempDir, type RealProc } from './realPeers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const GUEST_SCRIPTS = join(ROOT, 'vm', 'guest');

export interface PortTarget {
  readonly name: 'stand-in' | 'vm';
  /** The host's end of the port. */
  readonly socket: string;
  /** What the guest's hello reports as its kernel release. */
  readonly kernelRelease: string;
  /** Bounds scale with this (TCG runs the guest several times slower). */
  readonly slowness: number;
  /** A shell command where the guest runs; resolves with its stdout, rejects on a non-zero status. */
  sh(command: string, timeoutMs?: number): Promise<string>;
  /** For failure messages: the guest loop's output, the port's state. */
  diagnostics(): Promise<string>;
  close(): Promise<void>;
}

/** The guest's restart delay in both targets (stapsh@.service says 1 s; shorter keeps the suite inside its budget). */
export const RESTART_SEC = 0.5;

/** Our guest on the virtio stand-in, restarted by the same loop as in the VM. */
export async function standinTarget(): Promise<PortTarget> {
  const dir = trackedTempDir('stapflow-port-');
  chmodSync(dir, 0o755);
  const env = {
    TMPDIR: join(dir, 'tmp'),
    STAPFLOW_CHILD_PIDDIR: join(dir, 'child-pids'),
    STAPSH_PIDFILE: join(dir, 'stapsh.pid'),
  };
  mkdirSync(env.TMPDIR);
  mkdirSync(env.STAPFLOW_CHILD_PIDDIR);
  const bindir = join(dir, 'bin');
  mkdirSync(bindir);
  for (const p of ['staprun', 'stapbpf', 'stapdyn']) copyFileSync(join(GUEST_SCRIPTS, 'staprun.sh'), join(bindir, p));
  const standin: VirtioStandin = await startVirtioStandin({ port: join(dir, 'port'), socket: join(dir, 'port.sock') });
  const loop: RealProc = spawnGroup(
    ['sh', join(GUEST_SCRIPTS, 'stapsh-loop.sh'), standin.port, env.STAPSH_PIDFILE, String(RESTART_SEC), process.execPath, join(ROOT, 'bin', 'stapsh.js'), '-v', '--bindir', bindir],
    { env: { ...process.env, ...env } },
  );
  const release = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
  return {
    name: 'stand-in',
    socket: standin.socket,
    kernelRelease: release,
    slowness: 1,
    async sh(command, timeoutMs = 30_000) {
      const r = spawnSync('sh', ['-c', command], { encoding: 'latin1', env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 1 << 20 });
      if (r.status !== 0) throw new Error(`stand-in: \`${command}\` exited ${r.status ?? r.signal}: ${r.stdout}${r.stderr}`);
      return r.stdout;
    },
    diagnostics: async () =>
      `stand-in ${JSON.stringify(standin.stats())}, pty ${standin.pty()}\n--- guest loop ---\n${loop.stdout().slice(-3000)}${loop.stderr().slice(-3000)}`,
    async close() {
      await loop.close();
      // The guest's child may have outlived a killed guest: it runs in the guest's session, not the loop's group.
      spawnSync('sh', ['-c', 'for p in $(ls "$STAPFLOW_CHILD_PIDDIR"); do kill -9 $p 2>/dev/null; done; true'], { env: { ...process.env, ...env } });
      await standin.close();
    },
  };
}

/** The QEMU test VM, built from this checkout's dist/ (run `npm run build` first; `npm test` does). */
export async function vmTarget(log?: (line: string) => void): Promise<PortTarget & { readonly vm: Vm }> {
  const dir = trackedTempDir('stapflow-vm-');
  const image = buildVmImage({ out: join(dir, 'image'), zstdLevel: 1 });
  const socket = join(dir, 'stapsh0.sock');
  const vm = await bootVm({ image, sockets: [socket], restartSec: RESTART_SEC, ...(log ? { onConsole: log } : {}) });
  return {
    name: 'vm',
    vm,
    socket,
    kernelRelease: vm.kernelRelease,
    slowness: vm.accel === 'kvm' ? 1 : 4,
    sh: (command, timeoutMs) => vm.run(command, timeoutMs),
    diagnostics: async () =>
      `--- vm console (tail) ---\n${vm.console().slice(-2000)}\n--- stapsh log ---\n${await vm.run('tail -n 30 /run/stapsh-*.log', 10_000).catch(String)}`,
    close: () => vm.close(),
  };
}

/** What the VM needs here, empty when nothing is missing. */
export function missingVm(): string[] {
  const missing = missingForVm();
  if (!realPeers().socat) missing.push('socat (Debian package socat)');
  return missing;
}

/**
 * A describe block for tests that boot the VM: skipped with a notice when
 * its packages are missing, a failing test naming them when CI is set.
 */
/** What the VM tests need, as one need of the one guard (test/support/needs.ts). */
export const NEED_VM: Need = {
  name: 'vm',
  get missing() {
    return missingVm().join(', ');
  },
  present: () => missingVm().length === 0,
};

export function describeVm(name: string, body: () => void): void {
  describeNeeding([NEED_VM], 'VM tests', name, body);
}

/**
 * libvirt for tests: uses a libvirtd that already answers on the local
 * socket, or starts virtlogd and libvirtd itself (as root, no systemd) and
 * stops exactly those afterwards; creates transient domains from the test
 * VM's image and destroys them. Skipped with a notice where the Debian
 * packages are missing; in CI that is a failure (describeLibvirt).
 */
// @ts-nocheck


import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { buildVmImage } from '../../vm/image.js';
import { missingVm } from './portTargets.js';
import { describeNeeding, type Need } from './needs.js';
import { trackedTempDir } from './realPeers.js';

export const LIBVIRT_SOCKET = '/run/libvirt/libvirt-sock';
export const LIBVIRT_URI = 'qemu:///system';

export function missingLibvirt(): string[] {
  const missing = missingVm();
  if (!existsSync('/usr/sbin/libvirtd')) missing.push('libvirtd (Debian package libvirt-daemon-system)');
  if (!existsSync('/usr/sbin/virtlogd')) missing.push('virtlogd (Debian package libvirt-daemon-system)');
  if (!existsSync('/usr/bin/virsh')) missing.push('virsh (Debian package libvirt-clients)');
  if (process.getuid?.() !== 0) missing.push('root (the local libvirt socket without authentication)');
  return missing;
}

/** What the libvirt tests need, as one need of the one guard (test/support/needs.ts). */
export const NEED_LIBVIRT: Need = {
  name: 'libvirt',
  get missing() {
    return missingLibvirt().join(', ');
  },
  present: () => missingLibvirt().length === 0,
};

export function describeLibvirt(name: string, body: () => void): void {
  describeNeeding([NEED_LIBVIRT], 'libvirt tests', name, body);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 2_000);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not within ${ms} ms`);
}

const pidOf = (file: string): number | null => {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
};

const virsh = (...args: string[]) => spawnSync('virsh', ['-c', LIBVIRT_URI, ...args], { encoding: 'utf8', timeout: 60_000 });

export interface LibvirtHarness {
  /** The daemons this harness started (empty when one already answered). */
  readonly started: readonly number[];
  /** The guest kernel's release (its stapsh hello says it). */
  readonly kernelRelease: string;
  /** A transient domain booted from the test VM's image, with `ports` stapsh channels. */
  createDomain(name: string, ports?: number): Promise<void>;
  /** The qemu pid of a running domain (libvirt's pid file). */
  qemuPid(name: string): number | null;
  /** Destroy every domain created here, then stop the daemons started here. */
  close(): Promise<void>;
}

export async function startLibvirt(): Promise<LibvirtHarness> {
  const dir = trackedTempDir('stapflow-libvirt-');
  const started: number[] = [];
  if (!(await answers(LIBVIRT_SOCKET))) {
    for (const [daemon, pidfile] of [
      ['/usr/sbin/virtlogd', join(dir, 'virtlogd.pid')],
      ['/usr/sbin/libvirtd', join(dir, 'libvirtd.pid')],
    ] as const) {
      const r = spawnSync(daemon, ['-d', '-p', pidfile], { encoding: 'utf8', timeout: 30_000 });
      if (r.status !== 0) throw new Error(`${daemon} -d failed (${r.status}): ${r.stderr}`);
      await waitFor(async () => pidOf(pidfile) !== null, 10_000, `${daemon}'s pid file`);
      started.push(pidOf(pidfile)!);
    }
    await waitFor(() => answers(LIBVIRT_SOCKET), 30_000, `libvirtd answering on ${LIBVIRT_SOCKET}`);
  }
  // QEMU runs as libvirt's qemu user: the image must be readable by it.
  chmodSync(dir, 0o755);
  const image = buildVmImage({ out: join(dir, 'image'), zstdLevel: 1 });
  chmodSync(join(dir, 'image'), 0o755);
  const kernel = image.kernel;
  const initrd = image.initramfs;
  chmodSync(kernel, 0o644);
  chmodSync(initrd, 0o644);
  const domains: string[] = [];
  return {
    started,
    kernelRelease: image.kernelRelease,
    async createDomain(name, ports = 1) {
      const channels = Array.from(
        { length: ports },
        (_, i) => `<channel type='unix'><target type='virtio' name='org.systemtap.stapsh.${i}'/></channel>`,
      ).join('');
      const xml = `<domain type='qemu'><name>${name}</name><memory unit='MiB'>1024</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type><kernel>${kernel}</kernel><initrd>${initrd}</initrd><cmdline>console=ttyS0 loglevel=1 panic=-1 stapflow.restart=0.5</cmdline></os>
<cpu mode='maximum'/><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
<devices><serial type='file'><source path='${join(dir, `${name}.console`)}'/></serial>${channels}</devices></domain>`;
      const file = join(dir, `${name}.xml`);
      writeFileSync(file, xml);
      const r = virsh('create', file);
      if (r.status !== 0) throw new Error(`virsh create ${name}: ${r.stderr}`);
      domains.push(name);
      // Booted once the guest opened its port: libvirt then says state='connected'.
      await waitFor(async () => /state=['"]connected['"]/.test(virsh('dumpxml', name).stdout), 240_000, `domain ${name}'s stapsh port connected`);
    },
    qemuPid: (name) => pidOf(`/run/libvirt/qemu/${name}.pid`),
    async close() {
      for (const d of domains.splice(0)) virsh('destroy', d);
      for (const pid of started.reverse()) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          continue;
        }
        await waitFor(async () => {
          try {
            process.kill(pid, 0);
            return false;
          } catch {
            return true;
          }
        }, 15_000, `daemon ${pid} stopping`).catch(() => process.kill(pid, 'SIGKILL'));
      }
    },
  };
}

/**
 * The test VM's image: a Debian cloud kernel plus an initramfs holding
 * busybox, the virtio modules, node with its shared libraries, and this
 * checkout's built guest. Its init does what a real guest's udev rule and
 * `stapsh@.service` do (the `/dev/virtio-ports/NAME` links, `stapsh -l` in a
 * restart loop on every `org.systemtap.stapsh.*` port) and leaves a shell
 * on the serial console for tests.
 *
 * Everything is read from the installed system at build time: the kernel
 * release from the installed image (it changes with Debian updates), node
 * from `process.execPath` and its libraries from `ldd`.
 */
// @ts-nocheck


import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync, copyFileSync, renameSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newcArchive, type CpioEntry } from './cpio.js';

/** The modules virtio-serial needs on Debian's cloud kernel, in load order (each needs the ones before). */
export const VIRTIO_MODULES = ['virtio_ring', 'virtio', 'virtio_pci_legacy_dev', 'virtio_pci_modern_dev', 'virtio_pci', 'virtio_console'] as const;

/** Node packages the guest imports at run time (with their own dependencies). */
const RUNTIME_PACKAGES = ['xstate', 'rxjs', 'tslib', 'commander'] as const;

/** What a build wrote, saved as `image.json` next to the files. */
export interface VmImage {
  readonly dir: string;
  readonly kernel: string;
  readonly initramfs: string;
  /** The guest kernel's release, as its `uname -r` (and so its stapsh hello) says it. */
  readonly kernelRelease: string;
  readonly bytes: number;
}

/** Debian packages the image is built from (and `qemu-system-x86` boots it). */
export const VM_PACKAGES = ['qemu-system-x86', 'linux-image-cloud-amd64', 'busybox-static', 'zstd'] as const;

/** The checkout this module belongs to (run from dist/ or from source). */
export function checkoutRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'stapflow') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('vm: cannot find the stapflow checkout above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export interface KernelFiles {
  readonly release: string;
  readonly vmlinuz: string;
  readonly modulesDir: string;
}

/** The installed cloud kernel (the newest when several are). */
export function findKernel(bootDir = '/boot', modulesRoot = '/lib/modules'): KernelFiles | null {
  const releases = existsSync(bootDir)
    ? readdirSync(bootDir)
        .filter((n) => /^vmlinuz-.*-cloud-amd64$/.test(n))
        .map((n) => n.slice('vmlinuz-'.length))
        .filter((r) => existsSync(join(modulesRoot, r)))
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    : [];
  const release = releases.at(-1);
  return release === undefined ? null : { release, vmlinuz: join(bootDir, `vmlinuz-${release}`), modulesDir: join(modulesRoot, release) };
}

/** What is missing on this machine to build and boot the VM (Debian packages named), empty when nothing. */
export function missingForVm(): string[] {
  const missing: string[] = [];
  if (!existsSync('/usr/bin/qemu-system-x86_64')) missing.push('qemu-system-x86_64 (Debian package qemu-system-x86)');
  if (findKernel() === null) missing.push('/boot/vmlinuz-*-cloud-amd64 (Debian package linux-image-cloud-amd64)');
  if (!isStaticBusybox('/bin/busybox')) missing.push('a static /bin/busybox (Debian package busybox-static)');
  if (spawnSync('zstd', ['--version'], { stdio: 'ignore' }).status !== 0) missing.push('zstd (Debian package zstd)');
  return missing;
}

function isStaticBusybox(path: string): boolean {
  if (!existsSync(path)) return false;
  const r = spawnSync('ldd', [path], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.includes('not a dynamic executable');
}

/** The shared libraries `ldd` lists for `binary`, the loader included. */
export function sharedLibraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  const libs = new Set<string>();
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.add(m[1]!);
  }
  return [...libs];
}

function findModule(modulesDir: string, name: string): string {
  const stack = [join(modulesDir, 'kernel')];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.name === `${name}.ko` || e.name.startsWith(`${name}.ko.`)) return p;
    }
  }
  throw new Error(`vm: kernel module ${name} not found under ${modulesDir}`);
}

/** A module's bytes, decompressed when Debian ships it compressed (busybox insmod takes plain .ko). */
function moduleBytes(path: string): Uint8Array {
  if (path.endsWith('.ko')) return readFileSync(path);
  const tool = path.endsWith('.xz') ? ['xz', '-dc', path] : path.endsWith('.zst') ? ['zstd', '-dc', path] : ['gzip', '-dc', path];
  return execFileSync(tool[0]!, tool.slice(1), { maxBuffer: 64 * 1024 * 1024 });
}

const INIT = `#!/bin/busybox sh
# stapflow test VM. Kernel command line: stapflow.restart=SEC (stapsh restart delay, default 1).
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /usr/bin /sbin /usr/sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /run
for m in ${VIRTIO_MODULES.join(' ')}; do
  insmod /lib/stapflow-modules/$m.ko || echo "stapflow-vm: insmod $m failed"
done
restart=1
for w in $(cat /proc/cmdline); do case $w in stapflow.restart=*) restart=\${w#*=} ;; esac; done
# The udev rule's job (/dev/virtio-ports/NAME) and stapsh@.service's (stapsh -l, restarted when it
# exits) for every org.systemtap.stapsh.* port, at boot and when one is hot-plugged (stapvirt port-add).
mkdir -p /dev/virtio-ports /run/stapflow-child
export TMPDIR=/tmp STAPFLOW_CHILD_PIDDIR=/run/stapflow-child
scan_ports() {
  for p in /sys/class/virtio-ports/*; do
    [ -e "$p/name" ] || continue
    name=$(cat "$p/name") dev=\${p##*/}
    [ -n "$name" ] && [ -e "/dev/$dev" ] || continue
    [ -L "/dev/virtio-ports/$name" ] && continue
    ln -sf "../$dev" "/dev/virtio-ports/$name"
    case $name in
      org.systemtap.stapsh.*)
        setsid /usr/libexec/stapflow/stapsh-loop "/dev/virtio-ports/$name" "/run/stapsh-$name.pid" "$restart" \\
          /usr/bin/node /opt/stapflow/bin/stapsh.js --bindir /opt/stapflow/guest-bin >"/run/stapsh-$name.log" 2>&1 </dev/null &
        ;;
    esac
  done
}
i=0
while [ -z "$(ls /sys/class/virtio-ports 2>/dev/null)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
i=0
while [ $i -lt 50 ]; do scan_ports; [ "$(ls /dev/virtio-ports | wc -l)" -ge "$(ls /sys/class/virtio-ports | wc -l)" ] && break; sleep 0.1; i=$((i+1)); done
( while :; do sleep 1; scan_ports; done ) </dev/null >/dev/null 2>&1 &
stty -echo -onlcr 2>/dev/null
echo "stapflow-vm: ready $(uname -r) $(ls /dev/virtio-ports | tr '\\n' ' ')"
# The console shell for tests (and for you: \`npm run vm:boot\`).
export PS1= PS2= STAPSH_PIDFILE=/run/stapsh-org.systemtap.stapsh.0.pid
while :; do sh; done
`;

export interface BuildOptions {
  /** Where to write `vmlinuz`, `initramfs.cpio.zst` and `image.json` (default: CHECKOUT/.vm). */
  readonly out?: string;
  /** The checkout whose dist/ goes in (default: this one); it must be built. */
  readonly root?: string;
  /** zstd level (default 3: fast; the image is rebuilt often). */
  readonly zstdLevel?: number;
}

/** The default image directory: CHECKOUT/.vm. */
export function defaultImageDir(root = checkoutRoot()): string {
  return join(root, '.vm');
}

/** Build the image (see the module comment); returns what was written. */
export function buildVmImage(options: BuildOptions = {}): VmImage {
  const missing = missingForVm();
  if (missing.length > 0) throw new Error(`vm: cannot build the image, missing: ${missing.join(', ')}`);
  const root = options.root ?? checkoutRoot();
  const out = resolve(options.out ?? defaultImageDir(root));
  if (!existsSync(join(root, 'dist', 'cli', 'stapsh', 'main.js'))) throw new Error(`vm: ${root}/dist is not built (npm run build)`);
  const kernel = findKernel()!;
  const entries: CpioEntry[] = [];
  const dirs = new Set<string>();
  const dir = (path: string) => {
    const parts = path.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/');
      if (!dirs.has(p)) {
        dirs.add(p);
        entries.push({ kind: 'dir', path: p });
      }
    }
  };
  const file = (path: string, data: Uint8Array, mode = 0o644) => {
    dir(dirname(path));
    entries.push({ kind: 'file', path, data, mode });
  };
  const hostFile = (path: string, as = path) => {
    const real = realpathSync(path);
    file(as, readFileSync(real), statSync(real).mode & 0o777);
  };
  const tree = (from: string, to: string, keep: (name: string) => boolean = () => true) => {
    for (const e of readdirSync(from, { withFileTypes: true })) {
      const src = join(from, e.name);
      if (e.isDirectory()) tree(src, `${to}/${e.name}`, keep);
      else if ((e.isFile() || e.isSymbolicLink()) && keep(e.name)) hostFile(src, `${to}/${e.name}`);
    }
  };

  for (const d of ['dev', 'proc', 'sys', 'tmp', 'run', 'root', 'etc']) dir(d);
  entries.push({ kind: 'chardev', path: 'dev/console', major: 5, minor: 1 });
  entries.push({ kind: 'chardev', path: 'dev/null', major: 1, minor: 3, mode: 0o666 });
  file('init', new TextEncoder().encode(INIT), 0o755);
  hostFile('/bin/busybox', 'bin/busybox');
  file('etc/passwd', new TextEncoder().encode('root:x:0:0:root:/root:/bin/sh\n'));
  file('etc/group', new TextEncoder().encode('root:x:0:\n'));
  for (const m of VIRTIO_MODULES) file(`lib/stapflow-modules/${m}.ko`, moduleBytes(findModule(kernel.modulesDir, m)));

  const node = realpathSync(process.execPath);
  hostFile(node, 'usr/bin/node');
  for (const lib of sharedLibraries(node)) hostFile(lib, lib.slice(1));

  const app = 'opt/stapflow';
  hostFile(join(root, 'package.json'), `${app}/package.json`);
  for (const b of ['stapsh.js', 'staprun-standin.js']) hostFile(join(root, 'bin', b), `${app}/bin/${b}`);
  tree(join(root, 'dist'), `${app}/dist`, (n) => n.endsWith('.js'));
  const modules = join(root, 'node_modules');
  for (const pkg of RUNTIME_PACKAGES) tree(join(modules, pkg), `${app}/node_modules/${pkg}`, (n) => !n.endsWith('.map') && !n.endsWith('.ts'));
  const guestScripts = join(root, 'vm', 'guest');
  hostFile(join(guestScripts, 'stapsh-loop.sh'), 'usr/libexec/stapflow/stapsh-loop');
  for (const p of ['staprun', 'stapbpf', 'stapdyn']) hostFile(join(guestScripts, 'staprun.sh'), `${app}/guest-bin/${p}`);

  const cpio = newcArchive(entries);
  mkdirSync(out, { recursive: true });
  const initramfs = join(out, 'initramfs.cpio.zst');
  const packed = execFileSync('zstd', [`-${options.zstdLevel ?? 3}`, '-T0', '-c'], { input: cpio, maxBuffer: 1024 * 1024 * 1024 });
  writeFileSync(`${initramfs}.tmp`, packed);
  renameSync(`${initramfs}.tmp`, initramfs);
  const vmlinuz = join(out, 'vmlinuz');
  copyFileSync(kernel.vmlinuz, vmlinuz);
  const image: VmImage = { dir: out, kernel: vmlinuz, initramfs, kernelRelease: kernel.release, bytes: packed.length };
  writeFileSync(join(out, 'image.json'), `${JSON.stringify({ ...image, dir: undefined, source: relative(out, root) || '.' }, null, 2)}\n`);
  return image;
}

/** The image a build left in `dir`, or null when there is none. */
export function readVmImage(dir = defaultImageDir()): VmImage | null {
  const json = join(dir, 'image.json');
  if (!existsSync(json)) return null;
  const saved = JSON.parse(readFileSync(json, 'utf8')) as Omit<VmImage, 'dir'>;
  if (!existsSync(saved.kernel) || !existsSync(saved.initramfs)) return null;
  return { ...saved, dir };
}

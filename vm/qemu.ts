/**
 * Boot the test VM (vm/image.ts) under QEMU: KVM when /dev/kvm can be
 * opened and a boot under it reaches the prompt, TCG otherwise (a nested
 * /dev/kvm can be there and broken: QEMU aborting on MSR 0x10a with
 * `-cpu host`, or a guest that never gets past the boot loader). Each
 * `org.systemtap.stapsh.N` port is a virtserialport on QEMU's socket
 * chardev (server, nowait), the host's end of the port, exactly as `deploy/README.md` sets one up. The serial console
 * is the VM's shell, driven through QEMU's stdio (`sh()`).
 *
 * QEMU runs as the leader of its own process group; `close()` SIGKILLs the
 * group and waits for it, and so does process exit, so a test run never
 * leaves a VM behind.
 */

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants, existsSync, rmSync } from 'node:fs';
import type { VmImage } from './image.js';

export interface BootOptions {
  readonly image: VmImage;
  /** The host ends of the ports, one unix socket per `org.systemtap.stapsh.N` (N = index). */
  readonly sockets: readonly string[];
  /** Guest RAM in MiB (default 1024: node, a 64 MiB file in /tmp, the unpacked initramfs). */
  readonly memoryMiB?: number;
  /** `stapsh -l` restart delay in the guest, seconds (default 1, as stapsh@.service's RestartSec). */
  readonly restartSec?: number;
  /** Bound on reaching the console prompt (default 120 s: TCG on a busy machine). */
  readonly bootTimeoutMs?: number;
  /** Force an accelerator (default: kvm when /dev/kvm opens, else tcg). */
  readonly accel?: 'kvm' | 'tcg';
  /** Console lines as they come (boot messages, the shell's output). */
  readonly onConsole?: (line: string) => void;
  readonly qemu?: string;
}

export interface Vm {
  readonly pid: number;
  readonly accel: 'kvm' | 'tcg';
  /** Why KVM was not used although /dev/kvm opens (its boot failed; TCG took over), else null. */
  readonly kvmFailure: string | null;
  readonly sockets: readonly string[];
  /** The guest's `uname -r`. */
  readonly kernelRelease: string;
  /** Run a shell command on the console; resolves with its output (CR stripped) and status. Serialized. */
  sh(command: string, timeoutMs?: number): Promise<{ readonly out: string; readonly status: number }>;
  /** Like `sh`, but rejects (with the output) when the status is not 0. */
  run(command: string, timeoutMs?: number): Promise<string>;
  /** Everything the console printed so far. */
  console(): string;
  /** Resolves with QEMU's exit (code or signal). */
  readonly exited: Promise<string>;
  /** Kill QEMU's process group and wait for it (bounded); remove the sockets. */
  close(): Promise<void>;
}

export function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const live = new Set<ChildProcessWithoutNullStreams>();
process.once('exit', () => {
  for (const q of live) killGroup(q);
});

function killGroup(q: ChildProcessWithoutNullStreams): void {
  if (q.pid === undefined) return;
  try {
    process.kill(-q.pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** The QEMU argv for `options` (exported for `vm boot --print`). */
export function qemuArgv(options: BootOptions, accel: 'kvm' | 'tcg'): string[] {
  const append = ['console=ttyS0', 'loglevel=1', 'panic=-1', `stapflow.restart=${options.restartSec ?? 1}`].join(' ');
  const argv = [
    options.qemu ?? 'qemu-system-x86_64',
    '-nodefaults',
    '-no-user-config',
    '-no-reboot',
    '-accel',
    accel,
    '-cpu',
    accel === 'kvm' ? 'host' : 'max',
    '-m',
    String(options.memoryMiB ?? 1024),
    '-smp',
    '1',
    '-display',
    'none',
    '-serial',
    'stdio',
    '-monitor',
    'none',
    '-kernel',
    options.image.kernel,
    '-initrd',
    options.image.initramfs,
    '-append',
    append,
    '-device',
    'virtio-serial-pci',
  ];
  options.sockets.forEach((path, i) => {
    // QEMU's socket chardev option syntax: a comma in the path would be an option separator.
    if (path.includes(',')) throw new Error(`vm: socket path must not contain a comma: ${path}`);
    argv.push('-chardev', `socket,id=stapsh${i},path=${path},server=on,wait=off`);
    argv.push('-device', `virtserialport,chardev=stapsh${i},name=org.systemtap.stapsh.${i}`);
  });
  return argv;
}

/**
 * The guest's kernel release from the console once its ready line is whole:
 * the console comes in small chunks, and a release cut short (`6`) must not pass.
 */
export function readyRelease(console: string): string | null {
  return /stapflow-vm: ready (\S+)[^\n]*\n/.exec(console)?.[1] ?? null;
}

/** A healthy KVM boot reaches the prompt in seconds; past this bound KVM is taken as broken here. */
const KVM_BOOT_MS = 30_000;
/** A KVM boot that failed once in this process is not tried again. */
let kvmBroken: string | null = null;

/** Boot the VM; resolves once its console shell answers. */
export async function bootVm(options: BootOptions): Promise<Vm> {
  if (options.accel !== undefined) return bootWith(options, options.accel, null);
  if (kvmUsable() && kvmBroken === null) {
    try {
      return await bootWith({ ...options, bootTimeoutMs: Math.min(options.bootTimeoutMs ?? KVM_BOOT_MS, KVM_BOOT_MS) }, 'kvm', null);
    } catch (e) {
      kvmBroken = (e as Error).message.split('\n')[0]!;
    }
  }
  return bootWith(options, 'tcg', kvmBroken);
}

async function bootWith(options: BootOptions, accel: 'kvm' | 'tcg', kvmFailure: string | null): Promise<Vm> {
  for (const s of options.sockets) rmSync(s, { force: true });
  const [file, ...args] = qemuArgv(options, accel);
  const q = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  q.on('error', () => undefined);
  if (q.pid === undefined) throw new Error(`vm: could not start ${file}`);
  live.add(q);
  const pid = q.pid;
  let text = '';
  let stderr = '';
  let partial = '';
  const waiters = new Set<() => void>();
  q.stdout.setEncoding('latin1').on('data', (s: string) => {
    text += s.replace(/\r/g, '');
    if (options.onConsole) {
      partial += s.replace(/\r/g, '');
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const l of lines) options.onConsole(l);
    }
    for (const w of [...waiters]) w();
  });
  q.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4096)));
  q.stdin.on('error', () => undefined);
  let exitText: string | null = null;
  const exited = new Promise<string>((resolve) =>
    q.once('exit', (code, signal) => {
      exitText = `qemu exited (${signal ?? code}) ${stderr.trim()}`;
      live.delete(q);
      for (const w of [...waiters]) w();
      resolve(exitText);
    }),
  );

  /** Wait until `test(console)` holds; reject on the bound or QEMU's exit. */
  const until = <T>(test: (console: string) => T | null, timeoutMs: number, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`vm: ${what} not within ${timeoutMs} ms; console:\n${text.slice(-3000)}`));
      }, timeoutMs);
      const check = () => {
        const r = test(text);
        if (r !== null) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(r);
        } else if (exitText !== null) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`vm: ${exitText} before ${what}; console:\n${text.slice(-3000)}`));
        }
      };
      waiters.add(check);
      check();
    });

  const close = async () => {
    killGroup(q);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    for (const s of options.sockets) if (existsSync(s)) rmSync(s, { force: true });
  };

  let kernelRelease: string;
  try {
    kernelRelease = await until(
      readyRelease,
      options.bootTimeoutMs ?? 120_000,
      'the console prompt (stapflow-vm: ready)',
    );
  } catch (e) {
    await close();
    throw e;
  }

  let chain: Promise<unknown> = Promise.resolve();
  let seq = 0;
  const sh = (command: string, timeoutMs = 30_000) => {
    const id = `${process.pid}x${++seq}`;
    const job = chain.then(async () => {
      const from = text.length;
      const begin = `@@B${id}@@`;
      // The markers are printed, not echoed: a command line containing them cannot fake an end.
      q.stdin.write(`echo '@@B'${id}'@@'; ${command}\necho "@@E${id}@@ $?"\n`);
      return until(
        (c) => {
          const tail = c.slice(from);
          const b = tail.indexOf(`${begin}\n`);
          if (b < 0) return null;
          const m = new RegExp(`@@E${id}@@ (\\d+)\\n`).exec(tail.slice(b));
          if (m === null) return null;
          return { out: tail.slice(b + begin.length + 1, b + m.index), status: Number(m[1]) };
        },
        timeoutMs,
        `the end of console command ${JSON.stringify(command)}`,
      );
    });
    chain = job.catch(() => undefined);
    return job;
  };
  return {
    pid,
    accel,
    kvmFailure,
    sockets: options.sockets,
    kernelRelease,
    sh,
    async run(command, timeoutMs) {
      const r = await sh(command, timeoutMs);
      if (r.status !== 0) throw new Error(`vm: \`${command}\` exited ${r.status}: ${r.out}`);
      return r.out;
    },
    console: () => text,
    exited,
    close,
  };
}

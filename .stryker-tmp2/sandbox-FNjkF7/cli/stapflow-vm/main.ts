/**
 * `stapflow-vm build | boot`: the test VM (vm/). `build` packs this
 * checkout's dist/ with busybox, node and the virtio modules into an
 * initramfs; `boot` runs it under QEMU with `org.systemtap.stapsh.0` on a
 * unix socket and hands you the VM's console until you leave it (Ctrl-D /
 * Ctrl-C on this side), then stops QEMU.
 */
// @ts-nocheck


import { InvalidArgumentError } from 'commander';
import { cliProgram, cliSubcommand, parseCli } from '../common/cli.js';
import { describeError } from '../common/words.js';
import { resolve } from 'node:path';
import { buildVmImage, defaultImageDir, missingForVm, readVmImage, VM_PACKAGES } from '../../vm/image.js';
import { bootVm } from '../../vm/qemu.js';

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a non-negative number');
  return n;
}

export async function main(argv: readonly string[]): Promise<number> {
  let status = 0;
  const program = cliProgram('stapflow-vm', 'Build and boot a QEMU test VM running our stapsh -l on a real virtio-serial port');
  cliSubcommand(program, 'build')
    .description(`build vmlinuz + initramfs from this checkout's dist/ (needs Debian ${VM_PACKAGES.join(', ')}; run npm run build first)`)
    .option('--out <DIR>', 'where to write the image', defaultImageDir())
    .action((o: { out: string }) => {
      const missing = missingForVm();
      if (missing.length > 0) {
        process.stderr.write(`stapflow-vm: missing ${missing.join(', ')}\n`);
        status = 1;
        return;
      }
      const started = Date.now();
      const image = buildVmImage({ out: o.out });
      process.stdout.write(
        `stapflow-vm: ${image.initramfs} (${(image.bytes / 1048576).toFixed(1)} MiB), kernel ${image.kernelRelease}, ` +
          `built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      );
    });
  cliSubcommand(program, 'boot')
    .description('boot the image; org.systemtap.stapsh.N on --socket PATH (repeat for more ports); your terminal becomes its console')
    .option('--image <DIR>', 'the image to boot', defaultImageDir())
    .option('--socket <PATH>', 'host end of a port (repeatable: .0, .1, ...)', (v: string, prev: string[]) => [...prev, resolve(v)], [] as string[])
    .option('--restart <SEC>', "stapsh's restart delay in the guest", positiveNumber, 1)
    .option('--memory <MIB>', 'guest RAM', positiveNumber, 1024)
    .action(async (o: { image: string; socket: string[]; restart: number; memory: number }) => {
      const image = readVmImage(o.image);
      if (image === null) {
        process.stderr.write(`stapflow-vm: no image in ${o.image} (npm run vm:build)\n`);
        status = 1;
        return;
      }
      const sockets = o.socket.length > 0 ? o.socket : [resolve('stapsh-vm.sock')];
      const started = Date.now();
      const vm = await bootVm({ image, sockets, restartSec: o.restart, memoryMiB: o.memory });
      process.stderr.write(
        `stapflow-vm: up in ${((Date.now() - started) / 1000).toFixed(1)} s (${vm.accel}), kernel ${vm.kernelRelease}; ` +
          sockets.map((s, i) => `org.systemtap.stapsh.${i} on ${s}`).join(', ') +
          `\n  try: stap-remote --remote=unix:${sockets[0]} MODULE   (or stap --remote=unix:${sockets[0]} …)\n` +
          '  this terminal is the VM console; Ctrl-D or Ctrl-C stops the VM\n',
      );
      process.stdout.write(vm.console().slice(vm.console().lastIndexOf('stapflow-vm: ready')));
      const stop = () => void vm.close();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      // The console, both ways, through `sh()`'s channel: one line at a time.
      process.stdin.setEncoding('utf8');
      let buffered = '';
      process.stdin.on('data', (s: string) => {
        buffered += s;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          void vm.sh(line, 600_000).then(
            (r) => process.stdout.write(r.out + (r.status === 0 ? '' : `[exit ${r.status}]\n`)),
            (e: unknown) => process.stderr.write(`${String(e)}\n`),
          );
        }
      });
      process.stdin.once('end', stop);
      process.stderr.write(await vm.exited.then((why) => `stapflow-vm: ${why}\n`));
      process.stdin.pause();
    });
  try {
    const usage = await parseCli(program, argv);
    if (usage !== null) return usage;
  } catch (error) {
    process.stderr.write(`stapflow-vm: ${describeError(error)}\n`);
    return 1;
  }
  return status;
}

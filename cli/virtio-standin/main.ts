/** `virtio-standin`: a virtio-serial port stand-in (standins/virtio.ts) until SIGINT/SIGTERM. */

import { Command, InvalidArgumentError } from 'commander';
import { startVirtioStandin } from '../../standins/virtio.js';

function count(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('virtio-standin')
    .description(
      'A virtio-serial port stand-in: a pty linked at PORT for the guest (`stapsh -l PORT`) and a unix socket at SOCKET for ' +
        'the host (`stap --remote=unix:SOCKET`), with a real port\'s semantics: the host never sees the guest come and go; ' +
        'the guest sees the host leave (the pty is hung up, a fresh one replaces it); guest output waits, unread, for a host; ' +
        'one host at a time (others queue). Needs socat. Runs until SIGINT/SIGTERM, then removes PORT and SOCKET.',
    )
    .requiredOption('--port <PATH>', "where the guest's end (a pty) is linked")
    .requiredOption('--socket <PATH>', "the host's end (a unix socket)")
    .option('--max-queued <N>', 'hosts waiting while another is connected; more are refused', count, 8)
    .option('-v, --verbose', 'log connections, hangups and socat to stderr')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError();
  let o: { port: string; socket: string; maxQueued: number; verbose?: boolean };
  try {
    program.parse(argv as string[], { from: 'user' });
    o = program.opts();
  } catch (error) {
    return (error as { exitCode?: number }).exitCode ?? 2;
  }
  const standin = await startVirtioStandin({
    port: o.port,
    socket: o.socket,
    maxQueued: o.maxQueued,
    ...(o.verbose ? { log: (m: string) => process.stderr.write(`virtio-standin: ${m}\n`) } : {}),
  });
  process.stderr.write(`virtio-standin: port ${o.port} (${standin.pty()}), socket ${o.socket}\n`);
  const onSignal = () => void standin.close();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const why = await standin.stopped;
  if (why !== null) {
    process.stderr.write(`virtio-standin: ${why}\n`);
    return 1;
  }
  return 0;
}

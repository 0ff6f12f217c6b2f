/** `virtio-standin`: a virtio-serial port stand-in (`standins/virtio.ts`) as a program, until SIGINT/SIGTERM. */
// @ts-nocheck


import { InvalidArgumentError } from 'commander';
import { startVirtioStandin } from '../../standins/virtio.js';
import { cliProgram, parseCliSync, usageStatus } from '../common/cli.js';

function count(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = cliProgram(
    'virtio-standin',
    'A virtio-serial port stand-in: a pty linked at PORT for the guest (`stapsh -l PORT`) and a unix socket at SOCKET for the host ' +
      "(`stap --remote=unix:SOCKET`), with a real port's semantics: the host never sees the guest come and go; the guest sees the " +
      'host leave (the pty is hung up, a fresh one replaces it); guest output waits, unread, for a host; one host at a time (others ' +
      'queue). Needs socat. Runs until SIGINT/SIGTERM, then removes PORT and SOCKET.',
  )
    .option('--port <PATH>', "the guest's end: a pty linked at PATH (required)")
    .option('--socket <PATH>', "the host's end: a unix socket at PATH (required)")
    .option('--max-queued <N>', 'hosts waiting for their turn, more are refused (default 8)', count)
    .option('-v, --verbose', 'log connections, hangups and socat on stderr');
  const usage = parseCliSync(program, argv);
  if (usage !== null) return usage;
  const o = program.opts<{ port?: string; socket?: string; maxQueued?: number; verbose?: boolean }>();
  // Checked after parsing, so that an unknown option is what gets reported, not these.
  if (o.port === undefined || o.socket === undefined) return usageStatus(program, `${o.port === undefined ? '--port' : '--socket'} PATH is required`);
  const standin = await startVirtioStandin({
    port: o.port,
    socket: o.socket,
    ...(o.maxQueued === undefined ? {} : { maxQueued: o.maxQueued }),
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

/**
 * A staprun stand-in for demos and tests, needing no root or kernel: it
 * behaves like a probe module with begin and end probes. It reports the
 * module's name and size, ticks, and on SIGHUP/SIGINT/SIGTERM prints its
 * end-probe output and exits 0. Module options: `ticks=N` (exit by itself
 * after N ticks, status `status=N`), `interval=MS`, `stderr=TEXT`.
 */
// @ts-nocheck


import { statSync } from 'node:fs';
import { basename } from 'node:path';

export function runStandin(argv: readonly string[]): void {
  const moduleArg = argv.find((a) => /\.(ko|so|bo)$/.test(a));
  const options = new Map(
    argv.filter((a) => /^[a-z_]+=/.test(a)).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] as const),
  );
  const out = (line: string) => process.stdout.write(`${line}\n`);
  // Statuses go to process.exitCode, never process.exit(): a pipe may still hold our last lines.
  if (moduleArg === undefined) {
    process.stderr.write('ERROR: Need a module name or path to load.\n');
    process.exitCode = 1;
    return;
  }
  let size = -1;
  try {
    size = statSync(moduleArg).size;
  } catch {
    process.stderr.write(`ERROR: Couldn't open module ${moduleArg}\n`);
    process.exitCode = 1;
    return;
  }
  out(`begin: module ${basename(moduleArg)} (${size} bytes), args: ${argv.join(' ')}`);
  const stderrText = options.get('stderr');
  if (stderrText) process.stderr.write(`${stderrText}\n`);
  const ticks = options.has('ticks') ? Number(options.get('ticks')) : Infinity;
  const interval = Number(options.get('interval') ?? 200);
  const status = Number(options.get('status') ?? 0);
  let n = 0;
  let ended = false;
  const timer = setInterval(() => {
    if (n >= ticks) {
      ended = true;
      clearInterval(timer);
      out('end: done');
      process.exitCode = status;
      return;
    }
    out(`tick ${n++}`);
  }, interval);
  for (const signal of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (ended) return;
      ended = true;
      clearInterval(timer);
      out(`end: ${signal} after ${n} ticks`);
      process.exitCode = 0;
    });
  }
}

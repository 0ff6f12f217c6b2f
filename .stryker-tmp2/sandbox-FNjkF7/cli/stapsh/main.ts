/**
 * `stapsh`: the guest CLI. Three ways to meet a host: stdio (as ssh or
 * `socat EXEC:` starts it), a character device in listening mode (`-l`,
 * a virtio-serial port), or a unix socket serving many sessions (`--listen`);
 * all three are `serveGuest` with the options below.
 */
// @ts-nocheck


import { serveGuest, type ServeGuestOptions } from '../../guest/serve.js';
import { guardInspector } from '../../guest/signals.js';
import { cannot, describeError } from '../common/words.js';
import { parseStapshArgs } from './options.js';

export async function main(argv: readonly string[]): Promise<number> {
  guardInspector();
  const o = parseStapshArgs(argv);
  if (typeof o === 'number') return o;
  const where: Pick<ServeGuestOptions, 'stdio' | 'port' | 'listen'> =
    o.listen !== null ? { listen: o.listen } : o.port !== null ? { port: o.port } : { stdio: true };
  let server;
  try {
    server = await serveGuest({
      ...where,
      bindir: o.bindir,
      release: o.release,
      verbose: o.verbose,
      limits: { graceMs: o.graceMs, maxUploadTotal: o.maxUploadTotal },
      extensions: o.extensions,
      ...(o.trace === null ? {} : { trace: o.trace, traceMaxBytes: o.traceMaxBytes }),
      signals: true,
    });
  } catch (error) {
    // The transports' errors name the socket or port; the trace file's is a bare system error.
    const traceFailed = o.trace !== null && (error as { path?: unknown }).path === o.trace;
    process.stderr.write(`stapsh: ${traceFailed ? cannot('write trace', o.trace!, error) : describeError(error)}\n`);
    return 1;
  }
  return server.done;
}

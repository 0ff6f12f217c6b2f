/**
 * `stap-remote`: stap's pass 5 against one or more remotes. Uploads a
 * compiled module (`.ko`, `.so` or `.bo`), runs it, streams stdout and
 * stderr binary-safe as they arrive. Ctrl-C sends `quit` to every guest; a
 * second Ctrl-C closes hard. Exit status: the child's where the channel
 * carries it (spawned guests, ssh), 0 for a completed session where it is
 * unknowable (sockets), 1 with a message for a failed one; with several
 * remotes the first failure wins.
 *
 * ssh remotes use the system ssh (`--ssh-config FILE` passes `-F FILE` to
 * it, and to scp); one without `stapsh` on its PATH (ssh exits 127 before a
 * hello) is run in SystemTap's legacy mode instead (`startSshLegacySession`).
 */
// @ts-nocheck


import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { basename, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { InvalidArgumentError } from 'commander';
import { cliProgram, parseCliSync, usageError } from '../common/cli.js';
import { BROKEN_PIPE_STATUS, nextDrain } from '../common/launch.js';
import { cannot } from '../common/words.js';
import { parseRemote, type RemoteSpec } from '../../protocol/remoteUri.js';
import { connectRemote, packageRoot } from '../../host/connect.js';
import { runOnRemotes } from '../../host/runner.js';
import { createTrace, traceSink } from '../../trace/recorder.js';
import { renderText } from '../../trace/render.js';
import type { InspectionEvent } from 'xstate';
import type { SessionOptions } from '../../host/session.js';
import { needsSshLegacy, startSshLegacySession } from '../../host/sshLegacy.js';
import { sshExitError } from '../../transports/ssh.js';

interface CliOptions {
  remote: string[];
  remotePrefix: boolean;
  verbose: number;
  stapsh?: string;
  stapvirt?: string;
  sshConfig?: string;
  timeout: number;
  trace?: string;
  timeline: boolean;
  inspect?: string | boolean;
  extensions: boolean;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

/**
 * Copy `from` into `to`, waiting for 'drain' (so the source is read only as
 * fast as `to` takes it). When `to` breaks (EPIPE: its reader is gone),
 * `onClosed` is called once and the rest of `from` is dropped, so the flow
 * behind it never stalls on a reader that will not come back.
 */
async function copyOut(from: Readable, to: Writable, onClosed: () => void): Promise<void> {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    // Stop holding the flow: the source's consumer goes away, its output is only tapped now.
    from.destroy();
    onClosed();
  };
  to.on('error', close);
  try {
    for await (const chunk of from) {
      if (closed) break;
      if (!to.write(chunk as Uint8Array)) await nextDrain(to);
    }
  } catch {
    // Destroying `from` ends the loop with an abort: that is the reader leaving, already handled.
  }
  if (to.destroyed && !closed) close();
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = cliProgram('stap-remote', "Run a compiled SystemTap module on remotes through stapsh, as stap's pass 5 does.")
    .argument('<MODULE>', 'the compiled module: NAME.ko (kernel), NAME.so (dyninst) or NAME.bo (bpf)')
    .argument('[MODULE_ARGS...]', 'module arguments (name=value)')
    .option('--remote <URI>', 'a remote: unix:/path, stapsh:, ssh://host[:port], host[:port], libvirt://DOMAIN[/URI]; repeatable', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--remote-prefix', 'prefix each stdout line with the remote index, "N: "', false)
    .option('-v, --verbose', 'more output; each extra -v asks the guest for option verbose', (_: string, n: number) => n + 1, 0)
    .option('--stapsh <CMD>', "the guest for stapsh: remotes, split like shell words (default: stapflow's own stapsh)")
    .option('--stapvirt <PATH>', "the stapvirt for libvirt: remotes (default: stapflow's own, PACKAGE/bin/stapvirt.js)")
    .option('--ssh-config <FILE>', 'ssh configuration for ssh remotes: passed as -F FILE to ssh (and scp in legacy mode)')
    .option('--timeout <S>', 'bound on every wait for a guest reply, in seconds', seconds, 30)
    .option('--trace <FILE>', 'record every frame and state change as a JSONL trace (docs/trace-format.md; 64 MiB cap, rotated)')
    .option('--timeline', 'print a live text timeline of the session(s) on stderr', false)
    .option(
      '--inspect [URL]',
      "send the machines' XState inspection events to a WebSocket inspector (Stately's; default ws://localhost:8080)",
    )
    .option('--no-extensions', "send exactly what SystemTap's stap sends: no hello nonce, no `option status`")
    .action(() => {
      if (program.opts<CliOptions>().remote.length === 0) usageError(program, 'at least one --remote=URI is needed');
    });
  const usage = parseCliSync(program, argv);
  if (usage !== null) return usage;
  const o = program.opts<CliOptions>();
  const [modulePath, ...moduleArgs] = program.args as [string, ...string[]];
  const specs: RemoteSpec[] = [];
  for (const uri of o.remote) {
    const parsed = parseRemote(uri);
    if (!parsed.ok) {
      process.stderr.write(`${parsed.message}\n`);
      return 1;
    }
    specs.push(parsed.spec);
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(modulePath);
  } catch (error) {
    process.stderr.write(`stap-remote: ${cannot('read module', modulePath, error)}\n`);
    return 1;
  }
  const module = { name: basename(modulePath), bytes };
  const extraSshArgs = o.sshConfig === undefined ? [] : ['-F', o.sshConfig];
  const onUploadProgress = process.stderr.isTTY
    ? (sent: number, total: number, name: string) =>
        process.stderr.write(`\r${name}: ${Math.floor((100 * sent) / total)}% of ${total} bytes${sent === total ? '\n' : ''}`)
    : undefined;
  const trace = o.trace !== undefined || o.timeline ? createTrace({ source: 'stap-remote' }) : null;
  if (trace && o.trace !== undefined) {
    try {
      trace.events$.subscribe(traceSink(o.trace, { header: trace.header }));
    } catch (error) {
      process.stderr.write(`stap-remote: ${cannot('write trace', o.trace, error)}\n`);
      return 1;
    }
  }
  if (trace && o.timeline) trace.events$.subscribe((e) => process.stderr.write(renderText([e])));
  // Stately's client pulls in ws and superjson: loaded only for --inspect, not on every start.
  const inspector =
    o.inspect === undefined || o.inspect === false
      ? null
      : (await import('@statelyai/inspect')).createWebSocketInspector({ url: typeof o.inspect === 'string' ? o.inspect : 'ws://localhost:8080' });
  const hooks = (_uri: string, index: number): Pick<SessionOptions, 'onWire' | 'inspect'> => {
    const recorders = trace?.recorders(`remote${index}`, 'host');
    // XState's inspect hook is a function or an observer (Stately's inspector gives an observer).
    const sinks: ((e: InspectionEvent) => void)[] = [];
    if (recorders) sinks.push(recorders.inspect);
    if (inspector) {
      const target = inspector.inspect as unknown as ((e: InspectionEvent) => void) | { next?: (e: InspectionEvent) => void };
      sinks.push((e) => (typeof target === 'function' ? target(e) : target.next?.(e)));
    }
    return {
      ...(recorders ? { onWire: recorders.onWire } : {}),
      ...(sinks.length > 0 ? { inspect: (e: InspectionEvent) => sinks.forEach((f) => f(e)) } : {}),
    };
  };
  const runner = runOnRemotes(o.remote, {
    ...(trace || inspector ? { hooks } : {}),
    module,
    moduleArgs,
    prefix: o.remotePrefix,
    // As stap: data framing over the channels that do not keep stderr apart.
    wantData: (_uri, index) => specs[index]!.kind === 'unix' || specs[index]!.kind === 'libvirt',
    verbose: Math.max(0, o.verbose - 1),
    replyTimeoutMs: o.timeout * 1000,
    extensions: o.extensions,
    connect: (uri, index) =>
      connectRemote(specs[index]!, uri, {
        ...(o.stapsh ? { stapshCommand: o.stapsh } : {}),
        stapvirtCommand: o.stapvirt ?? join(packageRoot(), 'bin', 'stapvirt.js'),
        verbose: Math.max(0, o.verbose - 1),
        extraSshArgs,
      }),
    // As stap: an ssh remote without stapsh (exit 127, no hello) runs in legacy mode (scp + ssh -t staprun).
    fallback: (uri, index, failed) => {
      const spec = specs[index]!;
      if (spec.kind !== 'ssh' || !needsSshLegacy(failed)) return null;
      if (o.verbose > 0) process.stderr.write(`stap-remote: no stapsh on remote '${uri}', using ssh legacy mode\n`);
      return startSshLegacySession(spec, uri, {
        module,
        moduleArgs,
        extraSshArgs,
        stepTimeoutMs: o.timeout * 1000,
        ...(onUploadProgress ? { onUploadProgress } : {}),
      });
    },
    ...(onUploadProgress ? { onUploadProgress } : {}),
  });
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts === 1) runner.interrupt();
    else void runner.close();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  // Output reaches our stdout/stderr at the pace they take it (backpressure to every guest).
  // A reader that goes away (EPIPE, `| head`) ends us quietly, as launch() does for every
  // program (status 141): every guest is told to quit, the rest of its output read and dropped.
  let readerGone = false;
  const copies = Promise.all([
    copyOut(runner.stdout, process.stdout, () => {
      readerGone = true;
      runner.interrupt();
    }),
    copyOut(runner.stderr, process.stderr, () => undefined),
  ]);
  try {
    await copies;
    const { results, firstFailure } = await runner.done;
    if (readerGone) return BROKEN_PIPE_STATUS;
    if (firstFailure) {
      // Over ssh the reason is often only in ssh's exit status (255: no connection, 127: no stapsh).
      const exitReason = firstFailure.result.exit ? sshExitError(firstFailure.result.exit, firstFailure.uri) : null;
      const sshFailed = specs[o.remote.indexOf(firstFailure.uri)]?.kind === 'ssh' && exitReason !== null;
      const message = sshFailed ? exitReason.message : firstFailure.result.ok ? '' : firstFailure.result.error;
      process.stderr.write(`stap-remote: ${message}\n`);
      return 1;
    }
    for (const r of results) {
      const exit = r.result.exit;
      if (exit && exit.code !== null && exit.code !== 0) return exit.code;
      if (exit && exit.signal !== null) return 128 + (constants.signals[exit.signal] ?? 0);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    // Completing the events flushes and closes the trace file.
    trace?.close();
    inspector?.stop();
  }
}

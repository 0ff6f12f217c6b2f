/**
 * `stap-remote`: stap's pass 5 against one or more remotes. Uploads a
 * compiled module (`.ko`, `.so` or `.bo`), runs it, streams stdout and
 * stderr binary-safe as they arrive. Given a script (`-e SCRIPT` or
 * `SCRIPT.stp`) it first compiles it with SystemTap's `stap -p4` once per
 * (machine, release) among the remotes' hellos (`host/script.ts`), cached
 * under `$XDG_CACHE_HOME/stapflow/modules`; a compile error ends every
 * session (guests told to quit) with stap's exit status. Ctrl-C sends `quit` to every guest; a
 * second Ctrl-C closes hard. Exit status: the child's where the channel
 * carries it (spawned guests, ssh), 0 for a completed session where it is
 * unknowable (sockets), 1 with a message for a failed one; with several
 * remotes the first failure wins.
 *
 * ssh remotes use the system ssh (`--ssh-config FILE` passes `-F FILE` to
 * it, and to scp); one without `stapsh` on its PATH (ssh exits 127 before a
 * hello) is run in SystemTap's legacy mode instead (`startSshLegacySession`).
 */

import { existsSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { InvalidArgumentError, Option } from 'commander';
import { cliProgram, parseCliSync, usageError, usageStatus } from '../common/cli.js';
import { BROKEN_PIPE_STATUS, nextDrain } from '../common/launch.js';
import { cannot } from '../common/words.js';
import { parseRemote, type RemoteSpec } from '../../protocol/remoteUri.js';
import { connectRemote, packageRoot } from '../../host/connect.js';
import { runOnRemotes, type RunnerHandle } from '../../host/runner.js';
import { DEFAULT_COMPILE_TIMEOUT_MS, resolveStap, type ScriptSource } from '../../host/compile.js';
import { looksLikeModule, readModuleFile } from '../../host/moduleFile.js';
import { runScript, type CompileReport } from '../../host/script.js';
import type { Runtime } from '../../protocol/runCommand.js';
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
  e?: string;
  runtime: Runtime;
  stap?: string;
  kernelTree: string[];
  compileTimeout: number;
  cache: boolean;
}

/** Exit status after Ctrl-C stopped a compile (128 + SIGINT, as a shell reports it). */
const INTERRUPTED_STATUS = 130;

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
  const program = cliProgram(
    'stap-remote',
    "Run a SystemTap script or compiled module on remotes through stapsh, as stap --remote does. " +
      "A script is compiled with SystemTap's stap -p4 once per (machine, release) among the remotes' hellos " +
      '(-a MACHINE -r RELEASE -m NAME; everything after -- goes to stap: -g, -D, -I, -B, …) ' +
      'and cached under $XDG_CACHE_HOME/stapflow/modules (default ~/.cache/stapflow/modules).',
  )
    .usage('[options] (-e SCRIPT | SCRIPT.stp | MODULE) [ARGS...] [-- STAP_OPTIONS...]')
    .argument('[SCRIPT_OR_MODULE]', 'SCRIPT.stp (compiled for each remote) or the compiled module: NAME.ko (kernel), NAME.so (dyninst) or NAME.bo (bpf)')
    .argument('[ARGS...]', "module arguments (name=value), or with a script stap's script arguments ($1, @1)")
    .option('-e <SCRIPT>', 'the script text to compile and run (as stap -e)')
    .addOption(new Option('--runtime <RUNTIME>', "stap's runtime for a script: kernel, dyninst or bpf").choices(['kernel', 'dyninst', 'bpf']).default('kernel'))
    .option('--stap <PATH>', "SystemTap's stap, for compiling scripts (default: stap on PATH)")
    .option('--kernel-tree <RELEASE=DIR>', "compile for RELEASE against the build tree DIR (stap's -r DIR); repeatable", (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--compile-timeout <S>', 'bound on each stap -p4, in seconds', seconds, DEFAULT_COMPILE_TIMEOUT_MS / 1000)
    .option('--no-cache', 'compile even when the module cache has this script for this machine and release')
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
      const opts = program.opts<CliOptions>();
      if (opts.remote.length === 0) usageError(program, 'at least one --remote=URI is needed');
      if (opts.e === undefined && program.args.length === 0) usageError(program, 'a script (-e SCRIPT or SCRIPT.stp) or a compiled module is needed');
      for (const t of opts.kernelTree) if (!/^[^=]+=./.test(t)) usageError(program, `--kernel-tree wants RELEASE=DIR, not '${t}'`);
    });
  // Everything after the first `--` is stap's (compile options), not ours.
  const dashes = argv.indexOf('--');
  const stapOptions = dashes < 0 ? [] : argv.slice(dashes + 1);
  const usage = parseCliSync(program, dashes < 0 ? argv : argv.slice(0, dashes));
  if (usage !== null) return usage;
  const o = program.opts<CliOptions>();
  const positional = program.args;
  const [target, ...targetArgs] = positional as [string, ...string[]];
  const script: ScriptSource | null =
    o.e !== undefined ? { text: o.e, args: positional } : looksLikeModule(target) ? null : { file: target, args: targetArgs };
  if (script === null && (stapOptions.length > 0 || o.kernelTree.length > 0 || program.getOptionValueSource('runtime') === 'cli')) {
    return usageStatus(program, '--runtime, --kernel-tree and stap options after -- apply to scripts, not to a compiled module');
  }
  // Checks before any connection: one line, status 1.
  if (o.e === undefined && existsSync(target) && statSync(target).isDirectory()) {
    process.stderr.write(`stap-remote: ${target} is a directory, not a script (.stp) or a compiled module (.ko, .so or .bo)\n`);
    return 1;
  }
  let module: { name: string; bytes: Uint8Array } | null = null;
  if (script === null) {
    const checked = readModuleFile(target);
    if (!checked.ok) {
      process.stderr.write(`stap-remote: ${checked.cause === undefined ? checked.problem : cannot('read module', target, checked.cause)}\n`);
      return 1;
    }
    module = checked.module;
  } else if ('file' in script) {
    if (!script.file.endsWith('.stp')) {
      process.stderr.write(`stap-remote: '${script.file}' is neither a script (.stp) nor a compiled module (.ko, .so or .bo)\n`);
      return 1;
    }
    const problem = !existsSync(script.file) ? 'does not exist' : !statSync(script.file).isFile() ? 'is not a regular file' : null;
    if (problem !== null) {
      process.stderr.write(`stap-remote: script ${script.file} ${problem}\n`);
      return 1;
    }
  }
  const kernelTrees: Record<string, string> = {};
  for (const t of o.kernelTree) {
    const at = t.indexOf('=');
    const dir = t.slice(at + 1);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      process.stderr.write(`stap-remote: --kernel-tree ${t}: ${dir} is not a directory\n`);
      return 1;
    }
    kernelTrees[t.slice(0, at)] = dir;
  }
  if (script !== null && resolveStap(o.stap) === null) {
    process.stderr.write(`stap-remote: cannot find ${o.stap ?? 'stap on PATH'} to compile the script (install SystemTap, or give --stap PATH)\n`);
    return 1;
  }
  const moduleArgs = script === null ? targetArgs : [];
  const specs: RemoteSpec[] = [];
  for (const uri of o.remote) {
    const parsed = parseRemote(uri);
    if (!parsed.ok) {
      process.stderr.write(`${parsed.message}\n`);
      return 1;
    }
    specs.push(parsed.spec);
  }
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
  if (trace && o.timeline) trace.events$.subscribe((e) => process.stderr.write(renderText([e], null, { analysis: false })));
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
  const common = {
    ...(trace || inspector ? { hooks } : {}),
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
    ...(onUploadProgress ? { onUploadProgress } : {}),
  } satisfies Parameters<typeof runScript>[2];
  let compiled: Promise<CompileReport> | null = null;
  let runner: RunnerHandle;
  if (script !== null) {
    const plural = (n: number) => `${n} remote${n === 1 ? '' : 's'}`;
    const handle = runScript(o.remote, script, {
      ...common,
      compile: {
        runtime: o.runtime,
        ...(o.stap === undefined ? {} : { stap: o.stap }),
        stapOptions,
        kernelTrees,
        timeoutMs: o.compileTimeout * 1000,
        cache: o.cache,
        ...(process.stderr.isTTY
          ? { onCompile: (g) => process.stderr.write(`compiling for ${g.kernelRelease} ${g.machine} (${plural(g.remotes.length)})…\n`) }
          : {}),
      },
    });
    compiled = handle.compiled;
    runner = handle;
  } else {
    const file = module!;
    runner = runOnRemotes(o.remote, {
    ...common,
    module: file,
    // As stap: an ssh remote without stapsh (exit 127, no hello) runs in legacy mode (scp + ssh -t staprun).
    fallback: (uri, index, failed) => {
      const spec = specs[index]!;
      if (spec.kind !== 'ssh' || !needsSshLegacy(failed)) return null;
      if (o.verbose > 0) process.stderr.write(`stap-remote: no stapsh on remote '${uri}', using ssh legacy mode\n`);
      return startSshLegacySession(spec, uri, {
        module: file,
        moduleArgs,
        extraSshArgs,
        stepTimeoutMs: o.timeout * 1000,
        ...(onUploadProgress ? { onUploadProgress } : {}),
      });
    },
  });
  }
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
    const report = await compiled;
    if (report && !report.ok) {
      // stap's own messages are on stderr already; its status is ours.
      const e = report.error;
      if (e.reason === 'interrupted') {
        process.stderr.write('stap-remote: interrupted while compiling\n');
        return INTERRUPTED_STATUS;
      }
      process.stderr.write(`stap-remote: ${e.message}\n`);
      return e.reason === 'failed' && e.status !== null && e.status !== 0 ? e.status : 1;
    }
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

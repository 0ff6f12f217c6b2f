/**
 * A script on remotes in one call, as `stap --remote=A --remote=B -e …`:
 * connect to every remote, wait until each has said its hello (or failed),
 * compile once per (machine, release) with `compileFor`, then upload and
 * run each group's module on its remotes, exactly as `runOnRemotes` does
 * with a given module. While the compile runs the sessions wait in their
 * `preparing` state, bounded by the compile's bound, not the reply timeout.
 * A compile error, or Ctrl-C (`interrupt()`), stops stap and tells every
 * guest to quit.
 */

import { compileFor, CompileError, DEFAULT_COMPILE_TIMEOUT_MS, type CompiledGroup, type CompileOptions, type ScriptSource } from './compile.js';
import { runOnRemotes, type RunnerHandle, type RunnerOptions } from './runner.js';
import type { GuestHello } from '../machines/hostSession.js';
import type { ModuleFile } from './session.js';
import { parseRemote } from '../protocol/remoteUri.js';
import { connectRemote, RemoteConnectError } from './connect.js';

/** A remote by its URI, as stap opens it. */
async function connectByUri(uri: string) {
  const parsed = parseRemote(uri);
  if (!parsed.ok) throw new RemoteConnectError(parsed.message, uri, { code: 'EINVAL' });
  return connectRemote(parsed.spec, uri);
}

/** As stap: data framing over the schemes whose channel does not keep stderr apart. */
function wantsData(uri: string): boolean {
  const parsed = parseRemote(uri);
  return parsed.ok && (parsed.spec.kind === 'unix' || parsed.spec.kind === 'libvirt');
}

export interface RunScriptOptions extends Omit<RunnerOptions, 'module' | 'onEnded' | 'prepareTimeoutMs' | 'connect'> {
  /** Opens the channel to one remote (default: by its URI, as `connect` does: `unix:`, `stapsh:`, `ssh://`, …). */
  readonly connect?: RunnerOptions['connect'];
  /** How to compile: runtime, stap, its options, build trees, cache, bound. */
  readonly compile?: Omit<CompileOptions, 'signal'>;
}

/** How the compile went: the groups and their modules, or the error (stap's status in it). */
export type CompileReport =
  | { readonly ok: true; readonly groups: readonly CompiledGroup[] }
  | { readonly ok: false; readonly error: CompileError };

export interface ScriptRunHandle extends RunnerHandle {
  /** Resolves once the modules are ready or the compile failed (never rejects). */
  readonly compiled: Promise<CompileReport>;
}

export function runScript(uris: readonly string[], script: ScriptSource, options: RunScriptOptions): ScriptRunHandle {
  const { compile = {}, ...runnerOptions } = options;
  const abort = new AbortController();
  const waiting = new Map<number, { hello: GuestHello; resolve: (m: ModuleFile) => void; reject: (e: unknown) => void }>();
  const out = new Set<number>();
  let started = false;
  let reportCompile!: (r: CompileReport) => void;
  const compiled = new Promise<CompileReport>((r) => (reportCompile = r));

  // Every remote has said its hello or is out: compile for those that are waiting.
  const maybeCompile = () => {
    if (started || waiting.size + out.size < uris.length) return;
    started = true;
    const entries = [...waiting.entries()].sort(([a], [b]) => a - b);
    if (abort.signal.aborted) {
      const error = new CompileError('interrupted before compiling', null, 'interrupted', null);
      for (const [, w] of entries) w.reject(error);
      reportCompile({ ok: false, error });
      return;
    }
    compileFor(
      entries.map(([, w]) => w.hello),
      script,
      { ...compile, signal: abort.signal },
    ).then(
      (result) => {
        entries.forEach(([, w], k) => w.resolve(result.modules[k]!));
        reportCompile({ ok: true, groups: result.groups.map((g) => ({ ...g, remotes: g.remotes.map((k) => entries[k]![0]) })) });
      },
      (e: unknown) => {
        const error = e instanceof CompileError ? e : new CompileError(e instanceof Error ? e.message : String(e), null, 'error', null);
        for (const [, w] of entries) w.reject(error);
        reportCompile({ ok: false, error });
      },
    );
  };

  // Sessions wait for their module through every remote's hello and every group's compile before theirs.
  const replyMs = options.replyTimeoutMs ?? 30_000;
  const prepareTimeoutMs = (compile.timeoutMs ?? DEFAULT_COMPILE_TIMEOUT_MS) * Math.max(1, uris.length) + 2 * replyMs;

  const runner = runOnRemotes(uris, {
    connect: connectByUri,
    wantData: wantsData,
    ...runnerOptions,
    prepareTimeoutMs,
    module: (hello, index) =>
      new Promise<ModuleFile>((resolve, reject) => {
        waiting.set(index, { hello, resolve, reject });
        maybeCompile();
      }),
    onEnded: (_uri, index) => {
      if (waiting.has(index)) return;
      out.add(index);
      maybeCompile();
    },
  });
  // No remote left to compile for: report that too, so `compiled` always settles.
  void runner.done.then(() => {
    if (!started) {
      started = true;
      reportCompile({ ok: true, groups: [] });
    }
  });
  // Delegating getters: a runner's stdout/stderr exist (and hold the flow) only once taken.
  return {
    get stdout() {
      return runner.stdout;
    },
    get stderr() {
      return runner.stderr;
    },
    output: () => runner.output(),
    output$: runner.output$,
    done: runner.done,
    compiled,
    interrupt() {
      abort.abort();
      runner.interrupt();
    },
    async close() {
      abort.abort();
      await runner.close();
    },
  };
}

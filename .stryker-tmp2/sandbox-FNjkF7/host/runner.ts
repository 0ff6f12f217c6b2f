/**
 * Many remotes at once, like `stap --remote=A --remote=B`: one session per
 * remote, their output merged (optionally each stdout line prefixed with
 * `N: ` as `--remote-prefix` does), and the first failure reported the way
 * stap reports it. Binary-safe: without prefixes, bytes pass through as is.
 *
 * The merge carries backpressure: each remote's output is pulled from its
 * session only while the merged output is below its high-water mark, so a
 * slow shared consumer slows every remote down and memory stays bounded.
 * Pulling (async iteration) rather than RxJS operators, because Observables
 * have no demand signal.
 */
// @ts-nocheck


import type { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import { concatBytes } from '../protocol/bytes.js';
import type { Transport } from '../transports/transport.js';
import { OutputFlow, OutputGate, withOutput, type OutputChunk, type OutputMembers } from './output.js';
import { startSession, type HostSessionHandle, type ModuleFile, type SessionOptions, type SessionResult } from './session.js';

export interface RemoteOutput extends OutputChunk {
  /** Index of the remote among those given. */
  readonly remote: number;
}

export interface RunnerOptions extends Omit<SessionOptions, 'remote' | 'remoteIndex' | 'module' | 'wantData'> {
  /** Request data framing: for all remotes, or per remote (stap asks for it over unix: and libvirt:). */
  readonly wantData?: boolean | ((uri: string, index: number) => boolean);
  readonly module: ModuleFile;
  /** Prefix each stdout line with `N: ` (stap's --remote-prefix). */
  readonly prefix?: boolean;
  /** Opens the channel to one remote. */
  readonly connect: (uri: string, index: number) => Promise<Transport>;
  /** Per-remote session hooks (traces, timelines): wire bytes and machine inspection. */
  readonly hooks?: (uri: string, index: number) => Pick<SessionOptions, 'onWire' | 'inspect'>;
  /**
   * Called when a remote's session failed (not after an interrupt): another
   * session to run in its place, or null to keep the failure. Its output
   * joins this remote's stream (prefixed alike), `interrupt()`/`close()`
   * reach it, and its result replaces the failed one. Used for SystemTap's
   * ssh legacy mode (`needsSshLegacy`, `startSshLegacySession`).
   */
  readonly fallback?: (uri: string, index: number, failed: SessionResult) => HostSessionHandle | null;
}

export interface RemoteResult {
  readonly uri: string;
  readonly result: SessionResult;
}

export interface RunnerHandle {
  /** Every remote's stdout (prefixed where asked) and stderr, merged, with backpressure as a session's. */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Both, in arrival order, with backpressure (each call is one more consumer). */
  output(): AsyncIterableIterator<RemoteOutput>;
  /** A tap that never holds the flow (observers, not slow consumers). */
  readonly output$: Observable<RemoteOutput>;
  /** Every remote's result, in the order given; `firstFailure` is the first that failed. */
  readonly done: Promise<{ readonly results: readonly RemoteResult[]; readonly firstFailure: RemoteResult | null }>;
  interrupt(): void;
  close(): Promise<void>;
}

/** Split a remote's stdout into lines prefixed `N: `, holding a partial line until its newline or the end. */
export function prefixLines(index: number): { push(bytes: Uint8Array): Uint8Array[]; end(): Uint8Array[] } {
  const prefix = new TextEncoder().encode(`${index}: `);
  let partial: Uint8Array[] = [];
  const joined = (parts: Uint8Array[]) => concatBytes(parts).slice();
  return {
    push(bytes) {
      const out: Uint8Array[] = [];
      let at = 0;
      for (;;) {
        const nl = bytes.indexOf(0x0a, at);
        if (nl < 0) break;
        out.push(joined([prefix, ...partial, bytes.subarray(at, nl + 1)]));
        partial = [];
        at = nl + 1;
      }
      if (at < bytes.length) partial.push(bytes.slice(at));
      return out;
    },
    end() {
      if (partial.length === 0) return [];
      const out = [joined([prefix, ...partial])];
      partial = [];
      return out;
    },
  };
}

export function runOnRemotes(uris: readonly string[], options: RunnerOptions): RunnerHandle {
  const { wantData, fallback, hooks, prefix, connect, ...sessionOptions } = options;
  const sessions: (HostSessionHandle | null)[] = uris.map(() => null);
  const connectErrors: unknown[] = uris.map(() => null);
  let interrupted = false;
  let closing = false;
  const gate = new OutputGate();
  const merged = new OutputFlow<RemoteOutput>(gate, options.outputHighWaterMark);
  const emit = async (chunk: RemoteOutput): Promise<void> => {
    merged.push(chunk);
    await gate.open();
  };

  /** Pull one session's output into the merge; returns once it has ended. */
  const follow = async (index: number, session: HostSessionHandle, lines: ReturnType<typeof prefixLines> | null): Promise<void> => {
    sessions[index] = session;
    if (interrupted) session.interrupt();
    for await (const chunk of session.output()) {
      if (lines && chunk.stream === 'stdout') {
        // The chunk's whole lines, prefixed, as one chunk: a line per chunk would cost a write per line.
        const whole = lines.push(chunk.bytes);
        if (whole.length > 0) await emit({ remote: index, stream: 'stdout', bytes: whole.length === 1 ? whole[0]! : concatBytes(whole) });
      } else await emit({ ...chunk, remote: index });
    }
  };

  const runRemote = async (uri: string, index: number): Promise<void> => {
    let transport: Transport;
    try {
      transport = await connect(uri, index);
    } catch (error) {
      connectErrors[index] = error;
      return;
    }
    if (closing) {
      connectErrors[index] = new Error(`closed by the host before the session started on remote '${uri}'`);
      await transport.close();
      return;
    }
    const want = typeof wantData === 'function' ? wantData(uri, index) : wantData;
    const lines = prefix ? prefixLines(index) : null;
    let session = startSession(transport, {
      ...sessionOptions,
      ...hooks?.(uri, index),
      remote: uri,
      remoteIndex: index,
      ...(want === undefined ? {} : { wantData: want }),
    });
    await follow(index, session, lines);
    if (fallback && !interrupted && !closing) {
      const failed = await session.done;
      const next = failed.ok ? null : fallback(uri, index, failed);
      if (next) {
        session = next;
        await follow(index, session, lines);
      }
    }
    for (const bytes of lines?.end() ?? []) await emit({ remote: index, stream: 'stdout', bytes });
  };

  const done = (async () => {
    await Promise.all(uris.map((uri, index) => runRemote(uri, index)));
    merged.end();
    const results: RemoteResult[] = [];
    for (const [i, uri] of uris.entries()) {
      const session = sessions[i];
      if (session) results.push({ uri, result: await session.done });
      else {
        const e = connectErrors[i];
        const message = e instanceof Error ? e.message : String(e ?? 'not connected');
        results.push({ uri, result: { ok: false, error: message, hello: null, exit: null } });
      }
    }
    return { results, firstFailure: results.find((r) => !r.result.ok) ?? null };
  })();

  const rest: Omit<RunnerHandle, keyof OutputMembers<RemoteOutput>> = {
    done,
    interrupt() {
      interrupted = true;
      for (const s of sessions) s?.interrupt();
    },
    async close() {
      closing = true;
      await Promise.all(sessions.map((s) => s?.close()));
    },
  };
  return withOutput(merged, rest);
}

/**
 * Many remotes at once, like `stap --remote=A --remote=B`: one session per
 * remote, their output merged (optionally each stdout line prefixed with
 * `N: ` as `--remote-prefix` does), and the first failure reported the way
 * stap reports it. Binary-safe: without prefixes, bytes pass through as is.
 */

import { merge, Observable } from 'rxjs';
import { concatBytes } from '../protocol/bytes.js';
import type { Transport } from '../transports/transport.js';
import { startSession, type HostSessionHandle, type ModuleFile, type OutputChunk, type SessionOptions, type SessionResult } from './session.js';

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
  const sessions: (HostSessionHandle | null)[] = uris.map(() => null);
  let interrupted = false;
  let closing = false;
  const streams = uris.map(
    (uri, index) =>
      new Observable<RemoteOutput>((subscriber) => {
        const lines = options.prefix ? prefixLines(index) : null;
        let cancelled = false;
        void (async () => {
          let transport: Transport;
          try {
            transport = await options.connect(uri, index);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          if (cancelled) {
            await transport.close();
            return;
          }
          const { wantData, fallback, ...rest } = options;
          const want = typeof wantData === 'function' ? wantData(uri, index) : wantData;
          const follow = (session: HostSessionHandle, mayFallBack: boolean): void => {
            sessions[index] = session;
            if (interrupted) session.interrupt();
            session.output$.subscribe({
              next: (chunk) => {
                if (lines && chunk.stream === 'stdout') {
                  for (const bytes of lines.push(chunk.bytes)) subscriber.next({ remote: index, stream: 'stdout', bytes });
                } else subscriber.next({ ...chunk, remote: index });
              },
              complete: () => {
                void (async () => {
                  if (mayFallBack && fallback && !interrupted && !closing && !cancelled) {
                    const failed = await session.done;
                    const next = failed.ok ? null : fallback(uri, index, failed);
                    if (next) {
                      follow(next, false);
                      return;
                    }
                  }
                  for (const bytes of lines?.end() ?? []) subscriber.next({ remote: index, stream: 'stdout', bytes });
                  subscriber.complete();
                })();
              },
            });
          };
          const { hooks, ...sessionOptions } = rest;
          follow(
            startSession(transport, {
              ...sessionOptions,
              ...hooks?.(uri, index),
              remote: uri,
              remoteIndex: index,
              ...(want === undefined ? {} : { wantData: want }),
            }),
            true,
          );
        })();
        return () => {
          cancelled = true;
        };
      }),
  );
  // The output of all remotes, merged; a remote that cannot connect just ends its stream here.
  const connectErrors: (unknown | null)[] = uris.map(() => null);
  const output$ = merge(
    ...streams.map(
      (s, i) =>
        new Observable<RemoteOutput>((sub) =>
          s.subscribe({
            next: (v) => sub.next(v),
            complete: () => sub.complete(),
            error: (e: unknown) => {
              connectErrors[i] = e;
              sub.complete();
            },
          }),
        ),
    ),
  );
  let resolveDone!: (v: { results: readonly RemoteResult[]; firstFailure: RemoteResult | null }) => void;
  const done = new Promise<{ results: readonly RemoteResult[]; firstFailure: RemoteResult | null }>((r) => (resolveDone = r));
  const shared = new Observable<RemoteOutput>((subscriber) => {
    const sub = output$.subscribe({
      next: (v) => subscriber.next(v),
      complete: () => {
        void (async () => {
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
          resolveDone({ results, firstFailure: results.find((r) => !r.result.ok) ?? null });
          subscriber.complete();
        })();
      },
    });
    return sub;
  });
  return {
    output$: shared,
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
}

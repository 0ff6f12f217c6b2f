/**
 * The host library: one session against one guest over any Transport.
 * `startSession(transport, options)` runs hello → options → upload → run →
 * streaming, and exposes the guest's hello, the child's output (binary-safe)
 * as Readable streams and an async iterator that carry backpressure and as
 * an Observable tap that does not, `interrupt()` (sends `quit`), `close()`,
 * and `done` with how it ended and the exit status where the channel carries it.
 */
// @ts-nocheck


import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import type { Observable } from 'rxjs';
import { createActor, toPromise, type InspectionEvent } from 'xstate';
import * as encode from '../protocol/encode.js';
import type { ChildStatus } from '../protocol/extensions.js';
import { ReplyDecoder, type ReplyEvent } from '../protocol/replyDecoder.js';
import { runArguments } from '../protocol/runCommand.js';
import { hostEventOf, hostSession, type GuestHello, type HostInputEvent, type HostOutput } from '../machines/hostSession.js';
import type { ExitStatus, Transport } from '../transports/transport.js';
import { deferred } from './deferred.js';
import { OutputFlow, untilQuiet, withOutput, type OutputChunk, type OutputMembers } from './output.js';

export type { OutputChunk } from './output.js';

export interface ModuleFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface SessionOptions {
  /** The compiled module (`.ko`, `.so` or `.bo`). */
  readonly module: ModuleFile;
  readonly moduleArgs?: readonly string[];
  /** The remote's URI, for messages and for `-r IDX:URI`. */
  readonly remote: string;
  readonly remoteIndex?: number;
  /** Request `data` framing: needed where stdout/stderr are not separate (sockets, virtio, libvirt); that is the default. */
  readonly wantData?: boolean;
  readonly verbose?: number;
  /** The release this host speaks as (default 4.8, the reference). */
  readonly release?: string;
  /** Bound on every wait for the guest (default 30 s). */
  readonly replyTimeoutMs?: number;
  /** Called as upload bytes are handed to the channel. */
  readonly onUploadProgress?: (sent: number, total: number, name: string) => void;
  readonly inspect?: (event: InspectionEvent) => void;
  /** Every chunk that crosses the wire, either way (timelines, traces). */
  readonly onWire?: (direction: 'host->guest' | 'guest->host', bytes: Uint8Array) => void;
  /**
   * stapflow's protocol extensions (default true): the hello nonce and, in
   * data mode, `option status`. Guests without them (every SystemTap
   * release) are used as before; false sends exactly what SystemTap's host does.
   */
  readonly extensions?: boolean;
  /** The nonce to send (default: 12 random bytes, base64url); for tests that replay a session. */
  readonly nonce?: string;
  /** How long a hello without our nonce is held on a channel without EOF (default 250 ms). */
  readonly helloSettleMs?: number;
  /**
   * Undelivered output per consumer (`stdout`, `stderr`, `output()`) above
   * which the channel is paused (default 1 MiB): a slow consumer slows the
   * guest's child down as a pipe would, and memory stays bounded.
   */
  readonly outputHighWaterMark?: number;
}

export type SessionResult = HostOutput & {
  /**
   * The exit status: the guest process's where the channel carries it
   * (spawned guests, ssh), else the child's as the guest reported it
   * (`option status`); null when unknowable.
   */
  readonly exit: ExitStatus | null;
};

/** A `status` line's report as an exit status (a signal number becomes its name on this OS). */
export function exitOfStatus(status: ChildStatus): ExitStatus | null {
  if (status.kind === 'exited') return { code: status.code, signal: null };
  const name = Object.entries(constants.signals).find(([, n]) => n === status.number)?.[0];
  return name === undefined ? { code: 128 + status.number, signal: null } : { code: null, signal: name as NodeJS.Signals };
}

export interface HostSessionHandle {
  /** Resolves with the guest's hello; rejects if the session fails first. */
  readonly hello: Promise<GuestHello>;
  /**
   * The child's stdout and stderr, with backpressure: while one of them holds
   * `outputHighWaterMark` unread bytes the channel is not read. Each exists
   * from its first access, so take them in the tick the session starts (as
   * with a ChildProcess); destroying one lets the flow go on without it.
   * They end after the last output; how the session ended is in `done`.
   */
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Both streams' chunks in arrival order, with backpressure like `stdout` (each call is one more consumer). */
  output(): AsyncIterableIterator<OutputChunk>;
  /** A tap: every chunk as it arrives. It never holds the flow, so it suits observers, not slow consumers. */
  readonly output$: Observable<OutputChunk>;
  readonly done: Promise<SessionResult>;
  /** Ask the guest to quit (Ctrl-C). */
  interrupt(): void;
  /** Close the channel now (a second Ctrl-C). */
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;

/** How long a separate stderr may stay silent, after the session ended, before it is given up on. */
const STDERR_QUIET_MS = 2_000;


export function startSession(transport: Transport, options: SessionOptions): HostSessionHandle {
  const output = new OutputFlow(transport, options.outputHighWaterMark);
  const decoder = new ReplyDecoder();
  const { module } = options;
  const sendFile = async (): Promise<void> => {
    const total = module.bytes.length;
    const header = encode.file(total, module.name);
    options.onWire?.('host->guest', header);
    await transport.write(header);
    for (let at = 0; at < total; at += CHUNK) {
      const part = module.bytes.subarray(at, Math.min(total, at + CHUNK));
      options.onWire?.('host->guest', part);
      await transport.write(part);
      options.onUploadProgress?.(Math.min(total, at + CHUNK), total, module.name);
    }
  };
  // One machine definition for every session: the file sender travels in the input.
  const actor = createActor(hostSession, {
    input: {
      sendFile,
      release: options.release ?? '4.8',
      remote: options.remote,
      // As stap: data framing where the guest's stderr shares its channel (sockets, virtio; and
      // stapvirt, whose own stderr is apart but relays a port that merges the guest's).
      wantData: options.wantData ?? (!transport.capabilities.separateStderr || transport.capabilities.freshPeer === false),
      verbose: options.verbose ?? 0,
      uploads: [{ name: module.name, size: module.bytes.length }],
      runArgs: (hello) =>
        runArguments({
          module: module.name,
          moduleArgs: options.moduleArgs ?? [],
          guestRelease: hello.version,
          remoteIndex: options.remoteIndex ?? 0,
          remoteUri: options.remote,
        }),
      ...(options.replyTimeoutMs === undefined ? {} : { replyTimeoutMs: options.replyTimeoutMs }),
      ...((options.extensions ?? true)
        ? {
            nonce: options.nonce ?? randomBytes(12).toString('base64url'),
            askStatus: true,
            // Only a guest started for this session is known to be fresh: a socket may be QEMU's
            // end of a virtio-serial port, which keeps a dead session's bytes (stapvirt relays one).
            staleChannel: !(transport.capabilities.freshPeer ?? transport.capabilities.exitStatus),
            ...(options.helloSettleMs === undefined ? {} : { helloSettleMs: options.helloSettleMs }),
          }
        : {}),
    },
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });

  let writeFailure: string | null = null;
  actor.on('send', (e) => {
    options.onWire?.('host->guest', e.bytes);
    transport.write(e.bytes).catch((error: unknown) => {
      writeFailure ??= error instanceof Error ? error.message : String(error);
      deliver({ type: 'GUEST.EOF', error: writeFailure, writing: true });
    });
  });
  actor.on('mode', (e) => {
    decoder.mode = e.mode;
  });
  actor.on('output', (e) => output.push({ stream: e.stream, bytes: e.bytes }));

  const { promise: hello, resolve: resolveHello, reject: rejectHello } = deferred<GuestHello>();
  actor.on('hello', (e) => resolveHello(e.hello));

  // Input keeps arriving after the session ended (a failure, then EOF): drop it.
  const deliver = (ev: HostInputEvent) => {
    if (actor.getSnapshot().status === 'active') actor.send(ev);
  };
  const feed = (e: ReplyEvent) => {
    const ev = hostEventOf(e);
    if (ev) deliver(ev);
  };

  // Over ssh or a spawned guest, stderr comes apart and unframed: pass it on.
  let stderrSeen = 0;
  const { promise: stderrEnded, resolve: endStderr } = deferred<void>();
  const stderrSub = transport.stderr$?.subscribe({
    next: (bytes) => {
      stderrSeen++;
      output.push({ stream: 'stderr', bytes });
    },
    complete: () => endStderr(),
    error: () => endStderr(),
  });
  if (!stderrSub) endStderr();
  const done = toPromise(actor);
  actor.start();
  const sub = transport.incoming$.subscribe({
    next: (chunk) => {
      options.onWire?.('guest->host', chunk);
      decoder.push(chunk, feed);
    },
    complete: () => {
      decoder.end(feed);
      deliver({ type: 'GUEST.EOF' });
    },
    error: (error: unknown) => deliver({ type: 'GUEST.EOF', error: error instanceof Error ? error.message : String(error) }),
  });

  const finished = (async (): Promise<SessionResult> => {
    const result = await done;
    sub.unsubscribe();
    if (result.ok) resolveHello(result.hello);
    else rejectHello(new Error(result.error));
    // The exit status, where the channel has one: wait briefly for the guest to end.
    let exit: ExitStatus | null = null;
    if (transport.exit) {
      await transport.closeWrite().catch(() => undefined);
      exit = await Promise.race([transport.exit, new Promise<null>((r) => setTimeout(() => r(null), 2_000).unref())]);
    }
    // The guest's own report wins: a relay's exit (stapvirt's) is not the child's.
    if (result.ok && result.status !== null) exit = exitOfStatus(result.status) ?? exit;
    // A separate stderr can end after stdout (and lags the more while a slow consumer holds it):
    // read it to its end. Bounded by silence, not by total time, since a slow reader is no hang.
    await untilQuiet(stderrEnded, () => stderrSeen, () => output.paused, STDERR_QUIET_MS);
    stderrSub?.unsubscribe();
    output.end();
    await transport.close();
    return { ...result, exit };
  })();

  return sessionHandle(output, {
    hello,
    done: finished,
    interrupt: () => deliver({ type: 'INTERRUPT' }),
    close: async () => {
      deliver({ type: 'GUEST.EOF', error: 'closed by the host' });
      await transport.close();
    },
  });
}

/** A session handle whose output members read `output` (see `withOutput`). */
export function sessionHandle(output: OutputFlow, rest: Omit<HostSessionHandle, keyof OutputMembers<OutputChunk>>): HostSessionHandle {
  return withOutput(output, rest);
}

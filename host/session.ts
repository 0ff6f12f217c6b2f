/**
 * The host library: one session against one guest over any Transport.
 * `startSession(transport, options)` runs hello → options → upload → run →
 * streaming, and exposes the guest's hello, the child's output as an
 * Observable (binary-safe), `interrupt()` (sends `quit`), `close()`, and
 * `done` with how it ended and the exit status where the channel carries it.
 */

import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { Observable, Subject } from 'rxjs';
import { createActor, toPromise, type InspectionEvent } from 'xstate';
import * as encode from '../protocol/encode.js';
import type { ChildStatus } from '../protocol/extensions.js';
import { ReplyDecoder, type ReplyEvent } from '../protocol/replyDecoder.js';
import { runArguments } from '../protocol/runCommand.js';
import { hostEventOf, hostSession, type GuestHello, type HostInputEvent, type HostOutput } from '../machines/hostSession.js';
import type { ExitStatus, Transport } from '../transports/transport.js';
import { deferred } from './deferred.js';

/** A chunk of the child's output. */
export interface OutputChunk {
  readonly stream: 'stdout' | 'stderr';
  readonly bytes: Uint8Array;
}

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
  readonly output$: Observable<OutputChunk>;
  readonly done: Promise<SessionResult>;
  /** Ask the guest to quit (Ctrl-C). */
  interrupt(): void;
  /** Close the channel now (a second Ctrl-C). */
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;

export function startSession(transport: Transport, options: SessionOptions): HostSessionHandle {
  const output = new Subject<OutputChunk>();
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
  actor.on('output', (e) => output.next({ stream: e.stream, bytes: e.bytes }));

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
  const stderrSub = transport.stderr$?.subscribe((bytes) => output.next({ stream: 'stderr', bytes }));
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
    stderrSub?.unsubscribe();
    output.complete();
    await transport.close();
    return { ...result, exit };
  })();

  return {
    hello,
    output$: output.asObservable(),
    done: finished,
    interrupt: () => deliver({ type: 'INTERRUPT' }),
    close: async () => {
      deliver({ type: 'GUEST.EOF', error: 'closed by the host' });
      await transport.close();
    },
  };
}

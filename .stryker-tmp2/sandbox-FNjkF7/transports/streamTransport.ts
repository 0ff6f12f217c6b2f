// @ts-nocheck
import { Readable, Writable } from 'node:stream';
import { Observable, Subject } from 'rxjs';
import { closedError, toTransportError, TransportError } from './errors.js';
import type { ExitStatus, Transport, TransportCapabilities } from './transport.js';

/** What to do with a readable's chunks while nobody subscribes. */
export type UnobservedPolicy =
  /** Leave them in the stream (and so in the kernel): backpressure, nothing is lost. */
  | 'pause'
  /** Keep reading and drop them, so the writer never blocks (for a stderr nobody watches). */
  | 'drop';

/**
 * A Node Readable as a hot `Observable<Uint8Array>` that loses nothing before
 * its first subscriber: nothing is read (data waits in the stream and the
 * kernel, which pushes back on the writer) until someone subscribes, and with
 * policy `'pause'` reading stops again whenever the last subscriber leaves.
 * Nothing is buffered here. The end is sticky: a late subscriber gets the
 * completion (EOF) or the error at once.
 *
 * It reads in paused mode ('readable' + `read()`), never in flowing mode:
 * with no 'readable' listener, Node's child_process resumes a child's
 * unlistened stdout when the child exits (`flushStdio`) and the output that
 * was waiting for a subscriber is thrown away.
 */
export class ReadableSource {
  readonly observable: Observable<Uint8Array>;
  #subject = new Subject<Uint8Array>();
  #started = false;
  #discarding = false;
  #userPaused = false;
  #ended = false;
  #draining = false;
  #scheduled = false;
  #bytes = 0;

  constructor(
    private readonly readable: Readable,
    private readonly transport: string,
    private readonly policy: UnobservedPolicy = 'pause',
  ) {
    readable.on('readable', () => this.#drain());
    readable.on('end', () => this.end());
    readable.on('error', (err) => this.end(toTransportError(err, transport)));
    readable.on('close', () => {
      if (!this.#ended) this.end(new TransportError('CLOSED', transport, 'closed before EOF'));
    });
    this.observable = new Observable<Uint8Array>((subscriber) => {
      const sub = this.#subject.subscribe(subscriber);
      this.#schedule();
      return () => {
        sub.unsubscribe();
      };
    });
  }

  /** Bytes handed to subscribers (or dropped) so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True once EOF, an error or `end()` has ended the stream. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Start reading now even without a subscriber (policy `'drop'`). */
  start(): void {
    this.#started = true;
    this.#schedule();
  }

  pause(): void {
    this.#userPaused = true;
  }

  resume(): void {
    this.#userPaused = false;
    this.#schedule();
  }

  /** End the observable exactly once: complete, or error with `err`. Later calls do nothing. */
  end(err?: TransportError): void {
    if (this.#ended) return;
    this.#ended = true;
    if (err === undefined) this.#subject.complete();
    else this.#subject.error(err);
  }

  /** Read and discard whatever still comes (after `end()`, so a writer never blocks on us). */
  discard(): void {
    this.#discarding = true;
    this.#schedule();
  }

  #wanted(): boolean {
    if (this.#discarding) return true;
    if (this.#ended || this.#userPaused) return false;
    return this.#subject.observed || (this.policy === 'drop' && this.#started);
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    process.nextTick(() => {
      this.#scheduled = false;
      this.#drain();
    });
  }

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#wanted()) {
        const chunk = this.readable.read() as Buffer | null;
        if (chunk === null) break;
        this.#bytes += chunk.length;
        if (!this.#ended && !this.#discarding) this.#subject.next(chunk);
      }
    } finally {
      this.#draining = false;
    }
  }
}

/** Resolves once `stream` has emitted 'close' (at once if it already has). */
export function whenClosed(stream: Readable | Writable): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

/** Options of `StreamTransport`. */
export interface StreamTransportOptions {
  /** A short name for messages, e.g. `unix:/run/stapsh.sock`. */
  readonly name: string;
  /** Defaults to `{ eofVisible: true, separateStderr: false, exitStatus: false }`. */
  readonly capabilities?: TransportCapabilities;
  readonly stderr$?: Observable<Uint8Array>;
  readonly exit?: Promise<ExitStatus>;
  /**
   * Releases the channel on `close()`, after `incoming$` has been ended.
   * Defaults to destroying both streams; a process transport escalates instead.
   */
  readonly release?: () => Promise<void>;
  /** Called after each subscription to `incoming$` (a process transport starts its stderr then). */
  readonly onSubscribe?: () => void;
}

/** `source` that calls `hook` right after each subscription. */
export function onSubscribe<T>(source: Observable<T>, hook: () => void): Observable<T> {
  return new Observable<T>((subscriber) => {
    const sub = source.subscribe(subscriber);
    hook();
    return sub;
  });
}

const STREAM_CAPS: TransportCapabilities = { eofVisible: true, separateStderr: false, exitStatus: false };

/**
 * The common core: a Node Readable + Writable pair (or one Duplex given
 * twice) as a `Transport`.
 *
 * - `incoming$` is a `ReadableSource` with policy `'pause'`: nothing is read
 *   until the first subscription, and nothing is read while nobody
 *   subscribes, so no chunk is lost and none is buffered here. It completes
 *   on 'end' (EOF), errors with a `TransportError` on 'error' (`ECONNRESET`,
 *   `EPIPE`…) or on a 'close' without EOF (`CLOSED`), and `close()` completes
 *   it if nothing else ended it first: it ends exactly once.
 * - `write()` resolves when the stream's write callback fires, i.e. when the
 *   bytes have been handed to the OS, and rejects with the error that failed
 *   that write. Writes are issued at once and stay in order (Node queues
 *   them); to pipeline, write without awaiting while `!needsDrain` and await
 *   `drained()` when it turns true. Do not mutate a buffer before its write
 *   resolved (Node keeps a view of it, no copy).
 * - With a Duplex (a socket), a write-side error breaks both directions, as
 *   Node destroys the socket; with two separate streams (a process's stdin
 *   and stdout) an `EPIPE` on the writer only fails writes and `incoming$`
 *   reads on to EOF.
 * - Sockets must be created with `allowHalfOpen: true`, or Node ends our
 *   write side as soon as the far end's EOF arrives.
 * - `close()` rejects queued writes with `CLOSED` and destroys the streams;
 *   to flush first, await your writes or `closeWrite()`.
 */
export class StreamTransport implements Transport {
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  readonly incoming$: Observable<Uint8Array>;
  readonly stderr$?: Observable<Uint8Array>;
  readonly exit?: Promise<ExitStatus>;

  protected readonly source: ReadableSource;
  #writeError: TransportError | undefined;
  #writeEnded: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #pending = 0;
  #drainWaiters: Array<{ resolve: () => void; reject: (err: TransportError) => void }> = [];
  #bytesWritten = 0;

  protected readonly readable: Readable;
  protected readonly writable: Writable;

  /** `readable` null: `incoming$` completes at once; `writable` null: every write fails with `CLOSED`. */
  constructor(readable: Readable | null, writable: Writable | null, options: StreamTransportOptions) {
    this.readable = readable ?? endedReadable();
    this.writable = writable ?? endedWritable();
    readable = this.readable;
    writable = this.writable;
    this.name = options.name;
    this.capabilities = options.capabilities ?? STREAM_CAPS;
    if (options.stderr$ !== undefined) this.stderr$ = options.stderr$;
    if (options.exit !== undefined) this.exit = options.exit;
    this.#release = options.release;
    this.source = new ReadableSource(readable, this.name, 'pause');
    this.incoming$ = options.onSubscribe === undefined ? this.source.observable : onSubscribe(this.source.observable, options.onSubscribe);
    const onWriteError = (err: unknown) => {
      this.#writeError ??= toTransportError(err, this.name);
    };
    if ((writable as unknown) === readable) readable.on('error', onWriteError);
    else writable.on('error', onWriteError);
  }

  readonly #release: (() => Promise<void>) | undefined;

  /** Bytes received so far. */
  get bytesRead(): number {
    return this.source.bytes;
  }

  /** Bytes the OS accepted so far. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  get needsDrain(): boolean {
    return this.writable.writableNeedDrain;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#writeError !== undefined) return Promise.reject(this.#writeError);
    if (this.#closing !== undefined || this.#writeEnded !== undefined || this.writable.destroyed || this.writable.writableEnded) {
      return Promise.reject(closedError(this.name, 'write after close'));
    }
    this.#pending++;
    return new Promise<void>((resolve, reject) => {
      this.writable.write(bytes, (err) => {
        this.#pending--;
        if (err === undefined || err === null) {
          this.#bytesWritten += bytes.length;
          resolve();
        } else {
          reject(this.#failure(err));
        }
        if (this.#pending === 0) this.#wakeDrainWaiters();
      });
    });
  }

  drained(): Promise<void> {
    if (this.#pending === 0) return this.#writeError === undefined ? Promise.resolve() : Promise.reject(this.#writeError);
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  closeWrite(): Promise<void> {
    if (this.#writeEnded !== undefined) return this.#writeEnded;
    if (this.writable.destroyed || this.writable.writableFinished) return (this.#writeEnded = Promise.resolve());
    this.#writeEnded = new Promise<void>((resolve, reject) => {
      this.writable.end((err?: Error | null) => {
        if (err === undefined || err === null || this.#closing !== undefined) resolve();
        else reject(this.#failure(err));
      });
    });
    return this.#writeEnded;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  pause(): void {
    this.source.pause();
  }

  resume(): void {
    this.source.resume();
  }

  async #close(): Promise<void> {
    this.source.end();
    if (this.#release !== undefined) {
      await this.#release();
    } else {
      this.readable.destroy();
      if ((this.writable as unknown) !== this.readable) this.writable.destroy();
    }
    await Promise.all([whenClosed(this.readable), whenClosed(this.writable)]);
  }

  #failure(err: unknown): TransportError {
    if (this.#closing !== undefined) return closedError(this.name, 'closed while writing');
    return this.#writeError ?? toTransportError(err, this.name);
  }

  #wakeDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) {
      if (this.#writeError !== undefined && this.#closing === undefined) w.reject(this.#writeError);
      else w.resolve();
    }
  }
}

function endedReadable(): Readable {
  return new Readable({
    read() {
      this.push(null);
    },
  });
}

function endedWritable(): Writable {
  const w = new Writable({ write: (_chunk, _enc, cb) => cb() });
  w.end();
  return w;
}

/** `new StreamTransport(readable, writable, options)`. */
export function fromStreams(readable: Readable | null, writable: Writable | null, options: StreamTransportOptions): StreamTransport {
  return new StreamTransport(readable, writable, options);
}

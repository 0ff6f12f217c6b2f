/**
 * An in-memory linked pair of transports for tests, with scripted faults per
 * direction. Deterministic: delivery runs on microtasks (on timers only with
 * `delayMs`), chunk sizes come from the options, never from timing of the
 * host. No per-byte work: chunks are copied once on write (so callers may
 * reuse their buffers) and sliced as views on delivery.
 */
// @ts-nocheck


import { Observable, Subject } from 'rxjs';
import { closedError, TransportError } from './errors.js';
import type { Transport, TransportCapabilities } from './transport.js';
import { mulberry32 } from '../protocol/random.js';

/** Sizes of the chunks the reader sees, in delivery order (≥ 1 each). */
export type ChunkSizer = (index: number) => number;

/** How to end a direction after `bytes` bytes have been delivered. */
export interface MemoryCut {
  readonly bytes: number;
  /**
   * - `close`: the connection closes: this reader sees EOF, the other
   *   direction ends too (EOF there), later writes fail with `EPIPE`.
   * - `reset`: both ends' `incoming$` error with `ECONNRESET`; writes fail so too.
   * - `half-close`: only this direction ends (reader sees EOF); later
   *   writes on it fail with `EPIPE`; the other direction goes on.
   */
  readonly mode: 'close' | 'reset' | 'half-close';
}

/** Faults and properties of one direction. */
export interface MemoryDirection {
  /** Bytes waiting in the direction from the start, delivered before anything written (a previous session's leftovers). */
  readonly stale?: Uint8Array;
  /**
   * Re-chunk the stream: a fixed size, a sizer, or a seeded random size in
   * 1..max. Chunks may span several writes (coalescing), but never wait:
   * a chunk is cut short when less is queued. Default: one chunk per write.
   */
  readonly chunking?: number | ChunkSizer | { readonly seed: number; readonly max: number };
  /** Each write becomes visible this many ms after it was made. */
  readonly delayMs?: number;
  /** Cut the direction after exactly `bytes` delivered bytes (stale ones included). */
  readonly cut?: MemoryCut;
  /** Deliver this many bytes (stale included), then nothing ever again: no data, no EOF, no error. */
  readonly stallAfter?: number;
  /** The writer's close is not seen as EOF by the reader (like virtio-serial). */
  readonly noEof?: boolean;
  /** Undelivered bytes above which `needsDrain` turns true and writes wait (default 64 KiB). */
  readonly highWaterMark?: number;
}

/** A scripted fault taking effect, as `onFault` reports it (for traces). */
export interface MemoryFault {
  readonly direction: 'aToB' | 'bToA';
  /** `stale`: bytes waiting from the start; `cut`: the direction was cut; `stall`: it delivers nothing more. */
  readonly what: 'stale' | 'cut' | 'stall';
  /** Bytes of the direction delivered (stale: waiting) when it took effect. */
  readonly bytes: number;
  readonly mode?: MemoryCut['mode'];
}

/** Options of `createMemoryPair`. */
export interface MemoryPairOptions {
  /** Names of the two ends (default `memory:a`, `memory:b`). */
  readonly names?: readonly [string, string];
  /** The direction a → b (what `a` writes and `b` reads). */
  readonly aToB?: MemoryDirection;
  /** The direction b → a. */
  readonly bToA?: MemoryDirection;
  /** Capabilities both ends report (default: eofVisible unless `noEof`, no stderr, no exit status). */
  readonly capabilities?: TransportCapabilities;
  /** Told when each scripted fault takes effect. */
  readonly onFault?: (fault: MemoryFault) => void;
}

type Entry = { readonly kind: 'data'; readonly bytes: Uint8Array } | { readonly kind: 'eof' } | { readonly kind: 'reset' } | { readonly kind: 'cut-close' };

interface Waiter {
  readonly end: number;
  readonly resolve: () => void;
  readonly reject: (err: TransportError) => void;
}

/** Chunk sizes in 1..max from a seeded PRNG. */
function seeded(seed: number, max: number): ChunkSizer {
  const random = mulberry32(seed);
  return () => 1 + Math.floor(random() * Math.max(1, max));
}

/** One direction: the writer's end on one transport, the reader's on the other. */
class Link {
  readonly subject = new Subject<Uint8Array>();
  readonly hwm: number;
  readonly #queue: Entry[] = [];
  #headOffset = 0;
  #written = 0; // stream offset of the next written byte (stale included)
  #delivered = 0;
  #queuedBytes = 0; // bytes accepted by write() but not yet delivered
  #delayed = 0; // bytes written but still in their delay
  #waiters: Waiter[] = [];
  #drainWaiters: Array<() => void> = [];
  #chunkIndex = 0;
  readonly #sizer: ChunkSizer | undefined;
  #pumpScheduled = false;
  /** Set once the writer may not write any more (with the error writes get). */
  writeBlocked: TransportError | undefined;
  /** The reader is gone (closed): nothing will be delivered. */
  readerClosed = false;
  readerPaused = false;
  ended = false;
  #stalled = false;
  #cutQueued = false;

  constructor(
    readonly spec: MemoryDirection,
    readonly readerName: string,
    readonly writerName: string,
    private readonly onCut: (mode: MemoryCut['mode']) => void,
    private readonly onStall: (bytes: number) => void = () => undefined,
  ) {
    this.hwm = spec.highWaterMark ?? 64 * 1024;
    const c = spec.chunking;
    this.#sizer = c === undefined ? undefined : typeof c === 'number' ? () => c : typeof c === 'function' ? c : seeded(c.seed, c.max);
    if (spec.stale !== undefined && spec.stale.length > 0) this.#accept(spec.stale.slice());
    else if (spec.cut !== undefined && spec.cut.bytes <= 0) this.#queueCut();
  }

  get pendingBytes(): number {
    return this.#queuedBytes + this.#delayed;
  }

  get delivered(): number {
    return this.#delivered;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.writeBlocked !== undefined) return Promise.reject(this.writeBlocked);
    if (this.readerClosed) return Promise.reject(new TransportError('EPIPE', this.writerName, 'the far end is closed'));
    const end = this.#written + this.#delayed + bytes.length;
    const copy = bytes.slice();
    if (this.spec.delayMs !== undefined && this.spec.delayMs > 0) {
      this.#delayed += copy.length;
      setTimeout(() => {
        this.#delayed -= copy.length;
        this.#accept(copy);
      }, this.spec.delayMs);
    } else {
      this.#accept(copy);
    }
    if (end - this.#delivered <= this.hwm) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ end, resolve, reject }));
  }

  /** The writer ends this direction (closeWrite / close). */
  endWrite(): void {
    if (this.writeBlocked === undefined) this.writeBlocked = closedError(this.writerName, 'write after close');
    if (this.spec.noEof) return;
    this.#enqueue({ kind: 'eof' });
  }

  /** Break the direction at once: reader errors, writer's writes fail. */
  reset(err: TransportError, readerErr: TransportError): void {
    this.writeBlocked ??= err;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.#failWaiters(err);
    this.endReader(readerErr);
  }

  /** The reader's transport closes: deliver nothing more, fail the writer's pending and later writes. */
  closeReader(): void {
    this.readerClosed = true;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
    this.endReader();
    this.#failWaiters(new TransportError('EPIPE', this.writerName, 'the far end closed'));
  }

  endReader(err?: TransportError): void {
    if (this.ended) return;
    this.ended = true;
    if (err === undefined) this.subject.complete();
    else this.subject.error(err);
  }

  drained(): Promise<void> {
    if (this.#waiters.length === 0) return this.writeBlocked !== undefined && this.writeBlocked.code !== 'CLOSED' ? Promise.reject(this.writeBlocked) : Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  schedule(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #accept(bytes: Uint8Array): void {
    if (this.#cutQueued) return;
    const offset = this.#written;
    this.#written += bytes.length;
    const cut = this.spec.cut;
    if (cut !== undefined && offset + bytes.length >= cut.bytes) {
      const keep = Math.max(0, cut.bytes - offset);
      if (keep > 0) this.#enqueue({ kind: 'data', bytes: bytes.subarray(0, keep) });
      this.#queueCut();
      return;
    }
    if (bytes.length > 0) this.#enqueue({ kind: 'data', bytes });
  }

  #queueCut(): void {
    const cut = this.spec.cut!;
    this.#cutQueued = true;
    this.writeBlocked ??= new TransportError(cut.mode === 'reset' ? 'ECONNRESET' : 'EPIPE', this.writerName, `connection cut after ${cut.bytes} bytes`);
    this.#enqueue(cut.mode === 'reset' ? { kind: 'reset' } : cut.mode === 'close' ? { kind: 'cut-close' } : { kind: 'eof' });
  }

  #enqueue(entry: Entry): void {
    if (this.readerClosed) return;
    this.#queue.push(entry);
    if (entry.kind === 'data') this.#queuedBytes += entry.bytes.length;
    this.schedule();
  }

  #pump(): void {
    while (!this.ended && !this.readerClosed && !this.readerPaused && !this.#stalled && this.subject.observed && this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (head.kind !== 'data') {
        this.#queue.shift();
        if (head.kind === 'eof') {
          this.endReader();
          if (this.#cutQueued) this.onCut('half-close');
        } else this.onCut(head.kind === 'reset' ? 'reset' : 'close');
        break;
      }
      let want = this.#sizer === undefined ? head.bytes.length - this.#headOffset : Math.max(1, Math.floor(this.#sizer(this.#chunkIndex++)));
      if (this.spec.stallAfter !== undefined) want = Math.min(want, this.spec.stallAfter - this.#delivered);
      if (want <= 0) {
        this.#stall();
        break;
      }
      const chunk = this.#take(want);
      this.#delivered += chunk.length;
      this.#queuedBytes -= chunk.length;
      this.subject.next(chunk);
      this.#wakeWriters();
    }
    if (this.spec.stallAfter !== undefined && this.#delivered >= this.spec.stallAfter) this.#stall();
  }

  #stall(): void {
    if (this.#stalled) return;
    this.#stalled = true;
    this.onStall(this.#delivered);
  }

  /** Up to `want` bytes from the head data entries (views when they fit in one entry). */
  #take(want: number): Uint8Array {
    const head = this.#queue[0] as { bytes: Uint8Array };
    const avail = head.bytes.length - this.#headOffset;
    if (want <= avail) {
      const out = head.bytes.subarray(this.#headOffset, this.#headOffset + want);
      this.#headOffset += want;
      if (this.#headOffset === head.bytes.length) {
        this.#queue.shift();
        this.#headOffset = 0;
      }
      return out;
    }
    // Span several writes: collect what is queued, up to `want`.
    let total = 0;
    const parts: Uint8Array[] = [];
    while (total < want && this.#queue.length > 0 && this.#queue[0]!.kind === 'data') {
      const e = this.#queue[0] as { bytes: Uint8Array };
      const n = Math.min(want - total, e.bytes.length - this.#headOffset);
      parts.push(e.bytes.subarray(this.#headOffset, this.#headOffset + n));
      total += n;
      this.#headOffset += n;
      if (this.#headOffset === e.bytes.length) {
        this.#queue.shift();
        this.#headOffset = 0;
      }
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  #wakeWriters(): void {
    while (this.#waiters.length > 0 && this.#waiters[0]!.end - this.#delivered <= this.hwm) this.#waiters.shift()!.resolve();
    if (this.#waiters.length === 0) for (const w of this.#drainWaiters.splice(0)) w();
  }

  /** Fail pending and later writes with `err` (bytes past a cut are never delivered). */
  breakWrites(err: TransportError): void {
    this.writeBlocked ??= err;
    this.#failWaiters(this.writeBlocked);
  }

  #failWaiters(err: TransportError): void {
    for (const w of this.#waiters.splice(0)) w.reject(err);
    for (const w of this.#drainWaiters.splice(0)) w();
  }
}

/** One end of a memory pair. */
export class MemoryTransport implements Transport {
  readonly incoming$: Observable<Uint8Array>;
  #closed = false;
  #writeEnded = false;
  #bytesWritten = 0;
  #bytesRead = 0;

  constructor(
    readonly name: string,
    readonly capabilities: TransportCapabilities,
    private readonly inbound: Link,
    private readonly outbound: Link,
  ) {
    this.incoming$ = new Observable<Uint8Array>((subscriber) => {
      const sub = inbound.subject.subscribe({
        next: (chunk) => {
          this.#bytesRead += chunk.length;
          subscriber.next(chunk);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      inbound.schedule();
      return sub;
    });
  }

  /** Bytes delivered to this end so far. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Bytes accepted from this end so far. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  get needsDrain(): boolean {
    return this.outbound.pendingBytes > this.outbound.hwm;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.#closed || this.#writeEnded) return Promise.reject(closedError(this.name, 'write after close'));
    const p = this.outbound.write(bytes);
    this.#bytesWritten += bytes.length;
    return p;
  }

  drained(): Promise<void> {
    return this.outbound.drained();
  }

  closeWrite(): Promise<void> {
    if (!this.#writeEnded && !this.#closed) {
      this.#writeEnded = true;
      this.outbound.endWrite();
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      if (!this.#writeEnded) {
        this.#writeEnded = true;
        this.outbound.endWrite();
      }
      this.inbound.closeReader();
    }
    return Promise.resolve();
  }

  pause(): void {
    this.inbound.readerPaused = true;
  }

  resume(): void {
    this.inbound.readerPaused = false;
    this.inbound.schedule();
  }
}

/**
 * Two linked transports: what `a` writes, `b` reads and back, with the
 * faults of `options.aToB` / `options.bToA`. Like the stream transports,
 * `incoming$` delivers only while subscribed and not paused, so nothing is
 * lost before the first subscription.
 */
export function createMemoryPair(options: MemoryPairOptions = {}): [MemoryTransport, MemoryTransport] {
  const [nameA, nameB] = options.names ?? ['memory:a', 'memory:b'];
  const links: { ab?: Link; ba?: Link } = {};
  const onCut = (mode: MemoryCut['mode'], from: 'ab' | 'ba') => {
    const self = links[from]!;
    options.onFault?.({ direction: from === 'ab' ? 'aToB' : 'bToA', what: 'cut', bytes: self.delivered, mode });
    const other = links[from === 'ab' ? 'ba' : 'ab']!;
    if (mode === 'reset') {
      self.reset(new TransportError('ECONNRESET', self.writerName, 'connection reset'), new TransportError('ECONNRESET', self.readerName, 'connection reset by peer'));
      other.reset(new TransportError('ECONNRESET', other.writerName, 'connection reset'), new TransportError('ECONNRESET', other.readerName, 'connection reset by peer'));
    } else {
      self.endReader();
      const pipe = (l: Link) => new TransportError('EPIPE', l.writerName, 'connection closed');
      self.breakWrites(pipe(self));
      if (mode === 'close') {
        other.writeBlocked ??= pipe(other);
        other.endWrite();
        other.breakWrites(pipe(other));
      }
    }
  };
  const stall = (direction: MemoryFault['direction']) => (bytes: number) => options.onFault?.({ direction, what: 'stall', bytes });
  for (const [direction, spec] of [['aToB', options.aToB], ['bToA', options.bToA]] as const) {
    if (spec?.stale !== undefined && spec.stale.length > 0) options.onFault?.({ direction, what: 'stale', bytes: spec.stale.length });
  }
  const ab = new Link(options.aToB ?? {}, nameB, nameA, (m) => onCut(m, 'ab'), stall('aToB'));
  const ba = new Link(options.bToA ?? {}, nameA, nameB, (m) => onCut(m, 'ba'), stall('bToA'));
  links.ab = ab;
  links.ba = ba;
  const caps = (d: MemoryDirection): TransportCapabilities =>
    options.capabilities ?? { eofVisible: d.noEof !== true, separateStderr: false, exitStatus: false };
  // A reader's capability describes what it can see: eofVisible is about its inbound direction.
  const a = new MemoryTransport(nameA, caps(options.bToA ?? {}), ba, ab);
  const b = new MemoryTransport(nameB, caps(options.aToB ?? {}), ab, ba);
  return [a, b];
}

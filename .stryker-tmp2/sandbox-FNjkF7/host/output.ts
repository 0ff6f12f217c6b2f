/**
 * A session's output on its way to whoever reads the host, with demand.
 *
 * The guest channel is read only as fast as the slowest consumer takes
 * output: each consumer (a stream's Readable, an `output()` iterator) has a
 * queue, and while any queue holds `highWaterMark` bytes or more the source
 * is paused (the transport stops reading, so the guest's writes block and
 * our guest pauses its child, as a pipe would). Above the mark a queue grows
 * only by what the source had already read when it was paused (one read).
 *
 * The tap (`output$`) sees every chunk as it arrives and never holds the
 * flow; with no consumer at all the source is never paused.
 *
 * A consumer exists from the moment it is asked for: chunks that arrived
 * before are not in its queue. Ask before the session can produce output
 * (in the same tick as `startSession`, as with a ChildProcess's stdio).
 */
// @ts-nocheck


import { Readable } from 'node:stream';
import { Subject, type Observable } from 'rxjs';

/** A chunk of the child's output. */
export interface OutputChunk {
  readonly stream: 'stdout' | 'stderr';
  readonly bytes: Uint8Array;
}

/** Undelivered output per consumer above which the source is paused (1 MiB). */
export const DEFAULT_OUTPUT_HIGH_WATER_MARK = 1024 * 1024;

/** What the output can ask of its source. */
export interface OutputSource {
  pause(): void;
  resume(): void;
}

/** One consumer's queue: chunks of the streams it asked for, in order. */
class Consumer<T extends OutputChunk> implements AsyncIterator<T> {
  #items: T[] = [];
  #bytes = 0;
  #ended = false;
  #error: unknown = undefined;
  #waiter: ((r: IteratorResult<T>) => void) | null = null;
  #failer: ((e: unknown) => void) | null = null;

  constructor(
    readonly wants: (chunk: T) => boolean,
    private readonly changed: () => void,
    private readonly gone: (c: Consumer<T>) => void,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  offer(chunk: T): void {
    if (this.#ended) return;
    if (this.#waiter) {
      const w = this.#waiter;
      this.#waiter = this.#failer = null;
      w({ value: chunk, done: false });
      return;
    }
    this.#items.push(chunk);
    this.#bytes += chunk.bytes.length;
  }

  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    const [w, f] = [this.#waiter, this.#failer];
    this.#waiter = this.#failer = null;
    if (this.#items.length > 0) return;
    if (error !== undefined && f) f(error);
    else w?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.#items.shift();
    if (item !== undefined) {
      this.#bytes -= item.bytes.length;
      this.changed();
      return Promise.resolve({ value: item, done: false });
    }
    if (this.#ended) return this.#error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#failer = reject;
    });
  }

  /** The consumer went away (break out of `for await`, a destroyed stream): it no longer holds the flow. */
  return(): Promise<IteratorResult<T>> {
    this.#items = [];
    this.#bytes = 0;
    this.#ended = true;
    this.#waiter?.({ value: undefined, done: true });
    this.#waiter = this.#failer = null;
    this.gone(this);
    return Promise.resolve({ value: undefined, done: true });
  }
}

/**
 * Output fanned out to a tap and to consumers with demand; see the module
 * comment. `push` never refuses: it pauses the source instead.
 */
export class OutputFlow<T extends OutputChunk = OutputChunk> {
  readonly #tap = new Subject<T>();
  readonly #consumers = new Set<Consumer<T>>();
  #paused = false;
  #ended = false;
  #error: unknown = undefined;

  constructor(
    private readonly source: OutputSource,
    readonly highWaterMark: number = DEFAULT_OUTPUT_HIGH_WATER_MARK,
  ) {
    if (!(highWaterMark > 0)) throw new RangeError(`the output high-water mark must be positive, not ${highWaterMark}`);
  }

  /** Every chunk as it arrives; never holds the flow. */
  get tap$(): Observable<T> {
    return this.#tap.asObservable();
  }

  /** True while the source is paused for a full consumer. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Bytes held for consumers, for the fullest one. */
  get backlog(): number {
    let most = 0;
    for (const c of this.#consumers) most = Math.max(most, c.bytes);
    return most;
  }

  push(chunk: T): void {
    if (this.#ended) return;
    this.#tap.next(chunk);
    for (const c of this.#consumers) if (c.wants(chunk)) c.offer(chunk);
    this.#check();
  }

  /** No more output; consumers end after what they hold (with `error`, if given). */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#tap.complete();
    for (const c of this.#consumers) c.end(error);
    this.#check();
  }

  /** A consumer of the chunks `wants` accepts: an async iterator, ended with the output. */
  consumer(wants: (chunk: T) => boolean = () => true): AsyncIterableIterator<T> {
    const c = new Consumer<T>(wants, () => this.#check(), (gone) => {
      this.#consumers.delete(gone);
      this.#check();
    });
    if (this.#ended) c.end(this.#error);
    else this.#consumers.add(c);
    const iterator = {
      next: () => c.next(),
      return: () => c.return(),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** One stream's bytes as a Readable (like a ChildProcess's stdout); destroying it stops holding the flow. */
  readable(stream: T['stream']): Readable {
    const chunks = this.consumer((c) => c.stream === stream);
    let pulling = false;
    return new Readable({
      read() {
        if (pulling) return;
        pulling = true;
        chunks.next().then(
          (r) => {
            pulling = false;
            if (r.done) this.push(null);
            else this.push(Buffer.from(r.value.bytes.buffer, r.value.bytes.byteOffset, r.value.bytes.byteLength));
          },
          (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))),
        );
      },
      destroy(error, callback) {
        void chunks.return?.();
        callback(error);
      },
    });
  }

  #check(): void {
    let full = false;
    if (!this.#ended) for (const c of this.#consumers) if (c.bytes >= this.highWaterMark) full = true;
    if (full === this.#paused) return;
    this.#paused = full;
    if (full) this.source.pause();
    else this.source.resume();
  }
}

/** An `OutputSource` for producers that can wait: `open()` resolves while the flow is not paused. */
export class OutputGate implements OutputSource {
  #waiters: (() => void)[] = [];
  #paused = false;

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    for (const w of this.#waiters.splice(0)) w();
  }

  open(): Promise<void> {
    return this.#paused ? new Promise((r) => this.#waiters.push(r)) : Promise.resolve();
  }
}

/** The output members of a session or runner handle: Readables per stream, an iterator, a tap. */
export interface OutputMembers<T extends OutputChunk> {
  readonly stdout: Readable;
  readonly stderr: Readable;
  output(): AsyncIterableIterator<T>;
  readonly output$: Observable<T>;
}

/**
 * `rest` with the output members of `flow`, built with getters (never spread
 * the result): `stdout`/`stderr` become consumers only when first accessed.
 */
export function withOutput<T extends OutputChunk, R extends object>(flow: OutputFlow<T>, rest: R): R & OutputMembers<T> {
  let stdout: Readable | undefined;
  let stderr: Readable | undefined;
  return Object.defineProperties(rest, {
    stdout: { get: () => (stdout ??= flow.readable('stdout')), enumerable: true },
    stderr: { get: () => (stderr ??= flow.readable('stderr')), enumerable: true },
    output: { value: () => flow.consumer(), enumerable: true },
    output$: { value: flow.tap$, enumerable: true },
  }) as R & OutputMembers<T>;
}

/**
 * Resolves when `done` does, or once `progress()` has not moved for
 * `quietMs` while not `held()` (a consumer holding the flow is no silence;
 * what stays open with nothing coming, e.g. a grandchild holding a pipe, is).
 */
export async function untilQuiet(done: Promise<void>, progress: () => number, held: () => boolean, quietMs: number): Promise<void> {
  let last = progress();
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const quiet = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), quietMs)));
    const ended = await Promise.race([done.then(() => true), quiet]);
    clearTimeout(timer);
    if (ended) return;
    const now = progress();
    if (now === last && !held()) return;
    last = now;
  }
}

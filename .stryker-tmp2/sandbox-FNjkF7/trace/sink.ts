/** `traceSink`: a trace as a size-capped, rotating JSONL file, current on disk. */
// @ts-nocheck


import { closeSync, existsSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Observer } from 'rxjs';
import { makeHeader, serializeTraceLine, type TraceEvent, type TraceHeader } from './format.js';

export interface TraceSinkOptions {
  /** Largest size of each file, header included (default 64 MiB, at least 4 KiB). */
  readonly maxBytes?: number;
  /** How many rotated files to keep: `path.1` (newest) … `path.keep` (default 3). */
  readonly keep?: number;
  /** Header written at the top of every file (default: one made now). */
  readonly header?: TraceHeader;
  /** Bytes buffered before a write (default 64 KiB, capped at maxBytes). */
  readonly bufferBytes?: number;
  /**
   * Longest time an event waits in the buffer before it is written (default
   * 150 ms): a live trace can be followed, and a `kill -9` loses at most
   * this window. A session's end (a transport `eof`/`error`, a machine done)
   * is written at once. 0 writes every event at once.
   */
  readonly flushMs?: number;
}

/** A JSONL trace file; an RxJS Observer, so `trace.events$.subscribe(sink)` works. */
export interface TraceSink extends Observer<TraceEvent> {
  write(event: TraceEvent): void;
  /** Write what is buffered now. */
  flush(): void;
  /** Flush and close the file (idempotent). */
  close(): void;
  /** Events dropped because one line alone was larger than `maxBytes` allows, or after close. */
  readonly dropped: number;
  /** How many times the file was rotated. */
  readonly rotations: number;
}

/** An event after which a session has nothing more to say: its channel ended, or its machine stopped. */
function endsSession(event: TraceEvent): boolean {
  if (event.kind === 'transport') return event.what !== 'fault';
  return event.kind === 'state' && event.status !== undefined;
}

/**
 * Write a trace to `path` as JSONL with size-capped rotation: when the next
 * line would take `path` over `maxBytes`, it becomes `path.1` (older ones
 * shift up, the one beyond `keep` is deleted) and a new `path` starts with
 * the header. Memory is bounded by `bufferBytes`; writes are synchronous
 * and happen within `flushMs` of an event, at once for a session's end.
 * An existing `path` is overwritten; old rotated files are rotated like new ones.
 */
export function traceSink(path: string, options: TraceSinkOptions = {}): TraceSink {
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const keep = options.keep ?? 3;
  if (!Number.isInteger(maxBytes) || maxBytes < 4096) throw new RangeError(`traceSink: maxBytes must be an integer ≥ 4096, not ${maxBytes}`);
  if (!Number.isInteger(keep) || keep < 0) throw new RangeError(`traceSink: keep must be a non-negative integer, not ${keep}`);
  const headerLine = Buffer.from(serializeTraceLine(options.header ?? makeHeader()));
  const bufferBytes = Math.min(options.bufferBytes ?? 64 * 1024, maxBytes);

  const flushMs = options.flushMs ?? 150;
  if (!(flushMs >= 0)) throw new RangeError(`traceSink: flushMs must be ≥ 0, not ${flushMs}`);
  let fd: number | null = openSync(path, 'w');
  let timer: NodeJS.Timeout | undefined;
  let size = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let dropped = 0;
  let rotations = 0;

  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (fd === null || pendingBytes === 0) return;
    const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    let at = 0;
    while (at < data.length) at += writeSync(fd, data, at, data.length - at);
  };
  const append = (line: Buffer): void => {
    pending.push(line);
    pendingBytes += line.length;
    size += line.length;
    if (pendingBytes >= bufferBytes) flush();
  };
  const rotate = (): void => {
    flush();
    closeSync(fd!);
    fd = null;
    if (keep === 0) {
      rmSync(path, { force: true });
    } else {
      rmSync(`${path}.${keep}`, { force: true });
      for (let i = keep - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
      renameSync(path, `${path}.1`);
    }
    fd = openSync(path, 'w');
    size = 0;
    rotations++;
    append(headerLine);
  };
  append(headerLine);

  const write = (event: TraceEvent): void => {
    if (fd === null) {
      dropped++;
      return;
    }
    const line = Buffer.from(serializeTraceLine(event));
    if (headerLine.length + line.length > maxBytes) {
      dropped++;
      return;
    }
    if (size + line.length > maxBytes) rotate();
    append(line);
    if (endsSession(event) || flushMs === 0) flush();
    else if (timer === undefined && pendingBytes > 0) {
      // Unref'd: a pending flush never keeps a process alive (close() writes the rest).
      timer = setTimeout(flush, flushMs);
      timer.unref();
    }
  };
  const close = (): void => {
    if (fd === null) return;
    flush();
    closeSync(fd);
    fd = null;
  };
  return {
    write,
    flush,
    close,
    next: write,
    error: () => close(),
    complete: () => close(),
    get dropped() {
      return dropped;
    },
    get rotations() {
      return rotations;
    },
  };
}

/**
 * Incremental decoder for the host → guest direction: command lines, and
 * the raw payload that follows an accepted `file` header.
 *
 * Whether bytes after a `file` line are payload depends on the guest's
 * verdict on that line, so the decoder is pulled one item at a time and the
 * consumer switches it to payload mode with `expectPayload(n)` before pulling
 * again. Buffering is bounded: a line longer than `maxLineBytes` is reported
 * once as `overlong` and its bytes are discarded up to the newline.
 */

import { concatBytes } from './bytes.js';

/** One item pulled from the decoder. */
export type CommandItem =
  /** A complete command line, without its `\n`. */
  | { readonly type: 'line'; readonly bytes: Uint8Array }
  /** A command line that exceeded the cap; its bytes were dropped. */
  | { readonly type: 'overlong'; readonly length: number }
  /** Part of an expected payload; `remaining` is 0 on the last part. */
  | { readonly type: 'payload'; readonly bytes: Uint8Array; readonly remaining: number };

/** What `end()` found unfinished when the input ended. */
export type CommandEnd =
  | { readonly type: 'clean' }
  /** Payload bytes still expected when the input ended. */
  | { readonly type: 'truncatedPayload'; readonly missing: number };

export interface CommandDecoderOptions {
  /** Longest command line accepted whole (default 64 KiB). */
  readonly maxLineBytes?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

const NL = 0x0a;

export class CommandDecoder {
  private readonly maxLine: number;
  /** Unconsumed input, oldest first; `head` is the offset into chunks[0]. */
  private chunks: Uint8Array[] = [];
  private head = 0;
  private buffered = 0;
  /** Bytes of payload still owed by the host, or 0 in line mode. */
  private payloadLeft = 0;
  /** Bytes of an overlong line seen so far, or -1 when not discarding. */
  private discarding = -1;
  /** Bytes of the current (incomplete) line already scanned for `\n`. */
  private scanned = 0;
  private ended = false;

  constructor(options: CommandDecoderOptions = {}) {
    this.maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  /** Bytes held waiting to be pulled. Bounded by the line cap in line mode. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** True while payload bytes are still expected. */
  get inPayload(): boolean {
    return this.payloadLeft > 0;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.ended) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Treat the next `size` bytes as payload (after an accepted `file` line). */
  expectPayload(size: number): void {
    if (this.payloadLeft > 0) throw new Error('expectPayload while a payload is pending');
    if (size > 0) this.payloadLeft = size;
  }

  /**
   * Input has ended. A last line without `\n` becomes a line, as a C reader
   * with `fgets` sees it; pull it with `next()` after this.
   */
  end(): CommandEnd {
    this.ended = true;
    if (this.payloadLeft > this.buffered) {
      return { type: 'truncatedPayload', missing: this.payloadLeft - this.buffered };
    }
    return { type: 'clean' };
  }

  /** The next item, or null when more input is needed. */
  next(): CommandItem | null {
    if (this.payloadLeft > 0) return this.nextPayload();
    for (;;) {
      // An overlong line cut off by the end of input is still reported (once), also when
      // everything of it was dropped before `end()`.
      if (this.buffered === 0) return this.ended && this.discarding >= 0 ? this.finishOverlong() : null;
      if (this.discarding >= 0) {
        const nl = this.findNewline(0);
        if (nl < 0) {
          this.discarding += this.buffered;
          this.drop(this.buffered);
          if (this.ended) return this.finishOverlong();
          return null;
        }
        this.discarding += nl;
        this.drop(nl + 1);
        return this.finishOverlong();
      }
      const nl = this.findNewline(this.scanned);
      if (nl >= 0) {
        if (nl > this.maxLine) {
          // The newline arrived in the same push as the excess.
          this.drop(nl + 1);
          this.scanned = 0;
          return { type: 'overlong', length: nl };
        }
        const line = this.take(nl);
        this.drop(1);
        this.scanned = 0;
        return { type: 'line', bytes: line };
      }
      if (this.buffered > this.maxLine) {
        this.discarding = this.buffered;
        this.drop(this.buffered);
        this.scanned = 0;
        if (this.ended) return this.finishOverlong();
        return null;
      }
      this.scanned = this.buffered;
      if (this.ended) {
        const line = this.take(this.buffered);
        this.scanned = 0;
        return { type: 'line', bytes: line };
      }
      return null;
    }
  }

  private finishOverlong(): CommandItem {
    const length = this.discarding;
    this.discarding = -1;
    return { type: 'overlong', length };
  }

  private nextPayload(): CommandItem | null {
    if (this.buffered === 0) return null;
    const first = this.chunks[0]!;
    const available = first.length - this.head;
    const n = Math.min(available, this.payloadLeft);
    const bytes = first.subarray(this.head, this.head + n);
    this.drop(n);
    this.payloadLeft -= n;
    return { type: 'payload', bytes, remaining: this.payloadLeft };
  }

  /** Offset of the first `\n` at or after `from` in the buffered bytes, or -1. */
  private findNewline(from: number): number {
    let base = 0;
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      const start = i === 0 ? this.head : 0;
      const len = c.length - start;
      if (from < base + len) {
        const at = c.indexOf(NL, start + Math.max(0, from - base));
        if (at >= 0) return base + at - start;
      }
      base += len;
    }
    return -1;
  }

  /**
   * Copy the input still held (once drained: a partial line, or payload
   * not yet pulled), so the caller may reuse the chunks it pushed.
   */
  own(): void {
    if (this.chunks.length === 0) return;
    this.chunks = this.chunks.map((c, i) => (i === 0 ? c.slice(this.head) : c.slice()));
    this.head = 0;
  }

  /** Remove and return the first `n` buffered bytes. */
  private take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= n) {
      const out = first.slice(this.head, this.head + n);
      this.drop(n);
      return out;
    }
    const parts: Uint8Array[] = [];
    let left = n;
    while (left > 0) {
      const c = this.chunks[0]!;
      const k = Math.min(left, c.length - this.head);
      parts.push(c.subarray(this.head, this.head + k));
      left -= k;
      this.drop(k);
    }
    return concatBytes(parts).slice();
  }

  /** Discard the first `n` buffered bytes. */
  private drop(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      const left = c.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }
}

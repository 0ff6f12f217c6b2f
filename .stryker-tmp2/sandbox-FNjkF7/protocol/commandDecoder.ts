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
// @ts-nocheck


import { LineBuffer, MAX_LINE_BYTES } from './lineBuffer.js';

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

export class CommandDecoder {
  private readonly maxLine: number;
  private readonly buffer = new LineBuffer();
  /** Bytes of payload still owed by the host, or 0 in line mode. */
  private payloadLeft = 0;
  /** Bytes of an overlong line seen so far, or -1 when not discarding. */
  private discarding = -1;
  private ended = false;

  constructor(options: CommandDecoderOptions = {}) {
    this.maxLine = options.maxLineBytes ?? MAX_LINE_BYTES;
  }

  /** Bytes held waiting to be pulled. Bounded by the line cap in line mode. */
  get bufferedBytes(): number {
    return this.buffer.bufferedBytes;
  }

  /** True while payload bytes are still expected. */
  get inPayload(): boolean {
    return this.payloadLeft > 0;
  }

  push(chunk: Uint8Array): void {
    if (!this.ended) this.buffer.push(chunk);
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
    if (this.payloadLeft > this.buffer.bufferedBytes) {
      return { type: 'truncatedPayload', missing: this.payloadLeft - this.buffer.bufferedBytes };
    }
    return { type: 'clean' };
  }

  /** The next item, or null when more input is needed. */
  next(): CommandItem | null {
    if (this.payloadLeft > 0) return this.nextPayload();
    for (;;) {
      // An overlong line cut off by the end of input is still reported (once), also when
      // everything of it was dropped before `end()`.
      if (this.buffer.bufferedBytes === 0) return this.ended && this.discarding >= 0 ? this.finishOverlong() : null;
      if (this.discarding >= 0) {
        const nl = this.buffer.findNewline();
        if (nl < 0) {
          this.discarding += this.buffer.bufferedBytes;
          this.buffer.drop(this.buffer.bufferedBytes);
        if (this.ended) return this.finishOverlong();
          return null;
        }
        this.discarding += nl;
        this.buffer.drop(nl + 1);
        return this.finishOverlong();
      }
      const nl = this.buffer.findNewline();
      if (nl >= 0) {
        if (nl > this.maxLine) {
          // The newline arrived in the same push as the excess.
          this.buffer.drop(nl + 1);
          return { type: 'overlong', length: nl };
        }
        // A copy: the guest keeps lines past the chunk's reuse.
        const line = this.buffer.take(nl, 1).slice();
        return { type: 'line', bytes: line };
      }
      if (this.buffer.bufferedBytes > this.maxLine) {
        this.discarding = this.buffer.bufferedBytes;
        this.buffer.drop(this.buffer.bufferedBytes);
        if (this.ended) return this.finishOverlong();
        return null;
      }
      if (this.ended) {
        const line = this.buffer.take(this.buffer.bufferedBytes, 0).slice();
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
    if (this.buffer.bufferedBytes === 0) return null;
    const bytes = this.buffer.takeChunk(this.payloadLeft);
    this.payloadLeft -= bytes.length;
    return { type: 'payload', bytes, remaining: this.payloadLeft };
  }

  /**
   * Copy the input still held (once drained: a partial line, or payload
   * not yet pulled), so the caller may reuse the chunks it pushed.
   */
  own(): void {
    this.buffer.own();
  }
}

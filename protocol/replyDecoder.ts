/**
 * Incremental decoder for the guest → host direction: reply lines, `stapsh:`
 * debug lines, `data` frames and `quit`. The host sets the mode:
 * - `lines` before `run`: every line is a reply or a debug line;
 * - `framed` after `run` in data mode: `data STREAM N` headers and their
 *   payloads, `quit`, debug lines; anything else is an error;
 * - `raw` after `run` without data mode: every byte is the child's stdout.
 * Payloads are delivered in parts as they arrive, so a frame is never held
 * whole; line length and frame size are capped. Bad input becomes an
 * `error` event, never an exception.
 */

import { latin1 } from './bytes.js';

export type ReplyMode = 'lines' | 'framed' | 'raw';
export type DataStream = 'stdout' | 'stderr';

export type ReplyEvent =
  /** A reply line (hello, OK, ERROR: …, or anything else), without `\n`. */
  | { readonly type: 'line'; readonly text: string }
  /** A `stapsh:` debug line, without `\n`. */
  | { readonly type: 'debug'; readonly text: string }
  /** A frame header was read. */
  | { readonly type: 'frame'; readonly stream: DataStream; readonly size: number }
  /** Part of the current frame's payload, or raw output; `last` ends the frame. */
  | { readonly type: 'data'; readonly stream: DataStream; readonly bytes: Uint8Array; readonly last: boolean }
  | { readonly type: 'quit' }
  /** The stream is unusable from here on; the decoder stops. */
  | { readonly type: 'error'; readonly code: ReplyErrorCode; readonly message: string };

export type ReplyErrorCode = 'bad-header' | 'frame-too-large' | 'line-too-long' | 'unexpected-line' | 'truncated';

export interface ReplyDecoderOptions {
  /** Largest `data` frame accepted (default 16 MiB, like libvirt's message cap). */
  readonly maxFrameBytes?: number;
  /** Longest line accepted (default 64 KiB). */
  readonly maxLineBytes?: number;
}

export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_LINE = 64 * 1024;
const NL = 0x0a;
const HEADER = /^data (stdout|stderr) (\d{1,10})$/;

export class ReplyDecoder {
  mode: ReplyMode = 'lines';
  private readonly maxFrame: number;
  private readonly maxLine: number;
  /** Bytes of an unfinished line. */
  private partial: Uint8Array[] = [];
  private partialLength = 0;
  private frameLeft = 0;
  private frameStream: DataStream = 'stdout';
  private failed = false;

  constructor(options: ReplyDecoderOptions = {}) {
    this.maxFrame = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE;
  }

  /** Bytes held for an unfinished line (bounded by the line cap). */
  get bufferedBytes(): number {
    return this.partialLength;
  }

  /** True while a frame's payload is still expected. */
  get inFrame(): boolean {
    return this.frameLeft > 0;
  }

  /** Decode a chunk; events are passed to `emit` in order. */
  push(chunk: Uint8Array, emit: (e: ReplyEvent) => void): void {
    let at = 0;
    while (at < chunk.length && !this.failed) {
      if (this.frameLeft > 0) {
        const n = Math.min(this.frameLeft, chunk.length - at);
        this.frameLeft -= n;
        emit({ type: 'data', stream: this.frameStream, bytes: chunk.subarray(at, at + n), last: this.frameLeft === 0 });
        at += n;
        continue;
      }
      if (this.mode === 'raw' && this.partialLength === 0) {
        emit({ type: 'data', stream: 'stdout', bytes: chunk.subarray(at), last: false });
        return;
      }
      const nl = chunk.indexOf(NL, at);
      const end = nl < 0 ? chunk.length : nl;
      if (this.partialLength + (end - at) > this.maxLine) {
        this.fail(emit, 'line-too-long', `a line from the guest is longer than ${this.maxLine} bytes`);
        return;
      }
      if (nl < 0) {
        this.partial.push(chunk.slice(at));
        this.partialLength += chunk.length - at;
        return;
      }
      let line: string;
      if (this.partialLength === 0) line = latin1(chunk.subarray(at, nl));
      else {
        this.partial.push(chunk.subarray(at, nl));
        line = this.partial.map(latin1).join('');
        this.partial = [];
        this.partialLength = 0;
      }
      at = nl + 1;
      this.line(line, emit);
    }
  }

  /**
   * The guest's side ended. Reports a frame cut short, or a last line without
   * newline (as a line, like `fgets` would return it).
   */
  end(emit: (e: ReplyEvent) => void): void {
    if (this.failed) return;
    if (this.frameLeft > 0) {
      this.fail(emit, 'truncated', `the guest's output ended inside a data frame (${this.frameLeft} bytes missing)`);
      return;
    }
    if (this.partialLength > 0) {
      const line = this.partial.map(latin1).join('');
      this.partial = [];
      this.partialLength = 0;
      this.line(line, emit);
    }
  }

  private line(text: string, emit: (e: ReplyEvent) => void): void {
    if (text.startsWith('stapsh:')) {
      emit({ type: 'debug', text });
      return;
    }
    if (this.mode === 'lines') {
      emit({ type: 'line', text });
      return;
    }
    if (text === 'quit') {
      emit({ type: 'quit' });
      return;
    }
    if (this.mode === 'raw') {
      // A line that started in `lines` mode and ended after the switch.
      emit({ type: 'data', stream: 'stdout', bytes: new TextEncoder().encode(`${text}\n`), last: false });
      return;
    }
    const m = HEADER.exec(text);
    if (m === null) {
      if (text === 'data' || text.startsWith('data ')) this.fail(emit, 'bad-header', `malformed data header '${clip(text)}'`);
      else this.fail(emit, 'unexpected-line', `unexpected line from the guest '${clip(text)}'`);
      return;
    }
    const size = Number(m[2]);
    if (size > this.maxFrame) {
      this.fail(emit, 'frame-too-large', `data frame of ${size} bytes is over the ${this.maxFrame}-byte cap`);
      return;
    }
    const stream = m[1] as DataStream;
    emit({ type: 'frame', stream, size });
    if (size === 0) emit({ type: 'data', stream, bytes: new Uint8Array(0), last: true });
    this.frameStream = stream;
    this.frameLeft = size;
  }

  private fail(emit: (e: ReplyEvent) => void, code: ReplyErrorCode, message: string): void {
    this.failed = true;
    this.partial = [];
    this.partialLength = 0;
    emit({ type: 'error', code, message });
  }
}

/** A line shown in a message: bounded, control bytes escaped. */
function clip(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return shown.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

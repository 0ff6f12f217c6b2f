/**
 * Incremental decoder for the guest → host direction: reply lines before
 * `run`, then either `data` frames (data mode) or the child's raw stdout.
 *
 * What the bytes after `run`'s `OK` mean depends on the session (was
 * `option data` accepted?), and they often arrive in the same chunk as that
 * `OK`. So the host switches `mode` between events: either pull them one at
 * a time with `next()`, or pass a sink to `push`/`end` and set `mode` from
 * inside the sink; both read each event in the mode current at that moment.
 *
 * Malformed input becomes `error` events, never exceptions, and decoding
 * carries on after them. Buffering is bounded: frame payload is handed out
 * as it arrives, as views of the pushed chunks (no copies, so a 16 MiB frame
 * is never held whole), and a line may hold at most `maxLineBytes` before
 * it is reported and dropped up to its newline.
 */

import { latin1 } from './bytes.js';
import type { DataStream } from './encode.js';
import { parseNonceWord, parseStatusLine, type ChildStatus } from './extensions.js';

export type { DataStream } from './encode.js';

/**
 * How the decoder reads its input:
 * - `lines`: replies before `run` (hello, `OK`, `ERROR: …`, debug, `quit`, any other line);
 * - `framed`: data mode after `run`: only `data` frames, `quit` and debug lines are valid;
 * - `raw`: no data mode after run: every byte is the child's stdout.
 */
export type ReplyMode = 'lines' | 'framed' | 'raw';

/** What a reply line says, by the protocol's grammar. */
export type Reply =
  /** `stapsh VERSION MACHINE RELEASE` (four words), or with stapflow's `nonce=TOKEN` as a fifth. */
  | { readonly kind: 'hello'; readonly version: string; readonly machine: string; readonly release: string; readonly nonce?: string }
  /** `OK`. */
  | { readonly kind: 'ok' }
  /** `ERROR: MESSAGE`; `message` is what follows `ERROR:` and one space. */
  | { readonly kind: 'error'; readonly message: string }
  /** Anything else, which a host waiting for a reply treats as a failure. */
  | { readonly kind: 'other' };

/** A reply line (`lines` mode), without its `\n`. */
export interface LineEvent {
  readonly type: 'line';
  /** The line as a byte string (one char per byte). */
  readonly text: string;
  readonly reply: Reply;
}

/** A `stapsh:` debug line, which hosts skip while waiting for a reply. */
export interface DebugEvent {
  readonly type: 'debug';
  readonly text: string;
}

/** `quit`: the guest is about to exit (data mode announces it). */
export interface QuitEvent {
  readonly type: 'quit';
}

/** stapflow's `status CODE` / `status signal NUM` (framed mode, after `option status`): how the child ended. */
export interface StatusEvent {
  readonly type: 'status';
  readonly status: ChildStatus;
  readonly text: string;
}

/** A `data STREAM N` header: N payload bytes follow as `data` events, the last one with `last: true`. */
export interface FrameEvent {
  readonly type: 'frame';
  readonly stream: DataStream;
  readonly size: number;
}

/**
 * Child output. In `framed` mode, part of a frame's payload; `last` marks
 * the frame's final part (an empty one for a frame of size 0). In `raw`
 * mode, stdout bytes as they came, `last` always false. `bytes` is a view
 * of the pushed chunk: copy it to keep it past that chunk's reuse.
 */
export interface DataEvent {
  readonly type: 'data';
  readonly stream: DataStream;
  readonly bytes: Uint8Array;
  readonly last: boolean;
}

/** Input the protocol does not allow; `message` says what, for logs. */
export type ReplyErrorEvent = { readonly type: 'error'; readonly message: string } & (
  /** A line starting with the word `data` that is not `data stdout|stderr DIGITS` (framed mode). */
  | { readonly code: 'bad-header'; readonly text: string }
  /** A well-formed header over `maxFrameBytes`: its payload is skipped, not delivered. */
  | { readonly code: 'frame-too-large'; readonly text: string; readonly size: number }
  /** In framed mode, a line that is neither a `data` header, `quit`, nor debug. */
  | { readonly code: 'unexpected-line'; readonly text: string }
  /** A line longer than `maxLineBytes`; its `length` bytes (without `\n`) were dropped. */
  | { readonly code: 'line-too-long'; readonly length: number }
  /** The input ended inside a frame, `missing` bytes short. */
  | { readonly code: 'truncated-frame'; readonly stream: DataStream; readonly missing: number }
  /** The input ended inside a line (no `\n`); `text` is what arrived. */
  | { readonly code: 'truncated-line'; readonly text: string }
);

/** The codes of `error` events. */
export type ReplyErrorCode = ReplyErrorEvent['code'];

/** Everything the decoder reports, discriminated by `type`. */
export type ReplyEvent = LineEvent | DebugEvent | QuitEvent | StatusEvent | FrameEvent | DataEvent | ReplyErrorEvent;

/** Receives events from `push`/`end`; may set the decoder's `mode` before returning. */
export type ReplySink = (event: ReplyEvent) => void;

export interface ReplyDecoderOptions {
  /** The mode to start in (default `lines`). */
  readonly mode?: ReplyMode;
  /** Longest line accepted, without its `\n` (default 64 KiB). */
  readonly maxLineBytes?: number;
  /** Largest `data` frame accepted (default 16 MiB). */
  readonly maxFrameBytes?: number;
}

/** Default longest line: far above any real reply (the guest's own lines stay under 4 KiB). */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;
/** Default largest frame: the real guest writes at most one read() of child output per frame. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

const NL = 0x0a;
const DEBUG_PREFIX = 'stapsh:';
const ERROR_PREFIX = 'ERROR:';
/** The separators the guest splits commands on; the host splits replies the same way. */
const WORD_SEPARATORS = /[ \t\r]+/;
const QUIT: QuitEvent = Object.freeze({ type: 'quit' });
const OK: Reply = Object.freeze({ kind: 'ok' });
const OTHER: Reply = Object.freeze({ kind: 'other' });
const EMPTY = new Uint8Array(0);

/** A frame whose payload is still being read. */
interface OpenFrame {
  readonly stream: DataStream;
  left: number;
  /** Over the cap: consume the payload to stay in step, but do not deliver it. */
  readonly skip: boolean;
}

/** The guest → host decoder: push chunks, pull (or sink) events, switch `mode` between events. */
export class ReplyDecoder {
  /** The mode the next event is read in; see `ReplyMode`. A frame in progress is finished first whatever the mode. */
  mode: ReplyMode;
  private readonly maxLine: number;
  private readonly maxFrame: number;
  /**
   * Unconsumed input, oldest first, from `chunks[first]` at offset `head`.
   * Chunks are dropped by advancing `first` (compacted now and then), not by
   * `shift()`, so a line trickling in one byte per chunk costs linear time.
   */
  private chunks: Uint8Array[] = [];
  private first = 0;
  private head = 0;
  private buffered = 0;
  private frame: OpenFrame | null = null;
  /**
   * Where the search for `\n` resumes in an incomplete line: chunk index,
   * offset in it, and that point's distance from the start of the buffered
   * bytes. Valid until something is dropped.
   */
  private scanIndex = 0;
  private scanAt = 0;
  private scanPos = 0;
  private scanValid = false;
  /** Bytes dropped so far of an overlong line, or -1 when not dropping. */
  private discarding = -1;
  private ended = false;
  private endReported = false;

  constructor(options: ReplyDecoderOptions = {}) {
    this.mode = options.mode ?? 'lines';
    this.maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.maxFrame = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /**
   * Bytes held and not yet handed out. Once `next()` has returned null this
   * is at most `maxLineBytes` (a partial line), and 0 in `raw` mode or
   * inside a frame.
   */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** True once `end()` was called. */
  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * Copy the input still held (a partial line, at most `maxLineBytes` once
   * drained), so the caller may reuse the chunks it pushed. Cheaper than
   * copying every chunk: a frame's payload is handed out, never held.
   */
  own(): void {
    if (this.first >= this.chunks.length) return;
    const held: Uint8Array[] = [];
    for (let i = this.first; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      held.push(i === this.first ? c.slice(this.head) : c.slice());
    }
    this.chunks = held;
    this.first = 0;
    this.head = 0;
    this.scanValid = false;
  }

  /**
   * Add a chunk of input (kept by reference, not copied; ignored after
   * `end()`). With a sink, every event now available is passed to it.
   */
  push(chunk: Uint8Array, sink?: ReplySink): void {
    if (chunk.length > 0 && !this.ended) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    if (sink) this.drainTo(sink);
  }

  /**
   * The input has ended. The remaining events follow (to the sink, or from
   * `next()`); if the input stopped inside a frame or a line, the last is a
   * `truncated-frame` / `truncated-line` (or `line-too-long`) error.
   */
  end(sink?: ReplySink): void {
    this.ended = true;
    if (sink) this.drainTo(sink);
  }

  /** The next event, or null when more input is needed (after `end()`: when everything was reported). */
  next(): ReplyEvent | null {
    for (;;) {
      const frame = this.frame;
      if (frame !== null) {
        const event = this.framePart(frame);
        if (event === undefined) continue; // a skipped part
        return event;
      }

      if (this.mode === 'raw') {
        // An overlong line cut short by the switch: its dropped bytes are reported, then raw bytes follow.
        if (this.discarding >= 0) return this.finishOverlong();
        if (this.buffered === 0) return this.atEnd();
        const first = this.chunks[this.first]!;
        const bytes = this.head === 0 ? first : first.subarray(this.head);
        this.drop(bytes.length);
        return { type: 'data', stream: 'stdout', bytes, last: false };
      }

      if (this.discarding >= 0) {
        if (this.buffered === 0) return this.ended ? this.finishOverlong() : null;
        const nl = this.findNewline();
        if (nl < 0) {
          this.discarding += this.buffered;
          this.drop(this.buffered);
          continue;
        }
        this.discarding += nl;
        this.drop(nl + 1);
        return this.finishOverlong();
      }

      const nl = this.findNewline();
      if (nl >= 0) {
        if (nl > this.maxLine) {
          // The newline came in the same push as the excess.
          this.drop(nl + 1);
          return lineTooLong(nl);
        }
        const line = this.take(nl, 1);
        return this.mode === 'framed' ? this.framedLine(line) : linesModeEvent(line);
      }
      if (this.buffered > this.maxLine) {
        // Hold no more: drop what we have and keep dropping up to the next newline.
        this.discarding = this.buffered;
        this.drop(this.buffered);
        continue;
      }
      return this.atEnd();
    }
  }

  /** Every event available now. Only for consumers that do not switch mode between events. */
  drain(): ReplyEvent[] {
    const out: ReplyEvent[] = [];
    this.drainTo((e) => out.push(e));
    return out;
  }

  private drainTo(sink: ReplySink): void {
    for (let e = this.next(); e !== null; e = this.next()) sink(e);
  }

  /** The next part of an open frame; undefined for a part that was skipped. */
  private framePart(frame: OpenFrame): ReplyEvent | null | undefined {
    if (frame.left === 0) {
      // Only a frame of size 0 gets here: a non-empty one closes with its last part.
      this.frame = null;
      return frame.skip ? undefined : { type: 'data', stream: frame.stream, bytes: EMPTY, last: true };
    }
    if (this.buffered === 0) return this.atEnd();
    const first = this.chunks[this.first]!;
    const n = Math.min(first.length - this.head, frame.left);
    const bytes = first.subarray(this.head, this.head + n);
    this.drop(n);
    frame.left -= n;
    if (frame.left === 0) this.frame = null;
    return frame.skip ? undefined : { type: 'data', stream: frame.stream, bytes, last: frame.left === 0 };
  }

  /** Nothing more to hand out: after `end()`, report a truncation once; before it, wait. */
  private atEnd(): ReplyEvent | null {
    if (!this.ended || this.endReported) return null;
    this.endReported = true;
    const frame = this.frame;
    if (frame !== null) {
      // A skipped frame was reported when it started; its truncation adds nothing.
      if (frame.skip) return null;
      return {
        type: 'error',
        code: 'truncated-frame',
        stream: frame.stream,
        missing: frame.left,
        message: `input ended ${frame.left} bytes short of a ${frame.stream} frame`,
      };
    }
    if (this.buffered > 0) {
      const text = latin1(this.take(this.buffered, 0));
      return { type: 'error', code: 'truncated-line', text, message: `input ended inside a line: ${quote(text)}` };
    }
    return null;
  }

  private finishOverlong(): ReplyEvent {
    const length = this.discarding;
    this.discarding = -1;
    return lineTooLong(length);
  }

  /** A complete line in framed mode: a frame header, `quit`, debug, or an error. */
  private framedLine(line: Uint8Array): ReplyEvent {
    const fast = fastDataHeader(line);
    if (fast !== null) return this.openFrame(fast.stream, fast.size, line);
    const text = latin1(line);
    if (text.startsWith(DEBUG_PREFIX)) return { type: 'debug', text };
    if (text === 'quit') return QUIT;
    if (text.startsWith('status ')) {
      const status = parseStatusLine(text);
      if (status !== null) return { type: 'status', status, text };
    }
    const words = splitWords(text);
    if (words[0] !== 'data') {
      return { type: 'error', code: 'unexpected-line', text, message: `unexpected line in data mode: ${quote(text)}` };
    }
    const [, stream, digits] = words;
    if (words.length !== 3 || (stream !== 'stdout' && stream !== 'stderr') || !/^[0-9]+$/.test(digits ?? '')) {
      return { type: 'error', code: 'bad-header', text, message: `malformed data header: ${quote(text)}` };
    }
    return this.openFrame(stream, Number(digits), line);
  }

  private openFrame(stream: DataStream, size: number, header: Uint8Array): ReplyEvent {
    if (size > this.maxFrame) {
      // Skipping the payload keeps us in step with an honest guest, and it is never buffered.
      this.frame = { stream, left: size, skip: true };
      const text = latin1(header);
      return {
        type: 'error',
        code: 'frame-too-large',
        text,
        size,
        message: `data frame of ${size} bytes exceeds the ${this.maxFrame}-byte limit: ${quote(text)}`,
      };
    }
    this.frame = { stream, left: size, skip: false };
    return { type: 'frame', stream, size };
  }

  /**
   * Offset of the first `\n` in the buffered bytes, or -1. Resumes where
   * the last unsuccessful search stopped, so each byte is searched once.
   */
  private findNewline(): number {
    let i = this.first;
    let at = this.head;
    let pos = 0;
    if (this.scanValid) {
      i = this.scanIndex;
      at = this.scanAt;
      pos = this.scanPos;
    }
    for (; i < this.chunks.length; i++, at = 0) {
      const c = this.chunks[i]!;
      const k = c.indexOf(NL, at);
      if (k >= 0) return pos + (k - at);
      pos += c.length - at;
    }
    this.scanIndex = i;
    this.scanAt = 0;
    this.scanPos = pos;
    this.scanValid = true;
    return -1;
  }

  /** Remove the first `n + skip` buffered bytes and return the first `n`. */
  private take(n: number, skip: number): Uint8Array {
    const first = this.chunks[this.first];
    let out: Uint8Array;
    if (first === undefined || n === 0) {
      out = EMPTY;
    } else if (first.length - this.head >= n) {
      // The common case: a view, no copy (lines become strings right away).
      out = first.subarray(this.head, this.head + n);
    } else {
      out = new Uint8Array(n);
      let at = 0;
      for (let i = this.first; at < n; i++) {
        const c = this.chunks[i]!;
        const start = i === this.first ? this.head : 0;
        const k = Math.min(n - at, c.length - start);
        out.set(c.subarray(start, start + k), at);
        at += k;
      }
    }
    this.drop(n + skip);
    return out;
  }

  /** Discard the first `n` buffered bytes. */
  private drop(n: number): void {
    this.buffered -= n;
    this.scanValid = false;
    while (n > 0) {
      const c = this.chunks[this.first]!;
      const left = c.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.first++;
      this.head = 0;
    }
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first >= 64 && this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}

/** A complete line in `lines` mode. */
function linesModeEvent(line: Uint8Array): ReplyEvent {
  const text = latin1(line);
  if (text.startsWith(DEBUG_PREFIX)) return { type: 'debug', text };
  if (text === 'quit') return QUIT;
  return { type: 'line', text, reply: classifyReply(text) };
}

/** What a reply line says. Exact matches, as SystemTap's host compares them. */
export function classifyReply(text: string): Reply {
  if (text === 'OK') return OK;
  if (text.startsWith(ERROR_PREFIX)) {
    const rest = text.slice(ERROR_PREFIX.length);
    return { kind: 'error', message: rest.startsWith(' ') ? rest.slice(1) : rest };
  }
  const words = splitWords(text);
  if (words.length === 4 && words[0] === 'stapsh') {
    return { kind: 'hello', version: words[1]!, machine: words[2]!, release: words[3]! };
  }
  const nonce = words.length === 5 && words[0] === 'stapsh' ? parseNonceWord(words[4]) : null;
  if (nonce !== null) return { kind: 'hello', version: words[1]!, machine: words[2]!, release: words[3]!, nonce };
  return OTHER;
}

function lineTooLong(length: number): ReplyErrorEvent {
  return { type: 'error', code: 'line-too-long', length, message: `line of ${length} bytes exceeds the line limit` };
}

function splitWords(text: string): string[] {
  return text.split(WORD_SEPARATORS).filter((w) => w.length > 0);
}

/** A line for an error message: JSON-quoted, and cut short so messages stay small. */
function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/** Longest digit run read by the fast path (exact in a double); longer ones go the careful way. */
const FAST_MAX_DIGITS = 15;

/**
 * `data stdout N` / `data stderr N` exactly as the guest writes them, read
 * straight from the bytes: this is data mode's hot path (one header per
 * frame), so it builds no strings. Anything else returns null and is judged
 * by the general path, which accepts everything this accepts.
 */
function fastDataHeader(line: Uint8Array): { stream: DataStream; size: number } | null {
  const n = line.length;
  // "data std" + "out " | "err " + 1..15 digits
  if (n < 13 || n > 12 + FAST_MAX_DIGITS) return null;
  if (line[0] !== 0x64 || line[1] !== 0x61 || line[2] !== 0x74 || line[3] !== 0x61 || line[4] !== 0x20) return null;
  if (line[5] !== 0x73 || line[6] !== 0x74 || line[7] !== 0x64 || line[11] !== 0x20) return null;
  let stream: DataStream;
  if (line[8] === 0x6f && line[9] === 0x75 && line[10] === 0x74) stream = 'stdout';
  else if (line[8] === 0x65 && line[9] === 0x72 && line[10] === 0x72) stream = 'stderr';
  else return null;
  let size = 0;
  for (let i = 12; i < n; i++) {
    const d = line[i]! - 0x30;
    if (d < 0 || d > 9) return null;
    size = size * 10 + d;
  }
  return { stream, size };
}

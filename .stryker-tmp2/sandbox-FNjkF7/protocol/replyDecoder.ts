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
// @ts-nocheck


import { latin1 } from './bytes.js';
import { LineBuffer, MAX_LINE_BYTES } from './lineBuffer.js';
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
  /**
   * `stapsh VERSION MACHINE RELEASE` (four words), or with stapflow's
   * `nonce=TOKEN` as a fifth. `stale`: the length of a dead session's
   * partial line glued in front of it (a virtio port keeps one), when there is one.
   */
  | {
      readonly kind: 'hello';
      readonly version: string;
      readonly machine: string;
      readonly release: string;
      readonly nonce?: string;
      readonly stale?: number;
    }
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

/** Default largest frame: the real guest writes at most one read() of child output per frame. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

const DEBUG_PREFIX = 'stapsh:';
const ERROR_PREFIX = 'ERROR:';
/** The separators the guest splits commands on; the host splits replies the same way. */
const WORD_SEPARATORS = /[ \t\r]+/;
const WORDS = /[^ \t\r]+/g;
const HELLO_WORD = 'stapsh';
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
  private readonly buffer = new LineBuffer();
  private frame: OpenFrame | null = null;
  /** Bytes dropped so far of an overlong line, or -1 when not dropping. */
  private discarding = -1;
  private ended = false;
  private endReported = false;

  constructor(options: ReplyDecoderOptions = {}) {
    this.mode = options.mode ?? 'lines';
    this.maxLine = options.maxLineBytes ?? MAX_LINE_BYTES;
    this.maxFrame = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /**
   * Bytes held and not yet handed out. Once `next()` has returned null this
   * is at most `maxLineBytes` (a partial line), and 0 in `raw` mode or
   * inside a frame.
   */
  get bufferedBytes(): number {
    return this.buffer.bufferedBytes;
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
    this.buffer.own();
  }

  /**
   * Add a chunk of input (kept by reference, not copied; ignored after
   * `end()`). With a sink, every event now available is passed to it.
   */
  push(chunk: Uint8Array, sink?: ReplySink): void {
    if (!this.ended) this.buffer.push(chunk);
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
        if (this.buffer.bufferedBytes === 0) return this.atEnd();
        return { type: 'data', stream: 'stdout', bytes: this.buffer.takeChunk(Infinity), last: false };
      }

      if (this.discarding >= 0) {
        if (this.buffer.bufferedBytes === 0) return this.ended ? this.finishOverlong() : null;
        const nl = this.buffer.findNewline();
        if (nl < 0) {
          this.discarding += this.buffer.bufferedBytes;
          this.buffer.drop(this.buffer.bufferedBytes);
          continue;
        }
        this.discarding += nl;
        this.buffer.drop(nl + 1);
        return this.finishOverlong();
      }

      const nl = this.buffer.findNewline();
      if (nl >= 0) {
        if (nl > this.maxLine) {
          // The newline came in the same push as the excess.
          this.buffer.drop(nl + 1);
          return lineTooLong(nl);
        }
        const line = this.buffer.take(nl, 1);
        return this.mode === 'framed' ? this.framedLine(line) : linesModeEvent(line);
      }
      if (this.buffer.bufferedBytes > this.maxLine) {
        // Hold no more: drop what we have and keep dropping up to the next newline.
        this.discarding = this.buffer.bufferedBytes;
        this.buffer.drop(this.buffer.bufferedBytes);
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
    if (this.buffer.bufferedBytes === 0) return this.atEnd();
    const bytes = this.buffer.takeChunk(frame.left);
    frame.left -= bytes.length;
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
    if (this.buffer.bufferedBytes > 0) {
      const text = latin1(this.buffer.take(this.buffer.bufferedBytes, 0));
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
}

/** A complete line in `lines` mode. */
function linesModeEvent(line: Uint8Array): ReplyEvent {
  const text = latin1(line);
  if (text.startsWith(DEBUG_PREFIX)) return { type: 'debug', text };
  if (text === 'quit') return QUIT;
  return { type: 'line', text, reply: classifyReply(text) };
}

/**
 * What a reply line says: the protocol's one reply grammar, which the host
 * acts on. Exact matches, as SystemTap's host compares them, words split on
 * space, tab and CR as its host splits them; and, as stapflow's host also
 * accepts, a hello whose first word ends in `stapsh` after stale bytes.
 */
export function classifyReply(text: string): Reply {
  if (text === 'OK') return OK;
  if (text.startsWith(ERROR_PREFIX)) {
    const rest = text.slice(ERROR_PREFIX.length);
    return { kind: 'error', message: rest.startsWith(' ') ? rest.slice(1) : rest };
  }
  return helloOf(wordSpans(text), text) ?? OTHER;
}

/** Start and end of each word of `text`. */
function wordSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  for (const m of text.matchAll(WORDS)) spans.push([m.index, m.index + m[0].length]);
  return spans;
}

/** The hello the last four (or five, with a nonce) words make, with what came before them as stale bytes. */
function helloOf(spans: readonly [number, number][], text: string): Reply | null {
  const word = (i: number) => text.slice(spans[i]![0], spans[i]![1]);
  const n = spans.length;
  const nonce = n >= 5 ? parseNonceWord(word(n - 1)) : null;
  const first = nonce !== null ? n - 5 : n - 4;
  if (first < 0) return null;
  const head = word(first);
  if (!head.endsWith(HELLO_WORD)) return null;
  const hello = { kind: 'hello' as const, version: word(first + 1), machine: word(first + 2), release: word(first + 3) };
  // Glued behind other bytes: what precedes `stapsh` is a dead session's.
  const glued = first > 0 || head !== HELLO_WORD;
  return { ...hello, ...(nonce === null ? {} : { nonce }), ...(glued ? { stale: spans[first]![1] - HELLO_WORD.length } : {}) };
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

/**
 * The stapflow trace format, version 1: JSON Lines, one header line, then
 * one event per line. Pure types and helpers (no Node APIs), shared by the
 * recorders, the file sink, the renderers and `stapsh-trace`. The spec for
 * readers in other languages is docs/trace-format.md.
 *
 * Compatibility: readers accept any header with `version: 1` and ignore
 * fields they do not know; writers may add optional fields within version 1.
 * A change to the meaning or type of an existing field bumps the version.
 */
// @ts-nocheck


/** The format version this module writes and reads. */
export const TRACE_FORMAT_VERSION = 1;

/** Largest number of payload bytes a `preview` shows (before escaping). */
export const PREVIEW_BYTES = 64;

/** Largest number of line bytes a frame's `summary` shows (before escaping). */
export const SUMMARY_BYTES = 256;

/** The first line of every trace file (repeated at the top of each rotated file). */
export interface TraceHeader {
  readonly type: 'header';
  readonly version: 1;
  readonly tool: 'stapflow';
  /** Wall-clock time of `t = 0`, ISO 8601 (UTC). */
  readonly started: string;
  /** Free-form description of what was recorded (a command line, a transcript's name). */
  readonly source?: string;
}

/** Who recorded an event: the side whose hooks saw it. */
export type TraceActor = 'host' | 'guest' | 'child' | 'proxy';

/** Which way bytes went. */
export type TraceDirection = 'host->guest' | 'guest->host';

/** Fields of every event. */
export interface TraceEventBase {
  /** Seconds since the trace started (the header's `started`), float. */
  readonly t: number;
  /** Session id: distinguishes sessions multiplexed into one trace. */
  readonly session: string;
  readonly actor: TraceActor;
}

/**
 * What a frame is:
 * - `command`: a host command line (`stap`, `option`, `file`, `run`, `quit`, or unknown);
 * - `payload`: the raw bytes of a `file` upload (one event per file);
 * - `reply`: a guest line before the child runs (`hello`, `ok`, `error`, `other`, `debug`, `quit`),
 *   or stapflow's `status` line before `quit`;
 * - `data`: one `data STREAM N` frame, header and payload together;
 * - `raw`: child stdout after `run` without data mode (one event per chunk);
 * - `stderr`: bytes on the guest's separate stderr channel (stdio mode);
 * - `error`: bytes the decoder could not make sense of (`summary` says why).
 */
export type FrameType = 'command' | 'payload' | 'reply' | 'data' | 'raw' | 'stderr' | 'error';

/** The protocol words a `command` frame can start with (`unknown` for anything else). */
export type CommandName = 'stap' | 'option' | 'file' | 'run' | 'quit' | 'arg' | 'signal' | 'unknown';

/** What a `reply` frame says. */
export type ReplyKind = 'hello' | 'ok' | 'error' | 'other' | 'debug' | 'quit' | 'status';

/** Bytes that crossed the wire, decoded. */
export interface TraceFrameEvent extends TraceEventBase {
  readonly kind: 'frame';
  readonly direction: TraceDirection;
  readonly frame: FrameType;
  /** One line, escaped (see `escapeBytes`), at most SUMMARY_BYTES source bytes: the command, reply or data header. */
  readonly summary: string;
  /** Wire bytes this frame covers (line with its `\n`; a data frame's header and payload). */
  readonly bytes: number;
  readonly command?: CommandName;
  readonly reply?: ReplyKind;
  /** `data`/`raw`/`stderr` frames: the child stream. */
  readonly stream?: 'stdout' | 'stderr';
  /** `data` frames: the payload size from the header; `payload`: the file size. */
  readonly size?: number;
  /** `payload` frames: the file's name from its `file` line. */
  readonly name?: string;
  /** The first PREVIEW_BYTES payload bytes, escaped. */
  readonly preview?: string;
  /** True when `preview` shows only part of the payload. */
  readonly previewTruncated?: boolean;
  /**
   * `data` frames: how many consecutive frames of one stream this event
   * stands for (absent: one). A burst is recorded as one event (`size` and
   * `bytes` summed, `preview` of the first) to keep tracing cheap.
   */
  readonly frames?: number;
}

/** A machine changed state. */
export interface TraceStateEvent extends TraceEventBase {
  readonly kind: 'state';
  /** The machine's id (e.g. `hostSession`, `guestStapsh`). */
  readonly machine: string;
  /** The previous state value as a string (`a.b`, parallel regions joined by `, `), null for the initial state. */
  readonly from: string | null;
  readonly to: string;
  /** Type of the event that caused the change, when known. */
  readonly event?: string;
  /** The actor's status when it is no longer `active` (`done`, `error`, `stopped`). */
  readonly status?: string;
}

/** The child (staprun/stapdyn/stapbpf) lifecycle. */
export type TraceChildEvent = TraceEventBase & { readonly kind: 'child' } & (
    | { readonly what: 'spawned'; readonly pid: number; readonly argv: readonly string[] }
    | { readonly what: 'signal'; readonly signal: string }
    | { readonly what: 'exited'; readonly code: number | null; readonly signal: string | null; readonly status: number }
  );

/** The channel itself: end of input, failures, injected faults. */
export interface TraceTransportEvent extends TraceEventBase {
  readonly kind: 'transport';
  readonly what: 'eof' | 'error' | 'fault';
  /** The direction that ended or failed, when it is one direction. */
  readonly direction?: TraceDirection;
  readonly message?: string;
}

export type TraceEvent = TraceFrameEvent | TraceStateEvent | TraceChildEvent | TraceTransportEvent;
export type TraceEventKind = TraceEvent['kind'];
export type TraceLine = TraceHeader | TraceEvent;

/** A header for a trace starting now (or at `started`). */
export function makeHeader(options: { readonly started?: Date; readonly source?: string } = {}): TraceHeader {
  return {
    type: 'header',
    version: TRACE_FORMAT_VERSION,
    tool: 'stapflow',
    started: (options.started ?? new Date()).toISOString(),
    ...(options.source === undefined ? {} : { source: options.source }),
  };
}

/** One JSONL line, with its `\n`. `t` is rounded to microseconds. */
export function serializeTraceLine(line: TraceLine): string {
  if ('kind' in line) return `${JSON.stringify({ ...line, t: Math.round(line.t * 1e6) / 1e6 })}\n`;
  return `${JSON.stringify(line)}\n`;
}

/** A whole trace as JSONL text. */
export function serializeTrace(header: TraceHeader, events: Iterable<TraceEvent>): string {
  let out = serializeTraceLine(header);
  for (const e of events) out += serializeTraceLine(e);
  return out;
}

/** Thrown by `parseTraceLine` for a line that is not valid version-1 trace JSON. */
export class TraceParseError extends Error {
  override readonly name = 'TraceParseError';
}

const ACTORS: readonly string[] = ['host', 'guest', 'child', 'proxy'];
const DIRECTIONS: readonly string[] = ['host->guest', 'guest->host'];
const FRAMES: readonly string[] = ['command', 'payload', 'reply', 'data', 'raw', 'stderr', 'error'];

type Json = Record<string, unknown>;

function need(ok: boolean, what: string): void {
  if (!ok) throw new TraceParseError(what);
}

/** Parse and validate one line (header or event). Throws TraceParseError. */
export function parseTraceLine(text: string): TraceLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TraceParseError(`not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  need(typeof value === 'object' && value !== null && !Array.isArray(value), 'not a JSON object');
  const o = value as Json;
  if (o.type === 'header') {
    need(o.version === TRACE_FORMAT_VERSION, `unsupported trace version ${JSON.stringify(o.version)} (this reader knows ${TRACE_FORMAT_VERSION})`);
    need(o.tool === 'stapflow', 'header: tool is not "stapflow"');
    need(typeof o.started === 'string', 'header: missing "started"');
    return o as unknown as TraceHeader;
  }
  need(typeof o.t === 'number' && Number.isFinite(o.t), 'event: "t" is not a number');
  need(typeof o.session === 'string', 'event: "session" is not a string');
  need(typeof o.actor === 'string' && ACTORS.includes(o.actor), `event: unknown actor ${JSON.stringify(o.actor)}`);
  switch (o.kind) {
    case 'frame':
      need(typeof o.direction === 'string' && DIRECTIONS.includes(o.direction), 'frame: bad "direction"');
      need(typeof o.frame === 'string' && FRAMES.includes(o.frame), 'frame: bad "frame"');
      need(typeof o.summary === 'string', 'frame: "summary" is not a string');
      need(typeof o.bytes === 'number', 'frame: "bytes" is not a number');
      break;
    case 'state':
      need(typeof o.machine === 'string', 'state: "machine" is not a string');
      need(o.from === null || typeof o.from === 'string', 'state: bad "from"');
      need(typeof o.to === 'string', 'state: "to" is not a string');
      break;
    case 'child':
      need(o.what === 'spawned' || o.what === 'signal' || o.what === 'exited', 'child: bad "what"');
      break;
    case 'transport':
      need(o.what === 'eof' || o.what === 'error' || o.what === 'fault', 'transport: bad "what"');
      break;
    default:
      throw new TraceParseError(`unknown event kind ${JSON.stringify(o.kind)}`);
  }
  return o as unknown as TraceEvent;
}

/** A line that failed to parse: 1-based line number and why. */
export interface TraceLineError {
  readonly line: number;
  readonly message: string;
}

export interface ParsedTrace {
  /** The first header, or null if the text has none. */
  readonly header: TraceHeader | null;
  readonly events: TraceEvent[];
  /** Lines skipped because they did not parse; decoding carries on after them. */
  readonly errors: TraceLineError[];
}

/** Parse a whole JSONL trace; bad lines are collected in `errors`, never thrown. Later headers (rotation) are skipped. */
export function parseTrace(text: string): ParsedTrace {
  let header: TraceHeader | null = null;
  const events: TraceEvent[] = [];
  const errors: TraceLineError[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    try {
      const line = parseTraceLine(raw);
      if ('kind' in line) events.push(line);
      else header ??= line;
    } catch (error) {
      errors.push({ line: i + 1, message: error instanceof Error ? error.message : String(error) });
    }
  }
  return { header, events, errors };
}

/**
 * Bytes as a printable, one-line string: printable ASCII as is, `\\`, `\n`,
 * `\r`, `\t`, everything else `\xHH`. At most `max` source bytes are shown.
 */
export function escapeBytes(bytes: Uint8Array, max = PREVIEW_BYTES): { readonly text: string; readonly truncated: boolean } {
  const n = Math.min(bytes.length, max);
  let text = '';
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0x5c) text += '\\\\';
    else if (b === 0x0a) text += '\\n';
    else if (b === 0x0d) text += '\\r';
    else if (b === 0x09) text += '\\t';
    else if (b >= 0x20 && b < 0x7f) text += String.fromCharCode(b);
    else text += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return { text, truncated: bytes.length > max };
}

/**
 * An XState state value as a string: `idle`, `running.draining` for nested
 * states, parallel regions as `a.x, b.y`.
 */
export function stateValueToString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  const parts: string[] = [];
  const walk = (v: unknown, prefix: string): void => {
    if (typeof v === 'string') {
      parts.push(`${prefix}${v}`);
      return;
    }
    if (typeof v !== 'object' || v === null) {
      parts.push(`${prefix}${String(v)}`);
      return;
    }
    const entries = Object.entries(v as Json);
    if (entries.length === 0 && prefix !== '') parts.push(prefix.slice(0, -1));
    for (const [k, sub] of entries) walk(sub, `${prefix}${k}.`);
  };
  walk(value, '');
  return parts.join(', ');
}

/** A clock giving seconds since it was made (performance.now based, monotonic). */
export function createClock(): () => number {
  const start = performance.now();
  return () => (performance.now() - start) / 1000;
}

/**
 * The wire recorder: an `onWire(direction, bytes)` (host
 * `SessionOptions.onWire`, or fed by hand on the guest side) that decodes
 * both byte streams into `frame` events. Best-effort: it never throws into
 * the session it watches, and holds at most a line's worth of bytes per
 * direction.
 */
// @ts-nocheck


import { CommandDecoder, type CommandItem } from '../protocol/commandDecoder.js';
import { parseCommandLine } from '../protocol/commandLine.js';
import { ReplyDecoder, type ReplyEvent } from '../protocol/replyDecoder.js';
import {
  createClock,
  escapeBytes,
  PREVIEW_BYTES,
  SUMMARY_BYTES,
  type CommandName,
  type TraceActor,
  type TraceDirection,
  type TraceEvent,
  type TraceFrameEvent,
} from './format.js';

/** Where recorders send events. */
export type TraceEmit = (event: TraceEvent) => void;

export interface RecorderOptions {
  /** Session id written into every event. */
  readonly session: string;
  readonly actor: TraceActor;
  /**
   * Record a burst of `data` frames of one stream as one event (`frames`
   * counts them): frames arriving within `windowMs` (default 10) of the
   * burst's first, up to `maxBytes` (default 1 MiB) of payload. Frames further
   * apart stay one event each. `false`: one event per frame.
   */
  readonly coalesceData?: false | { readonly windowMs?: number; readonly maxBytes?: number };
  /** Seconds since the trace started; pass `createTrace().clock` to share one timeline. Default: since the recorder was made. */
  readonly clock?: () => number;
}

/** An `onWire` callback that also takes the end of each direction. */
export interface WireRecorder {
  (direction: TraceDirection, bytes: Uint8Array): void;
  /** A direction ended: flush what is pending (truncations become `error` frames) and record a `transport` eof (or error, with `error`). */
  end(direction: TraceDirection, error?: string): void;
  /** Record a burst of data frames still being coalesced now (before a trace closes). */
  flush(): void;
}

/** Largest `file` payload a guest accepts (SystemTap: 32000000): only then is the payload expected. */
const MAX_FILE_SIZE = 32_000_000;

/** A fixed-size copy of the first bytes of a stream of chunks. */
class Preview {
  private readonly buf = new Uint8Array(PREVIEW_BYTES);
  private n = 0;
  private total = 0;
  add(bytes: Uint8Array): void {
    this.total += bytes.length;
    if (this.n < PREVIEW_BYTES) {
      const k = Math.min(PREVIEW_BYTES - this.n, bytes.length);
      this.buf.set(bytes.subarray(0, k), this.n);
      this.n += k;
    }
  }
  fields(): { preview?: string; previewTruncated?: boolean } {
    if (this.total === 0) return {};
    const { text } = escapeBytes(this.buf.subarray(0, this.n));
    return this.total > this.n ? { preview: text, previewTruncated: true } : { preview: text };
  }
}

/** A line's summary: escaped, at most SUMMARY_BYTES. */
function summarize(bytes: Uint8Array): string {
  const { text, truncated } = escapeBytes(bytes, SUMMARY_BYTES);
  return truncated ? `${text}…` : text;
}

function summarizeText(text: string): string {
  const bytes = new Uint8Array(Math.min(text.length, SUMMARY_BYTES + 1));
  for (let i = 0; i < bytes.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return summarize(bytes);
}

/**
 * Decode both directions of one session into `frame` events. host→guest goes
 * through a CommandDecoder (payload expected after a `file` line with a
 * size in 1..32000000); guest→host through a ReplyDecoder in `lines` mode,
 * switched after the reply to `run` to `framed` when `option data` was
 * answered OK, else to `raw`. Replies are matched to commands in order.
 */
export function wireRecorder(emit: TraceEmit, options: RecorderOptions): WireRecorder {
  const clock = options.clock ?? createClock();
  const base = () => ({ t: clock(), session: options.session, actor: options.actor });
  const emitFrame = (t: number, e: Omit<TraceFrameEvent, 't' | 'session' | 'actor' | 'kind'>): void => {
    try {
      emit({ t, session: options.session, actor: options.actor, kind: 'frame', ...e } as TraceFrameEvent);
    } catch {
      // A failing sink must not break the session.
    }
  };

  // A burst of data frames of one stream, recorded as one event when it ends.
  const coalesce = options.coalesceData === false ? null : { windowMs: options.coalesceData?.windowMs ?? 10, maxBytes: options.coalesceData?.maxBytes ?? 1024 * 1024 };
  let burst: { t: number; stream: 'stdout' | 'stderr'; frames: number; size: number; bytes: number; first: Omit<TraceFrameEvent, 't' | 'session' | 'actor' | 'kind'> } | null = null;
  let burstTimer: NodeJS.Timeout | undefined;
  const flushBurst = (): void => {
    if (burstTimer !== undefined) clearTimeout(burstTimer);
    burstTimer = undefined;
    const b = burst;
    if (b === null) return;
    burst = null;
    if (b.frames === 1) emitFrame(b.t, b.first);
    else emitFrame(b.t, { ...b.first, size: b.size, bytes: b.bytes, frames: b.frames, summary: `data ${b.stream} ×${b.frames}, ${b.size} bytes` });
  };
  /** A complete data frame; its event (and preview, escaped) is made only for the first of a burst. */
  const dataFrame = (stream: 'stdout' | 'stderr', size: number, bytes: number, preview: Preview): void => {
    const t = clock();
    if (coalesce !== null && burst !== null && burst.stream === stream && t - burst.t <= coalesce.windowMs / 1000 && burst.size + size <= coalesce.maxBytes) {
      burst.frames++;
      burst.size += size;
      burst.bytes += bytes;
      return;
    }
    const e = { direction: 'guest->host' as const, frame: 'data' as const, stream, size, summary: `data ${stream} ${size}`, bytes, ...preview.fields() };
    if (coalesce === null) {
      emitFrame(t, e);
      return;
    }
    flushBurst();
    burst = { t, stream, frames: 1, size, bytes, first: e };
    // Ends with the next other event, the end of the stream, or this timer.
    burstTimer = setTimeout(flushBurst, coalesce.windowMs);
    burstTimer.unref?.();
  };
  const out = (e: Omit<TraceFrameEvent, 't' | 'session' | 'actor' | 'kind'>): void => {
    flushBurst();
    emitFrame(clock(), e);
  };

  // host → guest
  const commands = new CommandDecoder();
  let upload: { name: string; size: number; preview: Preview } | null = null;
  /** Commands waiting for their reply, oldest first. */
  const awaiting: Array<'stap' | 'option-data' | 'option' | 'file' | 'run'> = [];
  let dataOk = false;

  const onCommand = (item: CommandItem): void => {
    if (item.type === 'overlong') {
      out({ direction: 'host->guest', frame: 'error', summary: `command line of ${item.length} bytes over the line limit`, bytes: item.length + 1 });
      return;
    }
    if (item.type === 'payload') {
      if (upload === null) return;
      upload.preview.add(item.bytes);
      if (item.remaining === 0) {
        const u = upload;
        upload = null;
        out({ direction: 'host->guest', frame: 'payload', summary: `${u.size} bytes of ${u.name}`, bytes: u.size, size: u.size, name: u.name, ...u.preview.fields() });
      }
      return;
    }
    const parsed = parseCommandLine(item.bytes);
    const command: CommandName = parsed.command;
    out({ direction: 'host->guest', frame: 'command', command, summary: summarize(item.bytes), bytes: item.bytes.length + 1 });
    switch (parsed.command) {
      case 'stap':
        awaiting.push('stap');
        break;
      case 'option':
        awaiting.push(parsed.name === 'data' ? 'option-data' : 'option');
        break;
      case 'file':
        awaiting.push('file');
        if (parsed.size > 0 && parsed.size <= MAX_FILE_SIZE) {
          commands.expectPayload(parsed.size);
          upload = { name: parsed.name === null ? '' : summarize(parsed.name), size: parsed.size, preview: new Preview() };
        }
        break;
      case 'run':
        awaiting.push('run');
        break;
      default:
        break;
    }
  };

  // guest → host
  const replies = new ReplyDecoder();
  let frame: { stream: 'stdout' | 'stderr'; size: number; header: number; preview: Preview } | null = null;

  const onReply = (e: ReplyEvent): void => {
    switch (e.type) {
      case 'line': {
        const waited = awaiting.shift();
        if (waited === 'option-data' && e.reply.kind === 'ok') dataOk = true;
        if (waited === 'run' && e.reply.kind === 'ok') replies.mode = dataOk ? 'framed' : 'raw';
        out({ direction: 'guest->host', frame: 'reply', reply: e.reply.kind, summary: summarizeText(e.text), bytes: e.text.length + 1 });
        return;
      }
      case 'debug':
        out({ direction: 'guest->host', frame: 'reply', reply: 'debug', summary: summarizeText(e.text), bytes: e.text.length + 1 });
        return;
      case 'quit':
        out({ direction: 'guest->host', frame: 'reply', reply: 'quit', summary: 'quit', bytes: 5 });
        return;
      case 'status':
        out({ direction: 'guest->host', frame: 'reply', reply: 'status', summary: summarizeText(e.text), bytes: e.text.length + 1 });
        return;
      case 'frame': {
        const header = `data ${e.stream} ${e.size}`;
        frame = { stream: e.stream, size: e.size, header: header.length + 1, preview: new Preview() };
        return;
      }
      case 'data': {
        if (replies.mode === 'raw' && frame === null) {
          const p = new Preview();
          p.add(e.bytes);
          out({ direction: 'guest->host', frame: 'raw', stream: 'stdout', summary: `stdout ${e.bytes.length}`, bytes: e.bytes.length, ...p.fields() });
          return;
        }
        if (frame === null) return;
        frame.preview.add(e.bytes);
        if (e.last) {
          const f = frame;
          frame = null;
          dataFrame(f.stream, f.size, f.header + f.size, f.preview);
        }
        return;
      }
      case 'error':
        if (e.code === 'truncated-frame') frame = null;
        out({ direction: 'guest->host', frame: 'error', summary: summarizeText(e.message), bytes: 'text' in e ? e.text.length + 1 : 'length' in e ? e.length : 0 });
        return;
    }
  };

  const safely = (f: () => void): void => {
    try {
      f();
    } catch {
      // Best-effort: a decoding surprise loses a frame, never the session.
    }
  };

  const recorder = ((direction: TraceDirection, bytes: Uint8Array): void => {
    safely(() => {
      // Decoders keep views, and callers may reuse their buffers: after draining, copy only
      // what the decoder still holds (a partial line), not every chunk (a 256 MiB stream).
      if (direction === 'host->guest') {
        commands.push(bytes);
        for (let item = commands.next(); item !== null; item = commands.next()) onCommand(item);
        commands.own();
      } else {
        replies.push(bytes, onReply);
        replies.own();
      }
    });
  }) as WireRecorder;

  recorder.flush = () => safely(flushBurst);
  recorder.end = (direction: TraceDirection, error?: string): void => {
    safely(() => {
      flushBurst();
      if (direction === 'host->guest') {
        const end = commands.end();
        for (let item = commands.next(); item !== null; item = commands.next()) onCommand(item);
        if (end.type === 'truncatedPayload' && upload !== null) {
          out({ direction, frame: 'error', summary: `input ended ${end.missing} bytes short of ${upload.name}`, bytes: upload.size - end.missing, name: upload.name });
          upload = null;
        }
      } else {
        replies.end(onReply);
      }
    });
    try {
      emit({ ...base(), kind: 'transport', what: error === undefined ? 'eof' : 'error', direction, ...(error === undefined ? {} : { message: error }) });
    } catch {
      // as above
    }
  };
  return recorder;
}

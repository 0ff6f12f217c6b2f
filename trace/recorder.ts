/**
 * Turning the hooks stapflow already has into trace events:
 *
 * - `wireRecorder` → an `onWire(direction, bytes)` (host `SessionOptions.onWire`,
 *   or fed by hand on the guest side) that decodes both byte streams into
 *   `frame` events;
 * - `inspectRecorder` → an XState `inspect` callback recording state changes;
 * - `recordGuestActor` → subscribes to a guest actor's `wire` and `child` events;
 * - `createTrace` → an RxJS stream of events for library users;
 * - `traceSink` → a size-capped, rotating JSONL file.
 *
 * Recorders are best-effort observers: they never throw into the session
 * they watch, and hold at most a line's worth of bytes per direction.
 */

import { closeSync, existsSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { Observable, Subject, type Observer } from 'rxjs';
import type { InspectionEvent } from 'xstate';
import { CommandDecoder, type CommandItem } from '../protocol/commandDecoder.js';
import { parseCommandLine } from '../protocol/commandLine.js';
import { ReplyDecoder, type ReplyEvent } from '../protocol/replyDecoder.js';
import type { GuestActor } from '../machines/guestStapsh.js';
import {
  createClock,
  escapeBytes,
  makeHeader,
  PREVIEW_BYTES,
  serializeTraceLine,
  stateValueToString,
  SUMMARY_BYTES,
  type CommandName,
  type TraceActor,
  type TraceDirection,
  type TraceEvent,
  type TraceFrameEvent,
  type TraceHeader,
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

/**
 * An XState `inspect` callback recording state changes as `state` events:
 * each `@xstate.snapshot` whose value differs from the previous one seen for
 * that actor. Only the root actor by default (`all: true` adds invoked
 * machines). Inspection events are not causally ordered: the `t` is when the
 * callback ran.
 */
export function inspectRecorder(
  emit: TraceEmit,
  options: RecorderOptions & { readonly all?: boolean },
): (event: InspectionEvent) => void {
  const clock = options.clock ?? createClock();
  const last = new Map<string, { value: string; status: string; ref: unknown }>();
  return (event: InspectionEvent): void => {
    try {
      if (event.type !== '@xstate.snapshot') return;
      const ref = event.actorRef;
      if (!options.all && ref.sessionId !== event.rootId) return;
      const snapshot = event.snapshot as { value?: unknown; status?: string };
      if (!('value' in snapshot)) return; // not a state machine (promise, callback, observable actors)
      const status = snapshot.status ?? 'active';
      const prev = last.get(ref.sessionId);
      // XState keeps the value object while the state stays: most events (output) change nothing.
      if (prev !== undefined && prev.ref === snapshot.value && prev.status === status) return;
      const to = stateValueToString(snapshot.value);
      if (prev !== undefined && prev.value === to && prev.status === status) {
        prev.ref = snapshot.value;
        return;
      }
      last.set(ref.sessionId, { value: to, status, ref: snapshot.value });
      const r = ref as { logic?: { id?: unknown }; id?: unknown };
      const machine = typeof r.logic?.id === 'string' ? r.logic.id : typeof r.id === 'string' ? r.id : 'machine';
      const cause = (event.event as { type?: unknown } | undefined)?.type;
      emit({
        t: clock(),
        session: options.session,
        actor: options.actor,
        kind: 'state',
        machine,
        from: prev?.value ?? null,
        to,
        ...(typeof cause === 'string' ? { event: cause } : {}),
        ...(status === 'active' ? {} : { status }),
      });
    } catch {
      // Never throw into XState.
    }
  };
}

/**
 * Record a guest actor's output: its stdout (`wire` events on stdout) through
 * `wire` as guest→host, its separate stderr as `stderr` frames, and its
 * `child` events (actor `child`). The guest's input must be fed to the same
 * `wire` recorder as host→guest by whoever reads the channel. With
 * `mergeStderr` (sockets, virtio: stderr shares the channel) stderr bytes
 * are decoded as guest→host too. Returns an unsubscribe function.
 */
export function recordGuestActor(
  actor: Pick<GuestActor, 'on'>,
  emit: TraceEmit,
  wire: WireRecorder,
  options: RecorderOptions & { readonly mergeStderr?: boolean },
): () => void {
  const clock = options.clock ?? createClock();
  const base = () => ({ t: clock(), session: options.session, actor: options.actor });
  const subs = [
    actor.on('wire', (e) => {
      if (e.stream === 'stdout' || options.mergeStderr) {
        wire('guest->host', e.bytes);
        return;
      }
      try {
        const { text, truncated } = escapeBytes(e.bytes);
        emit({ ...base(), kind: 'frame', direction: 'guest->host', frame: 'stderr', stream: 'stderr', summary: `stderr ${e.bytes.length}`, bytes: e.bytes.length, preview: text, ...(truncated ? { previewTruncated: true } : {}) });
      } catch {
        // ignore
      }
    }),
    actor.on('child', (e) => {
      try {
        const t = { t: clock(), session: options.session, actor: 'child' as const, kind: 'child' as const };
        if (e.what === 'spawned') emit({ ...t, what: 'spawned', pid: e.pid, argv: [...e.argv] });
        else if (e.what === 'signal') emit({ ...t, what: 'signal', signal: e.signal });
        else if (e.exit.kind === 'exited') emit({ ...t, what: 'exited', code: e.exit.code, signal: null, status: e.exit.code });
        else emit({ ...t, what: 'exited', code: null, signal: e.exit.signal, status: 128 + e.exit.number });
      } catch {
        // ignore
      }
    }),
  ];
  return () => subs.forEach((s) => s.unsubscribe());
}

/** A live trace for library users: subscribe to `events$`, pass `emit`/`clock` to recorders. */
export interface Trace {
  readonly header: TraceHeader;
  /** Hot: events emitted after subscribing. Completes on `close()`. */
  readonly events$: Observable<TraceEvent>;
  readonly emit: TraceEmit;
  /** Seconds since `header.started`. */
  readonly clock: () => number;
  /** Recorders for one session sharing this trace's clock. */
  recorders(session: string, actor: TraceActor): { onWire: WireRecorder; inspect: (event: InspectionEvent) => void };
  close(): void;
}

export function createTrace(options: { readonly source?: string } = {}): Trace {
  const header = makeHeader(options.source === undefined ? {} : { source: options.source });
  const clock = createClock();
  const subject = new Subject<TraceEvent>();
  const emit: TraceEmit = (e) => {
    if (!subject.closed) subject.next(e);
  };
  const wires = new Set<WireRecorder>();
  return {
    header,
    events$: subject.asObservable(),
    emit,
    clock,
    recorders: (session, actor) => {
      const onWire = wireRecorder(emit, { session, actor, clock });
      wires.add(onWire);
      return { onWire, inspect: inspectRecorder(emit, { session, actor, clock }) };
    },
    close: () => {
      // Bursts still being coalesced are recorded before the stream completes.
      for (const w of wires) w.flush();
      wires.clear();
      subject.complete();
    },
  };
}

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

/**
 * Reading and rendering traces: a text timeline (in the spirit of libvirt's
 * rpc-monitor), a Mermaid sequence diagram, and conversion of the shared
 * byte-exact transcripts (`{t, dir, bytes, text}` lines) into trace events.
 * Pure: no Node APIs.
 */
// @ts-nocheck


import {
  makeHeader,
  parseTrace,
  type ParsedTrace,
  type TraceDirection,
  type TraceEvent,
  type TraceFrameEvent,
  type TraceHeader,
  type TraceLineError,
} from './format.js';
import { wireRecorder } from './recorder.js';

export const ARROW: Record<TraceDirection, string> = { 'host->guest': 'host → guest', 'guest->host': 'guest → host' };

/** A frame in words; `maxPreview` bounds the preview's escaped length (Infinity: all of it, 0: none). */
export function frameText(e: TraceFrameEvent, maxPreview = Infinity): string {
  let text = e.frame === 'payload' ? `payload ${e.summary}` : e.summary;
  if (e.preview !== undefined && maxPreview > 0) {
    const cut = e.preview.length > maxPreview;
    // Cut at an escape's boundary, not inside `\xHH`.
    const preview = cut ? e.preview.slice(0, maxPreview).replace(/\\(x[0-9a-f]?)?$/, '') : e.preview;
    text += `  "${preview}${cut || e.previewTruncated ? '…' : ''}"`;
  }
  return text;
}

/** Longest preview in a Mermaid label (payload previews are left out there). */
const MERMAID_PREVIEW = 40;
const mermaidPreview = (e: TraceFrameEvent) => (e.frame === 'payload' ? 0 : MERMAID_PREVIEW);

export function childText(e: Extract<TraceEvent, { kind: 'child' }>): string {
  switch (e.what) {
    case 'spawned':
      return `spawned pid ${e.pid}: ${e.argv.join(' ')}`;
    case 'signal':
      return `signal ${e.signal}`;
    case 'exited':
      return e.signal === null ? `exited ${e.code ?? '?'}` : `killed by ${e.signal} (status ${e.status})`;
  }
}

export function transportText(e: Extract<TraceEvent, { kind: 'transport' }>): string {
  const dir = e.direction === undefined ? '' : ` ${ARROW[e.direction]}`;
  const what = e.what === 'eof' ? 'EOF' : e.what;
  return `${what}${dir}${e.message === undefined ? '' : `: ${e.message}`}`;
}

export function stateText(e: Extract<TraceEvent, { kind: 'state' }>): string {
  const change = e.from === null ? `→ ${e.to}` : `${e.from} → ${e.to}`;
  const cause = e.event === undefined ? '' : ` (${e.event})`;
  const status = e.status === undefined ? '' : ` [${e.status}]`;
  return `${e.machine}: ${change}${cause}${status}`;
}

/**
 * A text timeline, one line per event: time in seconds, the direction of a
 * frame (`host → guest`) or `[actor]` for other events, and what happened.
 * A session column appears when the trace holds more than one session.
 */
export function renderText(events: readonly TraceEvent[], header?: TraceHeader | null): string {
  const sessions = new Set(events.map((e) => e.session));
  const withSession = sessions.size > 1;
  const width = Math.max(0, ...events.map((e) => e.session.length));
  const lines: string[] = [];
  if (header) lines.push(`# stapflow trace v${header.version}, started ${header.started}${header.source ? `, ${header.source}` : ''}`);
  for (const e of events) {
    const t = e.t.toFixed(4).padStart(10);
    const session = withSession ? `${e.session.padEnd(width)}  ` : '';
    let what: string;
    switch (e.kind) {
      case 'frame':
        what = `${ARROW[e.direction]}  ${frameText(e)}  (${e.bytes} B)`;
        break;
      case 'state':
        what = `[${e.actor}] ${stateText(e)}`;
        break;
      case 'child':
        what = `[child] ${childText(e)}`;
        break;
      case 'transport':
        what = `[${e.actor}] ${transportText(e)}`;
        break;
    }
    lines.push(`${t}  ${session}${what}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Text safe inside a Mermaid message or note (entity codes for its syntax characters). */
function mermaidText(text: string): string {
  return text.replace(/#/g, '#35;').replace(/;/g, '#59;').replace(/</g, '#lt;').replace(/>/g, '#gt;').replace(/[\r\n]/g, ' ');
}

const COLLAPSIBLE = new Set(['data', 'raw', 'stderr']);

/**
 * A Mermaid `sequenceDiagram` with host, guest and child: commands as
 * solid arrows, replies dashed, state changes as notes over their actor,
 * and runs of consecutive data frames in one direction collapsed into one
 * arrow ("12 data frames, 114 bytes", counting payload bytes).
 */
export function renderMermaid(events: readonly TraceEvent[]): string {
  const withSession = new Set(events.map((e) => e.session)).size > 1;
  const out = ['sequenceDiagram', '  participant host', '  participant guest', '  participant child'];
  const tag = (e: TraceEvent) => (withSession ? `[${e.session}] ` : '');
  const arrow = (d: TraceDirection) => (d === 'host->guest' ? 'host->>guest' : 'guest-->>host');
  let run: TraceFrameEvent[] = [];

  const flushRun = (): void => {
    if (run.length === 0) return;
    const first = run[0]!;
    if (run.length === 1) {
      out.push(`  ${arrow(first.direction)}: ${mermaidText(tag(first) + frameText(first, mermaidPreview(first)))}`);
    } else {
      const payload = run.reduce((n, e) => n + (e.frame === 'data' ? (e.size ?? 0) : e.bytes), 0);
      const count = run.reduce((n, e) => n + (e.frames ?? 1), 0);
      const noun = first.frame === 'data' ? 'data frames' : first.frame === 'raw' ? 'stdout chunks' : 'stderr chunks';
      out.push(`  ${arrow(first.direction)}: ${mermaidText(`${tag(first)}${count} ${noun}, ${payload} bytes`)}`);
    }
    run = [];
  };

  for (const e of events) {
    if (e.kind === 'frame' && COLLAPSIBLE.has(e.frame)) {
      const first = run[0];
      if (first !== undefined && (first.direction !== e.direction || first.frame !== e.frame || first.session !== e.session)) flushRun();
      run.push(e);
      continue;
    }
    flushRun();
    switch (e.kind) {
      case 'frame':
        out.push(`  ${arrow(e.direction)}: ${mermaidText(tag(e) + frameText(e, mermaidPreview(e)))}`);
        break;
      case 'state': {
        const over = e.actor === 'proxy' ? 'host,guest' : e.actor;
        out.push(`  Note over ${over}: ${mermaidText(tag(e) + stateText(e))}`);
        break;
      }
      case 'child':
        if (e.what === 'exited') out.push(`  child-->>guest: ${mermaidText(tag(e) + childText(e))}`);
        else out.push(`  guest->>child: ${mermaidText(tag(e) + childText(e))}`);
        break;
      case 'transport':
        out.push(`  Note over host,guest: ${mermaidText(tag(e) + transportText(e))}`);
        break;
    }
  }
  flushRun();
  return `${out.join('\n')}\n`;
}

/** A transcript line's text may end with this marker when the recorder shortened it. */
const ELIDED = /\u2026\[(\d+) more bytes\]$/;

/**
 * Convert a shared transcript (JSONL of `{t, dir, bytes, text}` and
 * `{t, dir, eof: true}`, text one char per byte) into trace events, decoded
 * as a proxy between host and guest would see them. Elided bytes
 * (`…[N more bytes]`) are filled with zeros, so a preview reaching into
 * them shows `\x00`. Bad lines are reported in `errors` and skipped.
 */
export function transcriptToTrace(jsonlText: string, options: { readonly session?: string; readonly source?: string } = {}): ParsedTrace {
  const events: TraceEvent[] = [];
  const errors: TraceLineError[] = [];
  const decode = transcriptDecoder((e) => events.push(e), options);
  const lines = jsonlText.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const message = decode(lines[i]!);
    if (message !== null) errors.push({ line: i + 1, message });
  }
  return { header: makeHeader({ started: new Date(0), ...(options.source === undefined ? {} : { source: options.source }) }), events, errors };
}

/**
 * An incremental transcript reader (what {@link transcriptToTrace} and
 * `stapsh-trace follow` use): feed it one transcript line at a time; decoded
 * events go to `emit`. Returns null for a line it took (or a blank one), or
 * why the line was skipped.
 */
export function transcriptDecoder(emit: (e: TraceEvent) => void, options: { readonly session?: string } = {}): (line: string) => string | null {
  let now = 0;
  const rec = wireRecorder(emit, { session: options.session ?? 'transcript', actor: 'proxy', clock: () => now });
  return (line) => {
    const raw = line.trim();
    if (raw === '') return null;
    let o: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(raw);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
      o = v as Record<string, unknown>;
      if (typeof o.t !== 'number' || !Number.isFinite(o.t)) throw new Error('"t" is not a number');
      if (o.dir !== 'host->guest' && o.dir !== 'guest->host') throw new Error(`bad "dir" ${JSON.stringify(o.dir)}`);
      if (o.eof !== true && typeof o.text !== 'string') throw new Error('neither "text" nor "eof"');
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
    now = o.t as number;
    const dir = o.dir as TraceDirection;
    if (o.eof === true) {
      rec.end(dir);
      return null;
    }
    let text = o.text as string;
    let missing = 0;
    const m = ELIDED.exec(text);
    if (m) {
      missing = Number(m[1]);
      text = text.slice(0, m.index);
    }
    const bytes = new Uint8Array(text.length + missing);
    for (let k = 0; k < text.length; k++) bytes[k] = text.charCodeAt(k) & 0xff;
    rec(dir, bytes);
    return null;
  };
}

/** Which format a JSONL text is in, judged by its first non-empty line that is a JSON object. */
export function detectFormat(text: string): 'trace' | 'transcript' | null {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    try {
      const o = JSON.parse(line) as Record<string, unknown> | null;
      if (typeof o !== 'object' || o === null) continue;
      if (o.type === 'header' || 'kind' in o) return 'trace';
      if ('dir' in o) return 'transcript';
    } catch {
      // keep looking
    }
  }
  return null;
}

/** Read a trace or a transcript (auto-detected); null when it is neither. */
export function readAnyTrace(text: string, options: { readonly source?: string } = {}): (ParsedTrace & { readonly format: 'trace' | 'transcript' }) | null {
  const format = detectFormat(text);
  if (format === null) return null;
  if (format === 'trace') return { ...parseTrace(text), format };
  return { ...transcriptToTrace(text, options), format };
}

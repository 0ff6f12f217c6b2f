/**
 * A frame's recorded bytes, for inspection: the inverse of `escapeBytes`,
 * the bytes a frame event still holds (its line, or its header and payload
 * preview), a hex dump with text side by side, and `run` arguments decoded
 * from quoted-printable. Pure: no Node APIs.
 */

import { qpDecode } from '../protocol/quotedPrintable.js';
import type { TraceFrameEvent } from './format.js';

/**
 * The bytes an `escapeBytes` text stands for (`\\`, `\n`, `\r`, `\t`,
 * `\xHH`, anything else one byte per character, low 8 bits). A trailing
 * `…` (a summary's cut mark) is dropped.
 */
export function unescapeBytes(text: string): Uint8Array {
  const src = text.endsWith('…') ? text.slice(0, -1) : text;
  const out = new Uint8Array(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\' && i + 1 < src.length) {
      const d = src[i + 1]!;
      if (d === '\\') (out[n++] = 0x5c), i++;
      else if (d === 'n') (out[n++] = 0x0a), i++;
      else if (d === 'r') (out[n++] = 0x0d), i++;
      else if (d === 't') (out[n++] = 0x09), i++;
      else if (d === 'x' && /^[0-9a-fA-F]{2}$/.test(src.slice(i + 2, i + 4))) {
        out[n++] = Number.parseInt(src.slice(i + 2, i + 4), 16);
        i += 3;
      } else out[n++] = 0x5c;
      continue;
    }
    out[n++] = c.charCodeAt(0) & 0xff;
  }
  return out.slice(0, n);
}

/** What a frame event still holds of its wire bytes. */
export interface FrameBytes {
  /** The bytes in wire order, as far as the trace kept them. */
  readonly bytes: Uint8Array;
  /** How many wire bytes the frame covered (its `bytes` field). */
  readonly total: number;
  /** True when `bytes` is all of them. */
  readonly complete: boolean;
  /** Why the rest is missing, when it is. */
  readonly note?: string;
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

function join(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The bytes of a frame as recorded: a command or reply line (its summary
 * and `\n`), a data frame's header line and payload preview, a payload's or
 * a raw chunk's preview. The trace keeps at most 256 bytes of a line and
 * 64 of a payload (a burst of data frames: the first frame's); `note` says so.
 */
export function frameBytes(e: TraceFrameEvent): FrameBytes {
  const total = e.bytes;
  const finish = (bytes: Uint8Array, note: string): FrameBytes =>
    bytes.length >= total ? { bytes, total, complete: true } : { bytes, total, complete: false, note };
  const preview = e.preview === undefined ? new Uint8Array(0) : unescapeBytes(e.preview);
  switch (e.frame) {
    case 'command':
    case 'reply':
    case 'error': {
      const cut = e.summary.endsWith('…');
      const line = join([unescapeBytes(e.summary), cut ? new Uint8Array(0) : ascii('\n')]);
      return finish(line, cut ? `the trace keeps the first ${line.length} bytes of this ${total}-byte line` : `the trace keeps ${line.length} of ${total} bytes`);
    }
    case 'data': {
      if ((e.frames ?? 1) > 1) {
        return { bytes: preview, total, complete: false, note: `${e.frames} frames recorded as one event: the trace keeps the first frame's first ${preview.length} payload bytes, not the headers or the rest of the ${e.size ?? '?'} payload bytes` };
      }
      const header = ascii(`data ${e.stream ?? 'stdout'} ${e.size ?? preview.length}\n`);
      return finish(join([header, preview]), `the trace keeps the header and the first ${preview.length} of ${e.size ?? '?'} payload bytes`);
    }
    default:
      return finish(preview, `the trace keeps the first ${preview.length} of ${total} bytes`);
  }
}

const hex2 = (b: number) => b.toString(16).padStart(2, '0');

/**
 * A hex dump, 16 bytes a line: offset (8 hex digits), the bytes in hex
 * (a gap after 8), and the printable ASCII with `.` for the rest.
 */
export function hexDump(bytes: Uint8Array, offset = 0): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    let hex = '';
    let text = '';
    for (let i = 0; i < 16; i++) {
      if (i === 8) hex += ' ';
      hex += i < row.length ? `${hex2(row[i]!)} ` : '   ';
      if (i < row.length) text += row[i]! >= 0x20 && row[i]! < 0x7f ? String.fromCharCode(row[i]!) : '.';
    }
    lines.push(`${(offset + at).toString(16).padStart(8, '0')}  ${hex} |${text}|`);
  }
  return lines.join('\n');
}

/** The bytes of a hex dump made by `hexDump` (its hex columns). */
export function parseHexDump(dump: string): Uint8Array {
  const out: number[] = [];
  for (const line of dump.split('\n')) {
    if (line === '') continue;
    const hex = line.slice(10, 10 + 16 * 3 + 1);
    for (const h of hex.trim().split(/\s+/)) if (h !== '') out.push(Number.parseInt(h, 16));
  }
  return Uint8Array.from(out);
}

/** A `run` command's words, each argument decoded from quoted-printable. */
export interface DecodedRun {
  /** The command line with every argument decoded (undecodable ones as they were), escaped as summaries are. */
  readonly decoded: string;
  /** The words as sent. */
  readonly raw: readonly string[];
  /** The decoded arguments as text (latin-1 one char a byte), `null` where the encoding is invalid. */
  readonly args: readonly (string | null)[];
  /** True when some argument reads differently decoded. */
  readonly changed: boolean;
}

/** Text for bytes: printable ASCII as is, others escaped as in summaries. */
function show(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) {
    if (b === 0x5c) s += '\\\\';
    else if (b === 0x0a) s += '\\n';
    else if (b === 0x0d) s += '\\r';
    else if (b === 0x09) s += '\\t';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\x${hex2(b)}`;
  }
  return s;
}

/**
 * Decode a `run` line (a frame's escaped summary) as the guest would: words
 * split at spaces, every word after `run` quoted-printable. Null when the
 * line is not a `run` command.
 */
export function decodeRunLine(summary: string): DecodedRun | null {
  const cut = summary.endsWith('…');
  const line = unescapeBytes(summary);
  const words: Uint8Array[] = [];
  let start = -1;
  for (let i = 0; i <= line.length; i++) {
    const sep = i === line.length || line[i] === 0x20 || line[i] === 0x09;
    if (sep && start >= 0) {
      words.push(line.subarray(start, i));
      start = -1;
    } else if (!sep && start < 0) start = i;
  }
  if (words.length === 0 || show(words[0]!) !== 'run') return null;
  const raw = words.map(show);
  const args: (string | null)[] = [];
  const shown: string[] = ['run'];
  for (const w of words.slice(1)) {
    const d = qpDecode(w);
    if (d.ok) {
      args.push(String.fromCharCode(...d.bytes));
      // A decoded argument with a space is shown quoted, so the word boundaries stay visible.
      const text = show(d.bytes);
      shown.push(/[\s"]/.test(text) || text === '' ? JSON.stringify(text) : text);
    } else {
      args.push(null);
      shown.push(show(w));
    }
  }
  const decoded = `${shown.join(' ')}${cut ? '…' : ''}`;
  return { decoded, raw, args, changed: decoded !== summary };
}

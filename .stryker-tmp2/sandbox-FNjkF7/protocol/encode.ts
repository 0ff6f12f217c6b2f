/**
 * Encoders for both directions of the wire: what each line looks like, byte
 * for byte. The machines decide what to say; these decide how it looks.
 *
 * Text parameters are byte strings: one char per byte (latin1), the same
 * form the decoders hand out, so decoding and re-encoding a line is the
 * identity. A char above U+00FF cannot be a byte and is a RangeError, as is
 * anything that would break the line structure (a newline inside a line, a
 * space inside a word). Encoders throw on such programmer errors; decoders
 * never throw.
 */
// @ts-nocheck


import { nonceWord, statusText, type ChildStatus } from './extensions.js';
import { qpEncode } from './quotedPrintable.js';

/** The two output streams of the child, as named in `data` frames. */
export type DataStream = 'stdout' | 'stderr';

/** Bytes of a byte string; throws on chars that are not bytes. */
function bytesOf(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`not a byte string: U+${c.toString(16).toUpperCase()} at ${i}`);
    out[i] = c;
  }
  return out;
}

/** One line: the parts, then `\n`. Parts are byte strings or raw bytes. */
function line(...parts: readonly (string | Uint8Array)[]): Uint8Array {
  const encoded = parts.map((p) => (typeof p === 'string' ? bytesOf(p) : p));
  let size = 1;
  for (const p of encoded) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of encoded) {
    if (p.indexOf(0x0a) >= 0) throw new RangeError('a newline inside a protocol line');
    out.set(p, at);
    at += p.length;
  }
  out[at] = 0x0a;
  return out;
}

/** A word must be non-empty and free of the separators the guest splits on (space, tab, CR, LF). */
function word(what: string, text: string): string {
  if (text.length === 0 || /[ \t\r\n]/.test(text)) throw new RangeError(`${what} must be one non-empty word: ${JSON.stringify(text)}`);
  return text;
}

function count(what: string, n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer: ${n}`);
  return String(n);
}

// ---- host → guest -------------------------------------------------------

/** `stap VERSION`: the host's hello; with a nonce, stapflow's `stap VERSION nonce=TOKEN`. */
export function hello(version: string, nonce?: string): Uint8Array {
  return nonce === undefined ? line('stap ', word('version', version)) : line('stap ', word('version', version), ' ', nonceWord(nonce));
}

/** `option NAME` (≥2.4). */
export function option(name: string): Uint8Array {
  return line('option ', word('option name', name));
}

/**
 * `file SIZE NAME`: the header only; exactly SIZE raw bytes of payload
 * follow it on the wire. Limits the guest enforces (1..32000000, the name's
 * characters) are not checked here, so refused headers can be sent on purpose.
 */
export function file(size: number, name: string): Uint8Array {
  return line('file ', count('file size', size), ' ', word('file name', name));
}

/**
 * `run ARG…` with every argument quoted-printable encoded; `run` alone for
 * none. As with SystemTap's host, an empty argument encodes to nothing and
 * so does not reach the guest (it splits on runs of spaces).
 */
export function run(args: readonly Uint8Array[]): Uint8Array {
  return line(['run', ...args.map(qpEncode)].join(' '));
}

/** `quit`: ask the guest to stop the child and exit. */
export function quit(): Uint8Array {
  return line('quit');
}

// ---- guest → host -------------------------------------------------------

/** `stapsh VERSION MACHINE RELEASE`: the guest's hello, MACHINE and RELEASE from uname. */
export function helloReply(version: string, machine: string, release: string, nonce?: string): Uint8Array {
  const words = ['stapsh ', word('version', version), ' ', word('machine', machine), ' ', word('release', release)];
  return nonce === undefined ? line(...words) : line(...words, ' ', nonceWord(nonce));
}

/** `OK`. */
export function ok(): Uint8Array {
  return line('OK');
}

/** `ERROR: MESSAGE`. The message may carry raw bytes (a file name, an argument) but no newline. */
export function error(message: string | Uint8Array): Uint8Array {
  return line('ERROR: ', message);
}

/** `data STREAM N`: a frame header (data mode, ≥2.4); exactly N raw bytes follow it. */
export function dataHeader(stream: DataStream, n: number): Uint8Array {
  return line('data ', stream, ' ', count('frame size', n));
}

/** `status CODE` / `status signal NUM`: stapflow's report of the child's end, just before `quit` (`option status`). */
export function statusLine(status: ChildStatus): Uint8Array {
  return line(statusText(status));
}

/** `quit`: the guest's announcement, in data mode, that it is about to exit. */
export function quitLine(): Uint8Array {
  return line('quit');
}

/**
 * A debug line (`-v`, `option verbose`), which hosts skip by its `stapsh:`
 * prefix. With `where` it has SystemTap's form `stapsh:WHERE TEXT`
 * (e.g. where `reply:198`, text `OK`); without, stapflow's `stapsh: TEXT`.
 */
export function debugLine(text: string | Uint8Array, where?: string): Uint8Array {
  return where === undefined ? line('stapsh: ', text) : line('stapsh:', where, ' ', text);
}

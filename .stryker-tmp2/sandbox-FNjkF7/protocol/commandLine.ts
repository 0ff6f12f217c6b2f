/**
 * What a command line says, as SystemTap's stapsh reads it: words split on
 * space, tab and `\r` (so `stap\r\n` is a hello), the first word naming the
 * command. Validation (sizes, names, options by release) is the guest's job.
 */
// @ts-nocheck


import { latin1 } from './bytes.js';
import { parseNonceWord } from './extensions.js';

/** A command line taken apart into the protocol's vocabulary. */
export type CommandLine =
  /** `nonce`: stapflow's `nonce=TOKEN` as the third word, else null (SystemTap reads only two words). */
  | { readonly command: 'stap'; readonly version: string | null; readonly nonce: string | null }
  | { readonly command: 'option'; readonly name: string | null }
  /** `size` follows C `atoi` (-1 when the word is missing); `name` is raw. */
  | { readonly command: 'file'; readonly size: number; readonly name: Uint8Array | null }
  /** Arguments still quoted-printable encoded, one word each. */
  | { readonly command: 'run'; readonly args: readonly Uint8Array[] }
  | { readonly command: 'quit' }
  /** The pre-1.5 draft: `arg SIZE`, one argument of SIZE raw bytes following (C `atoi`, -1 when missing). */
  | { readonly command: 'arg'; readonly size: number }
  /** The pre-1.5 draft: `signal NUM` for the child (C `atoi`). */
  | { readonly command: 'signal'; readonly number: number }
  /** Anything else, including an empty line: real guests answer nothing. */
  | { readonly command: 'unknown'; readonly word: string };

/** Bytes that separate words on a command line. */
export function isSeparator(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d || byte === 0x0a;
}

/** Split a line into its words (views into `line`). */
export function splitWords(line: Uint8Array): Uint8Array[] {
  const words: Uint8Array[] = [];
  let start = -1;
  for (let i = 0; i <= line.length; i++) {
    const sep = i === line.length || isSeparator(line[i]!);
    if (sep) {
      if (start >= 0) words.push(line.subarray(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  return words;
}

/** LONG_MAX and LONG_MIN of an LP64 C library, where strtol clamps. */
const LONG_MAX = 2n ** 63n - 1n;
const LONG_MIN = -(2n ** 63n);

/**
 * C `atoi` on an LP64 glibc: `(int) strtol(s, NULL, 10)`. Leading white
 * space and one sign are allowed, digits are read until the first non-digit,
 * no digits read as 0, overflow clamps to LONG_MAX/LONG_MIN and the cast to
 * int keeps the low 32 bits (so 99999999999999999999 reads as -1).
 */
export function cAtoi(word: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(word);
  const digits = m?.[2] ?? '';
  if (digits === '') return 0;
  let value = BigInt(digits);
  if (m?.[1] === '-') value = -value;
  if (value > LONG_MAX) value = LONG_MAX;
  if (value < LONG_MIN) value = LONG_MIN;
  return Number(BigInt.asIntN(32, value));
}

/** Parse one command line (without its newline). */
export function parseCommandLine(line: Uint8Array): CommandLine {
  const words = splitWords(line);
  const first = words[0];
  const verb = first === undefined ? '' : latin1(first);
  switch (verb) {
    case 'stap':
      return { command: 'stap', version: words[1] ? latin1(words[1]) : null, nonce: parseNonceWord(words[2] ? latin1(words[2]) : undefined) };
    case 'option':
      return { command: 'option', name: words[1] ? latin1(words[1]) : null };
    case 'file':
      return {
        command: 'file',
        size: words[1] ? cAtoi(latin1(words[1])) : -1,
        name: words[2] ?? null,
      };
    case 'run':
      return { command: 'run', args: words.slice(1) };
    case 'quit':
      return { command: 'quit' };
    case 'arg':
      return { command: 'arg', size: words[1] ? cAtoi(latin1(words[1])) : -1 };
    case 'signal':
      return { command: 'signal', number: words[1] ? cAtoi(latin1(words[1])) : -1 };
    default:
      return { command: 'unknown', word: verb };
  }
}

/**
 * A line that is not a `stap` command but ends in one (bytes a dead session
 * left without a newline, glued to the next hello): that hello, else null.
 */
export function gluedHello(line: Uint8Array): Extract<CommandLine, { command: 'stap' }> | null {
  if (parseCommandLine(line).command === 'stap') return null;
  const at = latin1(line).search(/stap([ \t\r][^\n]*)?$/);
  if (at <= 0) return null;
  const hello = parseCommandLine(line.subarray(at));
  return hello.command === 'stap' ? hello : null;
}

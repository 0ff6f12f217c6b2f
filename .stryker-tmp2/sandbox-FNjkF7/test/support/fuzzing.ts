/**
 * Parser fuzzing for both decoders (issue #5): generators of adversarial
 * inputs, independent reference models, and the property checks. One copy,
 * used by `test/protocol/fuzz.test.ts` (through vitest) and by
 * `bench/fuzz.mjs` (plain Node: it transpiles this file with TypeScript and
 * points the two decoder imports at `dist/protocol/`). So this module imports
 * nothing but fast-check, Node builtins and the two decoders — keep it so.
 *
 * Each property run feeds an array of inputs (`batch`), so a million inputs
 * cost far fewer fast-check runs; `stats` counts them.
 *
 * What is checked, for every input and every chunking of it:
 * - the decoder never throws;
 * - every item/event is well-formed (lines without `\n` and within the cap,
 *   over-long reports above the cap, payload/frame parts adding up, `last`
 *   exactly on a frame's final part, error messages naming the problem);
 * - after the decoder asks for more input, `bufferedBytes` is within the line
 *   cap (0 inside a payload/frame and in raw mode), and 0 after the end;
 * - the merged items equal an independent whole-input model, so an error
 *   never swallows the valid commands/frames the protocol says follow it;
 * - (`reply-chaos`) with mode switches at any moment, no bytes are dropped
 *   without an event that accounts for them.
 */
// @ts-nocheck


import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { CommandDecoder, type CommandItem } from '../../protocol/commandDecoder.js';
import { ReplyDecoder, type ReplyEvent, type ReplyMode } from '../../protocol/replyDecoder.js';
import { parseNonceWord } from '../../protocol/extensions.js';

// ---- shared bits --------------------------------------------------------------

/** The decoders' default line cap (both: 64 KiB) and the reply decoder's frame cap (16 MiB). */
export const DEFAULT_LINE_CAP = 64 * 1024;
export const DEFAULT_FRAME_CAP = 16 * 1024 * 1024;
/** Largest `file` payload a guest accepts (SystemTap: 32000000). */
const MAX_FILE_SIZE = 32_000_000;
const NL = 0x0a;

/** Inputs fed so far, per decoder (all properties and runs in this process). */
export const stats = {
  command: { inputs: 0, bytes: 0, knownBugHits: 0 },
  reply: { inputs: 0, bytes: 0, knownBugHits: 0 },
};

/**
 * Product bugs found by fuzzing, tolerated by the default properties (so
 * they keep checking everything else) and asserted by the `-strict`
 * variants, which fail until the product is fixed. See the report / README
 * of issue #5. Set a flag to false once its bug is fixed.
 */
export const KNOWN_BUGS = {
  /**
   * CommandDecoder: a last line longer than the cap, without `\n`, is never
   * reported as `overlong` when `next()` already returned null before `end()`
   * (the usual pull pattern): `next()` returns null on `buffered === 0`
   * before looking at its discard state. Fixed: kept as a regression check.
   */
  commandOverlongAtEof: false,
  /**
   * ReplyDecoder: switching to `raw` while an over-long line is being
   * discarded (between `next()` calls that returned null) drops the bytes
   * discarded so far without any `line-too-long` error. Fixed: kept as a regression check.
   */
  replyRawSwitchDropsOverlong: false,
};

const latin1 = (b: Uint8Array, from = 0, to = b.length): string =>
  Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('latin1');
const fromLatin1 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A short printable form of a string for failure messages. */
function show(s: string): string {
  return JSON.stringify(s.length > 160 ? `${s.slice(0, 160)}…(${s.length})` : s);
}

class Violation extends Error {
  override name = 'FuzzViolation';
}
function fail(message: string): never {
  throw new Violation(message);
}

/** How an input is cut into pushes. */
export type Chunking = { readonly cuts: readonly number[] } | { readonly every: number };

function chunk(bytes: Uint8Array, how: Chunking): Uint8Array[] {
  if ('every' in how) {
    // At most ~512 pushes, so the 64 KiB-cap inputs stay cheap.
    const k = Math.max(how.every, Math.ceil(bytes.length / 512));
    const out: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += k) out.push(bytes.subarray(i, i + k));
    return out;
  }
  const points = [...new Set(how.cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    out.push(bytes.subarray(at, p)); // empty parts kept: pushing nothing must be harmless
    at = p;
  }
  out.push(bytes.subarray(at));
  return out;
}

function firstDifference(actual: readonly string[], expected: readonly string[]): string | null {
  const n = Math.max(actual.length, expected.length);
  for (let i = 0; i < n; i++) {
    if (actual[i] !== expected[i]) {
      return `item ${i}: decoder ${actual[i] === undefined ? '(nothing)' : show(actual[i]!)}, model ${
        expected[i] === undefined ? '(nothing)' : show(expected[i]!)
      } (decoder ${actual.length} items, model ${expected.length})`;
    }
  }
  return null;
}

// ---- generators -------------------------------------------------------------------

/** Any byte, biased towards the ones parsers trip on. */
const byteArb = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }) },
  { weight: 2, arbitrary: fc.constantFrom(0x00, 0xff, NL, 0x0d, 0x20, 0x09, 0x3d, 0x2d, 0x30, 0x39) },
);
const garbageArb = fc.array(byteArb, { maxLength: 48 }).map((a) => Uint8Array.from(a));
/** A latin1 string (one char per byte), `\n` included. */
const latin1TextArb = fc.string({ unit: byteArb.map((b) => String.fromCharCode(b)), maxLength: 40 });
/** Fill byte of an over-long line: anything but `\n`. */
const fillArb = byteArb.map((b) => (b === NL ? 0x78 : b));
/** How far an over-long line goes past the cap (or stays just under it). */
const overArb = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: -2, max: 3 }) }, { weight: 1, arbitrary: fc.integer({ min: 4, max: 400 }) });
const chunkingArb: fc.Arbitrary<Chunking> = fc.oneof(
  fc.record({ cuts: fc.array(fc.nat(), { maxLength: 12 }) }),
  fc.record({ every: fc.integer({ min: 1, max: 9 }) }),
);
/** Line caps: small ones make over-long lines cheap; now and then the real default. */
const capArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(1, 4, 13, 16) },
  { weight: 12, arbitrary: fc.constantFrom(40, 64, 255) },
  { weight: 1, arbitrary: fc.constant(DEFAULT_LINE_CAP) },
);

/** A segment of a long line: `cap + over` bytes of `fill`, maybe with a `\n`. */
interface LongSeg {
  readonly k: 'long';
  readonly over: number;
  readonly fill: number;
  readonly nl: boolean;
}
const longSegArb: fc.Arbitrary<LongSeg> = fc.record({ k: fc.constant('long'), over: overArb, fill: fillArb, nl: fc.boolean() });
function renderLong(s: LongSeg, cap: number): Uint8Array {
  const n = Math.max(0, cap + s.over);
  const out = new Uint8Array(n + (s.nl ? 1 : 0)).fill(s.fill);
  if (s.nl) out[n] = NL;
  return out;
}

// -- host → guest

export type CommandSeg =
  | { readonly k: 'line'; readonly text: string }
  | { readonly k: 'file'; readonly size: string; readonly name: string; readonly payload: Uint8Array }
  | { readonly k: 'bytes'; readonly bytes: Uint8Array }
  | LongSeg;

const commandLines = [
  'stap 4.8', 'stap', 'stap\r', 'stap\x004.8', 'option data', 'option verbose', 'option', 'OPTION data',
  'run ./a.ko', 'run', 'run =00 =FF a=3Db', 'quit', 'quit now', '', ' ', '\r', '\t', '\x00', '\xff\xff',
  'file', 'file 5', 'file -1 a', 'file 99999999999999999999 a', 'file -99999999999999999999 a', 'file 0 a',
  'file 32000001 a', 'file 4294967296 a', 'file 4294967301 a', 'file -4294967295 a', 'file +3 a', 'file 3x a',
  'file \t2\r b', 'data stdout 5', 'data', 'data stdout -5',
];
const commandSegArb: fc.Arbitrary<CommandSeg> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('line' as const), text: fc.constantFrom(...commandLines) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('line' as const), text: latin1TextArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('file' as const),
      size: fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: -3, max: 60 }).map(String) },
        {
          weight: 2,
          arbitrary: fc.constantFrom('-1', '99999999999999999999', '4294967296', '4294967301', '-4294967295', '0', '+7', ' 7', '7x', '', '0x10', '32000001'),
        },
        { weight: 1, arbitrary: fc.constant('32000000') },
      ),
      name: fc.constantFrom('a.ko', 'a', '', 'b.so', '..', 'x y', '\xff'),
      payload: fc.uint8Array({ maxLength: 60 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('bytes' as const), bytes: garbageArb }) },
  { weight: 2, arbitrary: longSegArb },
);

export interface CommandInput {
  /** The line cap; `DEFAULT_LINE_CAP` is passed as no option at all (the real default). */
  readonly cap: number;
  readonly segs: readonly CommandSeg[];
  readonly chunking: Chunking;
  /** Whether to drain `next()` after each push, cycled over the pushes. */
  readonly drain: readonly boolean[];
}

export const commandInputArb: fc.Arbitrary<CommandInput> = fc.record({
  cap: capArb,
  segs: fc.array(commandSegArb, { maxLength: 10 }),
  chunking: chunkingArb,
  drain: fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
});

export function renderCommand(input: CommandInput): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const s of input.segs) {
    if (s.k === 'line') parts.push(fromLatin1(`${s.text}\n`));
    else if (s.k === 'file') parts.push(fromLatin1(`file ${s.size} ${s.name}\n`), s.payload);
    else if (s.k === 'bytes') parts.push(s.bytes);
    else parts.push(renderLong(s, input.cap));
  }
  return concat(parts);
}

// -- guest → host

export type ReplySeg =
  | { readonly k: 'line'; readonly text: string }
  | { readonly k: 'frame'; readonly stream: 'stdout' | 'stderr'; readonly style: HeaderStyle; readonly payload: Uint8Array; readonly short: number }
  | { readonly k: 'oversize'; readonly stream: 'stdout' | 'stderr'; readonly over: number; readonly fill: number }
  | { readonly k: 'bytes'; readonly bytes: Uint8Array }
  | LongSeg;
type HeaderStyle = 'plain' | 'zeros' | 'manyZeros' | 'spaces' | 'cr';

/** What an honest guest says in lines mode (and debug/quit in any mode). */
const replyLines = [
  'OK', 'ERROR: Bad file name', 'ERROR: Invalid option', 'stapsh 4.8 x86_64 6.1.0', 'stapsh 2.4 aarch64 5.10.0-28-arm64',
  'stapsh: reply: OK', 'stapsh: command: run', 'quit',
];
/** Reply lines that are odd, and headers the protocol does not allow, or allows only as too large. */
const oddReplyLines = [
  'OK\r', 'ok', 'ERROR:x', 'ERROR:', 'ERROR:  two', 'stapsh\t4.8 x86_64\r6.1.0', 'stapsh 4.8 x86_64', 'stapsh:', 'quit ',
  'Quit', '', ' ', '\x00', '\xff\xfe', 'stap 4.8',
  'data', 'data ', 'data stdout', 'data stdout -5', 'data stdout +5', 'data foo 5', 'data stdin 1', 'data stdout 5 6',
  'data stdout 1e3', 'data stdout 0x10', 'DATA stdout 5', 'data stdout 5x', 'datastdout 5', 'data\x00stdout 5',
  'data stdout 4294967296', 'data stdout 99999999999999999999', 'data stderr 16777217', 'data stdout 000000000000000000000',
];
const streamArb = fc.constantFrom('stdout' as const, 'stderr' as const);
const replySegArb: fc.Arbitrary<ReplySeg> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('line' as const), text: fc.constantFrom(...replyLines) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('line' as const), text: fc.constantFrom(...oddReplyLines) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('line' as const), text: latin1TextArb }) },
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('frame' as const),
      stream: streamArb,
      style: fc.constantFrom<HeaderStyle>('plain', 'plain', 'zeros', 'manyZeros', 'spaces', 'cr'),
      payload: fc.uint8Array({ maxLength: 48 }),
      // bytes of payload left out (desynchronises on purpose), usually none
      short: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }) }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('oversize' as const), stream: streamArb, over: fc.integer({ min: 1, max: 40 }), fill: byteArb }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('bytes' as const), bytes: garbageArb }) },
  { weight: 2, arbitrary: longSegArb },
);

const modeArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant<ReplyMode>('lines') },
  { weight: 3, arbitrary: fc.constant<ReplyMode>('framed') },
  { weight: 1, arbitrary: fc.constant<ReplyMode>('raw') },
);

export interface ReplyInput {
  readonly cap: number;
  /** The frame cap; `DEFAULT_FRAME_CAP` is passed as no option. */
  readonly maxFrame: number;
  readonly mode: ReplyMode;
  readonly segs: readonly ReplySeg[];
  readonly chunking: Chunking;
  /**
   * `reply`: after the i-th event that does not depend on chunking (anything
   * but a non-final `data` part), switch to `switches[i]` (null: stay).
   * `reply-chaos`: before the i-th `next()` call, cycled.
   */
  readonly switches: readonly (ReplyMode | null)[];
  /** `reply`: read events through a sink (`push(chunk, sink)`) or by pulling `next()`. */
  readonly sink: boolean;
}

export const replyInputArb: fc.Arbitrary<ReplyInput> = fc.record({
  cap: capArb,
  maxFrame: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(0, 16, 64, 255) },
    { weight: 1, arbitrary: fc.constant(DEFAULT_FRAME_CAP) },
  ),
  mode: modeArb,
  segs: fc.array(replySegArb, { maxLength: 16 }),
  chunking: chunkingArb,
  switches: fc.array(fc.option(modeArb, { nil: null, freq: 2 }), { maxLength: 12 }),
  sink: fc.boolean(),
});

function header(stream: string, size: number, style: HeaderStyle): string {
  switch (style) {
    case 'plain':
      return `data ${stream} ${size}`;
    case 'zeros':
      return `data ${stream} 000${size}`;
    case 'manyZeros':
      return `data ${stream} ${'0'.repeat(18)}${size}`;
    case 'spaces':
      return `data  ${stream}\t${size} `;
    case 'cr':
      return `data ${stream} ${size}\r`;
  }
}

export function renderReply(input: ReplyInput): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const s of input.segs) {
    if (s.k === 'line') parts.push(fromLatin1(`${s.text}\n`));
    else if (s.k === 'frame') {
      parts.push(fromLatin1(`${header(s.stream, s.payload.length, s.style)}\n`), s.payload.subarray(0, Math.max(0, s.payload.length - s.short)));
    } else if (s.k === 'oversize') {
      // An honest guest's frame over the cap: header and all its payload (only for small caps).
      const size = input.maxFrame + s.over;
      parts.push(fromLatin1(`data ${s.stream} ${size}\n`));
      if (size <= 4096) parts.push(new Uint8Array(size).fill(s.fill));
    } else if (s.k === 'bytes') parts.push(s.bytes);
    else parts.push(renderLong(s, input.cap));
  }
  return concat(parts);
}

// ---- CommandDecoder ----------------------------------------------------------------

/** C `atoi` on LP64 glibc (strtol, clamped, low 32 bits): an independent copy for the model. */
function atoi(word: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(word)!;
  if (m[2] === '') return 0;
  let v = BigInt(m[2]!);
  if (m[1] === '-') v = -v;
  const max = 2n ** 63n - 1n;
  if (v > max) v = max;
  if (v < -max - 1n) v = -max - 1n;
  return Number(BigInt.asIntN(32, v));
}

/** The guest's verdict on a line: payload bytes to expect after it (0: none). */
export function payloadAfter(line: Uint8Array): number {
  const words = latin1(line).split(/[ \t\r\n]+/).filter((w) => w.length > 0);
  if (words[0] !== 'file' || words[1] === undefined) return 0;
  const size = atoi(words[1]);
  return size > 0 && size <= MAX_FILE_SIZE ? size : 0;
}

/** The whole-input model: `line:TEXT`, `overlong:N`, `payload:TEXT`, `truncated:N`. */
export function modelCommand(bytes: Uint8Array, cap: number): { items: string[]; eofOverlong: boolean } {
  const items: string[] = [];
  let pos = 0;
  let eofOverlong = false;
  while (pos < bytes.length) {
    const nl = bytes.indexOf(NL, pos);
    const end = nl < 0 ? bytes.length : nl;
    const len = end - pos;
    if (len > cap) {
      items.push(`overlong:${len}`);
      eofOverlong = nl < 0;
      pos = end + 1;
      continue;
    }
    const line = bytes.subarray(pos, end);
    items.push(`line:${latin1(line)}`);
    pos = end + 1;
    const size = payloadAfter(line);
    if (size > 0) {
      const n = Math.min(size, Math.max(0, bytes.length - pos));
      items.push(`payload:${latin1(bytes, Math.min(pos, bytes.length), Math.min(pos, bytes.length) + n)}`);
      pos += n;
      if (n < size) items.push(`truncated:${size - n}`);
    }
  }
  return { items, eofOverlong };
}

/** Decode like the guest pump does, checking every item and the buffer bound; merged items. */
export function decodeCommand(input: CommandInput, bytes: Uint8Array): string[] {
  const cap = input.cap;
  const d = new CommandDecoder(cap === DEFAULT_LINE_CAP ? {} : { maxLineBytes: cap });
  const items: string[] = [];
  let payload: Uint8Array[] = [];
  let expecting = 0; // payload bytes still owed, as we track them
  const pull = (ended: boolean) => {
    for (;;) {
      const item: CommandItem | null = d.next();
      if (item === null) break;
      if (item.type === 'line') {
        if (expecting > 0) fail('a line while a payload was expected');
        if (!(item.bytes instanceof Uint8Array)) fail('line bytes are not a Uint8Array');
        if (item.bytes.length > cap) fail(`line of ${item.bytes.length} bytes over the cap ${cap}`);
        if (item.bytes.includes(NL)) fail(`line contains a newline: ${show(latin1(item.bytes))}`);
        items.push(`line:${latin1(item.bytes)}`);
        const size = payloadAfter(item.bytes);
        if (size > 0) {
          d.expectPayload(size);
          expecting = size;
          if (!d.inPayload) fail('inPayload false right after expectPayload');
        }
      } else if (item.type === 'overlong') {
        if (expecting > 0) fail('an overlong line while a payload was expected');
        if (!Number.isSafeInteger(item.length) || item.length <= cap) fail(`overlong length ${item.length} not above the cap ${cap}`);
        items.push(`overlong:${item.length}`);
      } else if (item.type === 'payload') {
        if (expecting === 0) fail('payload bytes nobody asked for');
        if (item.bytes.length === 0) fail('empty payload part');
        if (item.remaining !== expecting - item.bytes.length) fail(`payload remaining ${item.remaining}, expected ${expecting - item.bytes.length}`);
        expecting = item.remaining;
        payload.push(item.bytes.slice()); // a view of the chunk: copy, as documented
        if (expecting === 0) {
          items.push(`payload:${latin1(concat(payload))}`);
          payload = [];
        }
      } else {
        fail(`unknown item ${JSON.stringify(item)}`);
      }
    }
    // Bounded buffering: asked for more input, the decoder holds at most a partial line.
    if (d.inPayload !== expecting > 0) fail(`inPayload ${d.inPayload} while ${expecting} payload bytes are owed`);
    if (expecting > 0 && d.bufferedBytes !== 0) fail(`${d.bufferedBytes} bytes held inside a payload`);
    if (d.bufferedBytes > cap) fail(`${d.bufferedBytes} bytes held, over the cap ${cap}`);
    if (ended && d.bufferedBytes !== 0) fail(`${d.bufferedBytes} bytes held after the end`);
  };
  const chunks = chunk(bytes, input.chunking);
  chunks.forEach((c, i) => {
    d.push(c);
    if (input.drain[i % input.drain.length]) pull(false);
  });
  // end() judges what it knows: a payload still owed beyond the bytes held.
  const owed = expecting - d.bufferedBytes;
  const end = d.end();
  if (end.type === 'truncatedPayload') {
    if (!(end.missing > 0) || end.missing !== owed) fail(`end() says ${end.missing} bytes missing, ${owed} are`);
  } else if (end.type !== 'clean') {
    fail(`unknown end ${JSON.stringify(end)}`);
  } else if (owed > 0) {
    fail(`end() says clean while ${owed} payload bytes are missing`);
  }
  pull(true);
  if (d.next() !== null) fail('next() not null after it returned null at the end');
  // A payload still owed now can never complete (also one whose `file` line was pulled after end()).
  if (expecting > 0) {
    if (end.type === 'truncatedPayload' && end.missing !== expecting) fail(`end() said ${end.missing} bytes missing, ${expecting} are`);
    items.push(`payload:${latin1(concat(payload))}`, `truncated:${expecting}`);
  }
  return items;
}

/** The `command` property's check of one input. `strict`: no tolerance for known bugs. */
export function checkCommandInput(input: CommandInput, strict = false): void {
  const bytes = renderCommand(input);
  stats.command.inputs++;
  stats.command.bytes += bytes.length;
  let actual: string[];
  try {
    actual = decodeCommand(input, bytes);
  } catch (e) {
    if (e instanceof Violation) throw e;
    throw new Violation(`CommandDecoder threw: ${(e as Error)?.stack ?? String(e)}`);
  }
  const model = modelCommand(bytes, input.cap);
  let diff = firstDifference(actual, model.items);
  if (diff !== null && !strict && KNOWN_BUGS.commandOverlongAtEof && model.eofOverlong) {
    if (firstDifference(actual, model.items.slice(0, -1)) === null) {
      stats.command.knownBugHits++;
      diff = null;
    }
  }
  if (diff !== null) fail(`CommandDecoder differs from the model at ${diff}`);
}

// ---- ReplyDecoder ------------------------------------------------------------------

const WORDS = /[ \t\r]+/;
const words = (text: string) => text.split(WORDS).filter((w) => w.length > 0);

/** The model's reading of a reply line's meaning. */
function classify(text: string): string {
  if (text === 'OK') return 'ok';
  if (text.startsWith('ERROR:')) {
    const rest = text.slice(6);
    return `error:${rest.startsWith(' ') ? rest.slice(1) : rest}`;
  }
  // A hello is the last four words (five with a nonce), the first of them `stapsh` or, glued
  // behind a dead session's bytes, ending in it.
  const w = words(text);
  const h = w.slice(parseNonceWord(w[w.length - 1]) !== null && w.length >= 5 ? -5 : -4);
  if (h.length >= 4 && h[0]!.endsWith('stapsh')) return `hello:${h[1]}/${h[2]}/${h[3]}`;
  return 'other';
}

/** An event, or a merged run of `data` parts, as a comparable string. */
type Merged = string;
const isCountable = (e: ReplyEvent) => e.type !== 'data' || e.last;

/** The whole-input model, with the same switch schedule (after countable events). */
export function modelReply(bytes: Uint8Array, input: ReplyInput): Merged[] {
  const { cap, maxFrame, switches } = input;
  let mode = input.mode;
  let countable = 0;
  const out: Merged[] = [];
  const emit = (s: Merged, counts: boolean) => {
    out.push(s);
    if (counts) {
      const m = switches[countable++];
      if (m) mode = m;
    }
  };
  let pos = 0;
  const len = bytes.length;
  let frame: { stream: string; left: number; skip: boolean } | null = null;
  for (;;) {
    if (frame !== null) {
      const n = Math.min(frame.left, len - pos);
      const text = latin1(bytes, pos, pos + n);
      pos += n;
      frame.left -= n;
      if (frame.left === 0) {
        const f = frame;
        frame = null;
        if (!f.skip) emit(`data|${f.stream}|${text}|last`, true);
        continue;
      }
      if (!frame.skip) {
        if (n > 0) emit(`data|${frame.stream}|${text}|part`, false);
        emit(`error|truncated-frame|${frame.stream}|${frame.left}`, true);
      }
      break;
    }
    if (pos >= len) break;
    if (mode === 'raw') {
      emit(`data|stdout|${latin1(bytes, pos)}|part`, false);
      break;
    }
    const nl = bytes.indexOf(NL, pos);
    if (nl < 0) {
      const rest = len - pos;
      emit(rest > cap ? `error|line-too-long|${rest}` : `error|truncated-line|${latin1(bytes, pos)}`, true);
      break;
    }
    if (nl - pos > cap) {
      emit(`error|line-too-long|${nl - pos}`, true);
      pos = nl + 1;
      continue;
    }
    const text = latin1(bytes, pos, nl);
    pos = nl + 1;
    if (text.startsWith('stapsh:')) emit(`debug|${text}`, true);
    else if (text === 'quit') emit('quit', true);
    else if (mode === 'lines') emit(`line|${text}|${classify(text)}`, true);
    else {
      const w = words(text);
      if (w[0] !== 'data') emit(`error|unexpected-line|${text}`, true);
      else if (w.length !== 3 || (w[1] !== 'stdout' && w[1] !== 'stderr') || !/^[0-9]+$/.test(w[2]!)) emit(`error|bad-header|${text}`, true);
      else {
        const size = Number(w[2]);
        const skip = size > maxFrame;
        // Set the frame first: a switch after this event must not cut it short.
        frame = { stream: w[1], left: size, skip };
        emit(skip ? `error|frame-too-large|${text}|${size}` : `frame|${w[1]}|${size}`, true);
      }
    }
  }
  return out;
}

/** What every error message must say, by code. */
const MESSAGES: Record<string, RegExp> = {
  'bad-header': /^malformed data header: "/,
  'unexpected-line': /^unexpected line in data mode: "/,
  'frame-too-large': /^data frame of \S+ bytes exceeds the \d+-byte limit: "/,
  'line-too-long': /^line of \d+ bytes exceeds the line limit$/,
  'truncated-frame': /^input ended \d+ bytes short of a std(out|err) frame$/,
  'truncated-line': /^input ended inside a line: "/,
};

/** Checks events as they come: shape, frame bookkeeping, and the buffer bound. */
class ReplyChecker {
  /** The delivered frame being read, if any. */
  open: { stream: string; left: number } | null = null;
  constructor(
    readonly d: ReplyDecoder,
    readonly cap: number,
    readonly maxFrame: number,
  ) {}

  /** One event, read in `mode`; `ended`: after `end()`. */
  event(e: ReplyEvent, mode: ReplyMode, ended: boolean): void {
    const cap = this.cap;
    const textOk = (t: unknown, what: string) => {
      if (typeof t !== 'string') fail(`${what} text is not a string`);
      if (t.includes('\n')) fail(`${what} text contains a newline: ${show(t)}`);
      if (t.length > cap) fail(`${what} text of ${t.length} chars over the cap ${cap}`);
    };
    switch (e.type) {
      case 'line':
        if (mode !== 'lines') fail(`a line event in ${mode} mode`);
        textOk(e.text, 'line');
        if (!['hello', 'ok', 'error', 'other'].includes(e.reply.kind)) fail(`bad reply kind ${e.reply.kind}`);
        break;
      case 'debug':
        if (mode === 'raw') fail('a debug event in raw mode');
        textOk(e.text, 'debug');
        if (!e.text.startsWith('stapsh:')) fail(`debug event without the stapsh: prefix: ${show(e.text)}`);
        break;
      case 'quit':
        if (mode === 'raw') fail('a quit event in raw mode');
        break;
      case 'frame':
        if (mode !== 'framed') fail(`a frame event in ${mode} mode`);
        if (this.open) fail('a frame inside a frame');
        if (e.stream !== 'stdout' && e.stream !== 'stderr') fail(`bad stream ${String(e.stream)}`);
        if (!Number.isSafeInteger(e.size) || e.size < 0 || e.size > this.maxFrame) fail(`frame size ${e.size} outside 0..${this.maxFrame}`);
        this.open = { stream: e.stream, left: e.size };
        break;
      case 'data': {
        if (!(e.bytes instanceof Uint8Array)) fail('data bytes are not a Uint8Array');
        const o = this.open;
        if (o) {
          if (e.stream !== o.stream) fail(`a ${e.stream} part in a ${o.stream} frame`);
          if (e.bytes.length > o.left) fail(`a part of ${e.bytes.length} bytes, ${o.left} left in the frame`);
          if (e.bytes.length === 0 && o.left !== 0) fail('an empty part of a non-empty frame');
          o.left -= e.bytes.length;
          if (e.last !== (o.left === 0)) fail(`last=${e.last} with ${o.left} bytes left in the frame`);
          if (e.last) this.open = null;
        } else {
          if (mode !== 'raw') fail(`a data event outside a frame in ${mode} mode`);
          if (e.stream !== 'stdout' || e.last || e.bytes.length === 0) fail('a raw data event that is not non-empty, stdout, last=false');
        }
        break;
      }
      case 'error': {
        const re = MESSAGES[e.code];
        if (re === undefined) fail(`unknown error code ${String(e.code)}`);
        if (typeof e.message !== 'string' || !re.test(e.message)) fail(`${e.code} message does not name the problem: ${show(String(e.message))}`);
        switch (e.code) {
          case 'bad-header':
          case 'unexpected-line':
            if (mode !== 'framed') fail(`${e.code} in ${mode} mode`);
            textOk(e.text, e.code);
            break;
          case 'frame-too-large':
            if (mode !== 'framed') fail(`${e.code} in ${mode} mode`);
            textOk(e.text, e.code);
            if (!(e.size > this.maxFrame)) fail(`frame-too-large with size ${e.size} within ${this.maxFrame}`);
            if (!e.message.includes(String(e.size))) fail('frame-too-large message lacks the size');
            break;
          case 'line-too-long':
            if (!Number.isSafeInteger(e.length) || e.length <= cap) fail(`line-too-long of ${e.length} within the cap ${cap}`);
            if (!e.message.includes(String(e.length))) fail('line-too-long message lacks the length');
            break;
          case 'truncated-frame':
            if (!ended) fail('truncated-frame before the end');
            if (!this.open || this.open.stream !== e.stream || this.open.left !== e.missing || !(e.missing > 0)) {
              fail(`truncated-frame missing ${e.missing} of ${e.stream}, open frame ${JSON.stringify(this.open)}`);
            }
            this.open = null;
            break;
          case 'truncated-line':
            if (!ended) fail('truncated-line before the end');
            if (e.text.length === 0) fail('truncated-line with no text');
            textOk(e.text, e.code);
            break;
        }
        break;
      }
      default:
        fail(`unknown event ${JSON.stringify(e)}`);
    }
  }

  /** `next()` returned null in `mode`. */
  idle(mode: ReplyMode, ended: boolean): void {
    const held = this.d.bufferedBytes;
    if (held > this.cap) fail(`${held} bytes held, over the line cap ${this.cap}`);
    if (this.open && held !== 0) fail(`${held} bytes held inside a frame`);
    if (mode === 'raw' && held !== 0) fail(`${held} bytes held in raw mode`);
    if (ended) {
      if (held !== 0) fail(`${held} bytes held after the end`);
      if (this.open) fail(`input ended inside a ${this.open.stream} frame (${this.open.left} bytes short) without truncated-frame`);
    }
  }
}

/** Events as comparable strings, adjacent `data` parts merged (how a payload is cut depends on the chunks). */
function mergeEvents(events: readonly ReplyEvent[]): Merged[] {
  const out: Merged[] = [];
  let pending: { stream: string; parts: Uint8Array[] } | null = null;
  const flush = (last: boolean) => {
    if (pending) out.push(`data|${pending.stream}|${latin1(concat(pending.parts))}|${last ? 'last' : 'part'}`);
    pending = null;
  };
  for (const e of events) {
    if (e.type === 'data') {
      if (pending && pending.stream !== e.stream) flush(false);
      pending ??= { stream: e.stream, parts: [] };
      pending.parts.push(e.bytes.slice());
      if (e.last) flush(true);
      continue;
    }
    flush(false);
    switch (e.type) {
      case 'line': {
        const r = e.reply;
        const meaning =
          r.kind === 'ok' ? 'ok' : r.kind === 'error' ? `error:${r.message}` : r.kind === 'hello' ? `hello:${r.version}/${r.machine}/${r.release}` : 'other';
        out.push(`line|${e.text}|${meaning}`);
        break;
      }
      case 'debug':
        out.push(`debug|${e.text}`);
        break;
      case 'quit':
        out.push('quit');
        break;
      case 'frame':
        out.push(`frame|${e.stream}|${e.size}`);
        break;
      case 'error':
        switch (e.code) {
          case 'bad-header':
          case 'unexpected-line':
          case 'truncated-line':
            out.push(`error|${e.code}|${e.text}`);
            break;
          case 'frame-too-large':
            out.push(`error|${e.code}|${e.text}|${e.size}`);
            break;
          case 'line-too-long':
            out.push(`error|${e.code}|${e.length}`);
            break;
          case 'truncated-frame':
            out.push(`error|${e.code}|${e.stream}|${e.missing}`);
            break;
        }
        break;
    }
  }
  flush(false);
  return out;
}

function newReplyDecoder(input: ReplyInput): ReplyDecoder {
  return new ReplyDecoder({
    mode: input.mode,
    ...(input.cap === DEFAULT_LINE_CAP ? {} : { maxLineBytes: input.cap }),
    ...(input.maxFrame === DEFAULT_FRAME_CAP ? {} : { maxFrameBytes: input.maxFrame }),
  });
}

/** Decode like a host: switch modes after chunking-independent events, through a sink or by pulling. */
export function decodeReply(input: ReplyInput, bytes: Uint8Array): ReplyEvent[] {
  const d = newReplyDecoder(input);
  const check = new ReplyChecker(d, input.cap, input.maxFrame);
  const events: ReplyEvent[] = [];
  let countable = 0;
  let ended = false;
  const onEvent = (e: ReplyEvent) => {
    check.event(e, d.mode, ended);
    events.push(e);
    if (isCountable(e)) {
      const m = input.switches[countable++];
      if (m) d.mode = m;
    }
  };
  const pull = () => {
    for (let e = d.next(); e !== null; e = d.next()) onEvent(e);
    check.idle(d.mode, ended);
    if (ended && d.next() !== null) fail('next() not null after it returned null at the end');
  };
  for (const c of chunk(bytes, input.chunking)) {
    if (input.sink) {
      d.push(c, onEvent);
      check.idle(d.mode, false);
    } else {
      d.push(c);
      pull();
    }
  }
  ended = true;
  if (input.sink) {
    d.end(onEvent);
    check.idle(d.mode, true);
  } else {
    d.end();
    pull();
  }
  if (!d.isEnded) fail('isEnded false after end()');
  return events;
}

export function checkReplyInput(input: ReplyInput): void {
  const bytes = renderReply(input);
  stats.reply.inputs++;
  stats.reply.bytes += bytes.length;
  let events: ReplyEvent[];
  try {
    events = decodeReply(input, bytes);
  } catch (e) {
    if (e instanceof Violation) throw e;
    throw new Violation(`ReplyDecoder threw: ${(e as Error)?.stack ?? String(e)}`);
  }
  const diff = firstDifference(mergeEvents(events), modelReply(bytes, input));
  if (diff !== null) fail(`ReplyDecoder differs from the model at ${diff}`);
}

/**
 * Mode switches at any moment (before every `next()`, also while a line is
 * being discarded), pulling. No model (what bytes mean depends on where the
 * switches fall in the chunks), but every event is checked, the buffer
 * bound holds, and every byte consumed is accounted for by an event: by the
 * event's own bytes, by the payload of a frame reported too large, or, for
 * bytes dropped while `next()` returned null, by the `line-too-long` that
 * must follow.
 */
export function checkReplyChaosInput(input: ReplyInput, strict = false): void {
  const bytes = renderReply(input);
  stats.reply.inputs++;
  stats.reply.bytes += bytes.length;
  const d = newReplyDecoder(input);
  const check = new ReplyChecker(d, input.cap, input.maxFrame);
  let pushed = 0;
  let consumedBefore = 0;
  let silent = 0; // bytes dropped by calls that returned null, not yet claimed
  let skipBudget = 0; // payload bytes of too-large frames, not yet seen skipped
  let calls = 0;
  let switchedToRawWhileSilent = false;
  const step = (ended: boolean): boolean => {
    const m = input.switches.length > 0 ? input.switches[calls % input.switches.length] : null;
    calls++;
    if (m && m !== d.mode) {
      if (m === 'raw' && silent > 0) switchedToRawWhileSilent = true;
      d.mode = m;
    }
    const mode = d.mode;
    let e: ReplyEvent | null;
    try {
      e = d.next();
    } catch (err) {
      throw new Violation(`ReplyDecoder threw: ${(err as Error)?.stack ?? String(err)}`);
    }
    const consumed = pushed - d.bufferedBytes;
    const c = consumed - consumedBefore;
    consumedBefore = consumed;
    if (c < 0) fail(`bufferedBytes grew by ${-c} without a push`);
    if (e === null) {
      const use = Math.min(skipBudget, c);
      skipBudget -= use;
      silent += c - use;
      check.idle(mode, ended);
      return false;
    }
    check.event(e, mode, ended);
    if (e.type === 'error' && e.code === 'line-too-long') {
      silent = 0; // it claims what was dropped
      switchedToRawWhileSilent = false;
      return true;
    }
    let own = 0;
    switch (e.type) {
      case 'line':
      case 'debug':
        own = e.text.length + 1;
        break;
      case 'quit':
        own = 5;
        break;
      case 'data':
        own = e.bytes.length;
        break;
      case 'frame':
        own = c; // the header's exact length is not in the event
        break;
      case 'error':
        own = e.code === 'truncated-frame' ? 0 : e.code === 'truncated-line' ? e.text.length : e.text.length + 1;
        break;
    }
    const extra = c - own;
    if (extra < 0) fail(`${e.type} event accounts for ${own} bytes, but only ${c} were consumed`);
    if (extra > skipBudget) fail(`${extra - skipBudget} bytes consumed with a ${e.type} event that does not account for them`);
    skipBudget -= extra;
    if (e.type === 'error' && e.code === 'frame-too-large') skipBudget += e.size;
    if (silent > 0) {
      if (!strict && KNOWN_BUGS.replyRawSwitchDropsOverlong && switchedToRawWhileSilent) {
        stats.reply.knownBugHits++;
      } else {
        fail(`${silent} bytes were dropped without a line-too-long error (the next event was ${e.type} in ${mode} mode)`);
      }
      silent = 0;
      switchedToRawWhileSilent = false;
    }
    return true;
  };
  for (const c of chunk(bytes, input.chunking)) {
    d.push(c);
    pushed += c.length;
    while (step(false));
  }
  d.end();
  while (step(true));
  if (d.bufferedBytes !== 0) fail(`${d.bufferedBytes} bytes held after the end`);
  if (silent > 0) {
    if (!strict && KNOWN_BUGS.replyRawSwitchDropsOverlong && switchedToRawWhileSilent) stats.reply.knownBugHits++;
    else fail(`${silent} bytes were dropped without a line-too-long error by the end`);
  }
}

// ---- the properties, by name (fixtures are replayed by name) ----------------------

export interface BatchOptions {
  /** Inputs per property run (default 1..24). */
  readonly minInputs?: number;
  readonly maxInputs?: number;
}

/** A named property over arbitraries: what `fcFixtures` records and replays. */
export interface NamedProperty<Ts extends unknown[]> {
  readonly name: string;
  readonly arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> };
  readonly predicate: (...args: Ts) => void;
}

const batch = <T>(arb: fc.Arbitrary<T>, o: BatchOptions) => fc.array(arb, { minLength: o.minInputs ?? 1, maxLength: o.maxInputs ?? 24 });

/** Every fuzz property. `-strict` ones assert the behaviour KNOWN_BUGS tolerates. */
export function fuzzProperties(o: BatchOptions = {}) {
  return {
    command: {
      name: 'command',
      arbitraries: [batch(commandInputArb, o)],
      predicate: (inputs: CommandInput[]) => inputs.forEach((i) => checkCommandInput(i)),
    } satisfies NamedProperty<[CommandInput[]]>,
    commandStrict: {
      name: 'command-strict',
      arbitraries: [batch(commandInputArb, o)],
      predicate: (inputs: CommandInput[]) => inputs.forEach((i) => checkCommandInput(i, true)),
    } satisfies NamedProperty<[CommandInput[]]>,
    reply: {
      name: 'reply',
      arbitraries: [batch(replyInputArb, o)],
      predicate: (inputs: ReplyInput[]) => inputs.forEach((i) => checkReplyInput(i)),
    } satisfies NamedProperty<[ReplyInput[]]>,
    replyChaos: {
      name: 'reply-chaos',
      arbitraries: [batch(replyInputArb, o)],
      predicate: (inputs: ReplyInput[]) => inputs.forEach((i) => checkReplyChaosInput(i)),
    } satisfies NamedProperty<[ReplyInput[]]>,
    replyChaosStrict: {
      name: 'reply-chaos-strict',
      arbitraries: [batch(replyInputArb, o)],
      predicate: (inputs: ReplyInput[]) => inputs.forEach((i) => checkReplyChaosInput(i, true)),
    } satisfies NamedProperty<[ReplyInput[]]>,
  };
}

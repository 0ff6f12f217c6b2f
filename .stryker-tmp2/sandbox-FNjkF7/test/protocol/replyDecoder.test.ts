// @ts-nocheck
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromLatin1, latin1, utf8 } from '../../protocol/bytes.js';
import * as encode from '../../protocol/encode.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  ReplyDecoder,
  type ReplyDecoderOptions,
  type ReplyEvent,
  type ReplyMode,
} from '../../protocol/replyDecoder.js';
import { MAX_LINE_BYTES } from '../../protocol/lineBuffer.js';
import { splitAt } from '../support/chunks.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);

// ---- helpers ------------------------------------------------------------

/** An event with payload bytes as a byte string, so results compare with toEqual. */
type Plain = Exclude<ReplyEvent, { type: 'data' }> | { type: 'data'; stream: 'stdout' | 'stderr'; text: string; last: boolean };

/**
 * Normalize a decoded event list: adjacent `data` parts of one frame (or of
 * raw output) become one, since how a payload is cut depends on the chunks.
 */
function merged(events: readonly ReplyEvent[]): Plain[] {
  const out: Plain[] = [];
  let pending: { stream: 'stdout' | 'stderr'; parts: Uint8Array[] } | null = null;
  const flush = (last: boolean) => {
    if (pending) out.push({ type: 'data', stream: pending.stream, text: latin1(concatBytes(pending.parts)), last });
    pending = null;
  };
  for (const e of events) {
    if (e.type !== 'data') {
      flush(false);
      out.push(e);
      continue;
    }
    if (pending && pending.stream !== e.stream) flush(false);
    pending ??= { stream: e.stream, parts: [] };
    pending.parts.push(e.bytes);
    if (e.last) flush(true);
  }
  flush(false);
  return out;
}

interface Consumer {
  /** Switch to this mode right after the n-th `OK` (1-based), as a host does after `run`'s OK. */
  readonly switchAfterOk?: { readonly n: number; readonly to: ReplyMode };
  readonly options?: ReplyDecoderOptions;
}

/** Decode chunks like a host: a sink that switches mode synchronously, then `end()`. */
function decode(chunks: readonly Uint8Array[], consumer: Consumer = {}): ReplyEvent[] {
  const d = new ReplyDecoder(consumer.options);
  const events: ReplyEvent[] = [];
  let oks = 0;
  const sink = (e: ReplyEvent) => {
    events.push(e);
    if (e.type === 'line' && e.reply.kind === 'ok' && ++oks === consumer.switchAfterOk?.n) d.mode = consumer.switchAfterOk.to;
  };
  for (const c of chunks) d.push(c, sink);
  d.end(sink);
  expect(d.bufferedBytes).toBe(0);
  return events;
}

/** The same, pulling with `next()` instead of a sink. */
function decodePulling(chunks: readonly Uint8Array[], consumer: Consumer = {}): ReplyEvent[] {
  const d = new ReplyDecoder(consumer.options);
  const events: ReplyEvent[] = [];
  let oks = 0;
  const pull = () => {
    for (let e = d.next(); e !== null; e = d.next()) {
      events.push(e);
      if (e.type === 'line' && e.reply.kind === 'ok' && ++oks === consumer.switchAfterOk?.n) d.mode = consumer.switchAfterOk.to;
    }
  };
  for (const c of chunks) {
    d.push(c);
    pull();
  }
  d.end();
  pull();
  return events;
}


/** Whole, split at the start, middle and end, and byte by byte (pg-protocol's deterministic splits). */
function splits(bytes: Uint8Array): Uint8Array[][] {
  const n = bytes.length;
  return [
    [bytes],
    splitAt(bytes, [1]),
    splitAt(bytes, [n >> 1]),
    splitAt(bytes, [Math.max(0, n - 1)]),
    Array.from({ length: n }, (_, i) => bytes.subarray(i, i + 1)),
  ];
}

/** Decode `bytes` every way in `splits`, both with a sink and pulling; all must agree. Returns the merged events. */
function decodeEveryWay(bytes: Uint8Array, consumer: Consumer = {}): Plain[] {
  const whole = merged(decode([bytes], consumer));
  for (const chunks of splits(bytes)) {
    expect(merged(decode(chunks, consumer))).toEqual(whole);
    expect(merged(decodePulling(chunks, consumer))).toEqual(whole);
  }
  return whole;
}

const bytes = (...parts: (string | Uint8Array)[]) => concatBytes(parts.map((p) => (typeof p === 'string' ? fromLatin1(p) : p)));
const frame = (stream: 'stdout' | 'stderr', payload: string) => bytes(encode.dataHeader(stream, payload.length), payload);
const line = (text: string, reply: object = { kind: 'other' }) => ({ type: 'line', text, reply });
const okLine = { type: 'line', text: 'OK', reply: { kind: 'ok' } };
const data = (stream: 'stdout' | 'stderr', text: string, last = true) => ({ type: 'data', stream, text, last });
const start = (stream: 'stdout' | 'stderr', size: number) => ({ type: 'frame', stream, size });
const afterRun: Consumer = { switchAfterOk: { n: 1, to: 'framed' } };

// ---- replies before run -------------------------------------------------

describe('lines mode: replies', () => {
  it('classifies hello, OK, ERROR, debug, quit and other lines', () => {
    const input = bytes(
      encode.helloReply('4.8', 'x86_64', '6.1.0-18-amd64'),
      encode.debugLine('OK', 'reply:198'),
      encode.ok(),
      encode.error('Invalid option'),
      'ERROR:tight\n',
      'OK \n',
      'stapsh 4.8 x86_64\n',
      '\n',
      'data stdout 3\n',
      encode.quitLine(),
    );
    expect(decodeEveryWay(input)).toEqual([
      line('stapsh 4.8 x86_64 6.1.0-18-amd64', { kind: 'hello', version: '4.8', machine: 'x86_64', release: '6.1.0-18-amd64' }),
      { type: 'debug', text: 'stapsh:reply:198 OK' },
      okLine,
      line('ERROR: Invalid option', { kind: 'error', message: 'Invalid option' }),
      line('ERROR:tight', { kind: 'error', message: 'tight' }),
      line('OK '), // only an exact OK is OK
      line('stapsh 4.8 x86_64'), // a hello has exactly four words
      line(''),
      line('data stdout 3'), // frames exist only in framed mode
      { type: 'quit' },
    ]);
  });

  it('keeps every byte of a line (byte strings, not UTF-8)', () => {
    const input = bytes('ERROR: Invalid encoding in argument "=\xff\xc3"\n');
    expect(decodeEveryWay(input)).toEqual([
      line('ERROR: Invalid encoding in argument "=\xff\xc3"', { kind: 'error', message: 'Invalid encoding in argument "=\xff\xc3"' }),
    ]);
  });

  it('classifies a hello glued behind a dead session\'s partial line, and says how many stale bytes came first', () => {
    expect(decodeEveryWay(bytes('junkstapsh 4.8 x86_64 6.1.0\nold out stapsh 4.8 x86_64 6.1.0 nonce=T-1\nstapsh 4.8 x86_64 6.1.0 more\n'))).toEqual([
      line('junkstapsh 4.8 x86_64 6.1.0', { kind: 'hello', version: '4.8', machine: 'x86_64', release: '6.1.0', stale: 4 }),
      line('old out stapsh 4.8 x86_64 6.1.0 nonce=T-1', { kind: 'hello', version: '4.8', machine: 'x86_64', release: '6.1.0', nonce: 'T-1', stale: 8 }),
      // Five words, the fifth not a nonce: not a hello, glued or not.
      line('stapsh 4.8 x86_64 6.1.0 more'),
    ]);
  });

  it('reads a hello split on tabs and CR as the host does', () => {
    expect(decodeEveryWay(bytes('stapsh\t5.1 aarch64 6.8.0\r\n'))).toEqual([
      line('stapsh\t5.1 aarch64 6.8.0\r', { kind: 'hello', version: '5.1', machine: 'aarch64', release: '6.8.0' }),
    ]);
  });

  it('reports a last line without newline as truncated, and nothing for a clean end', () => {
    expect(decodeEveryWay(bytes('OK\nstapsh 4.8'))).toEqual([
      okLine,
      { type: 'error', code: 'truncated-line', text: 'stapsh 4.8', message: 'input ended inside a line: "stapsh 4.8"' },
    ]);
    expect(decodeEveryWay(bytes('OK\n'))).toEqual([okLine]);
    expect(decodeEveryWay(new Uint8Array(0))).toEqual([]);
  });

  it('drops a line over the cap, reports its length once, and carries on', () => {
    const options = { maxLineBytes: 10 };
    const exact = 'x'.repeat(10);
    const over = 'y'.repeat(25);
    expect(decodeEveryWay(bytes(`${exact}\n${over}\nOK\n`), { options })).toEqual([
      line(exact),
      { type: 'error', code: 'line-too-long', length: 25, message: 'line of 25 bytes exceeds the line limit' },
      okLine,
    ]);
    // Ended by EOF instead of a newline.
    expect(decodeEveryWay(bytes(`OK\n${over}`), { options })).toEqual([
      okLine,
      { type: 'error', code: 'line-too-long', length: 25, message: 'line of 25 bytes exceeds the line limit' },
    ]);
  });

  it('reads a line trickling in one byte per chunk in linear time', () => {
    const d = new ReplyDecoder();
    const text = 'e'.repeat(MAX_LINE_BYTES);
    const input = utf8(`${text}\nOK\n`);
    const events: ReplyEvent[] = [];
    // Quadratic work here would take minutes and hit the test's timeout; linear takes milliseconds.
    for (let i = 0; i < input.length; i++) d.push(input.subarray(i, i + 1), (e) => events.push(e));
    expect(events).toEqual([line(text), okLine]);
  });

  it('holds at most the line cap while a line is incomplete', () => {
    const d = new ReplyDecoder();
    expect(d.mode).toBe('lines');
    const chunk = new Uint8Array(4096).fill(0x61);
    let errors = 0;
    for (let i = 0; i < 64; i++) {
      d.push(chunk, (e) => void (e.type === 'error' && errors++));
      expect(d.bufferedBytes).toBeLessThanOrEqual(MAX_LINE_BYTES);
    }
    d.push(utf8('\nOK\n'), (e) => void (e.type === 'error' ? errors++ : expect(e).toEqual(okLine)));
    expect(errors).toBe(1);
    expect(d.bufferedBytes).toBe(0);
  });
});

// ---- data mode ----------------------------------------------------------

const session = bytes(
  encode.helloReply('4.8', 'x86_64', '6.1.0'),
  encode.debugLine('reply: x'),
  encode.ok(),
  encode.ok(),
  frame('stdout', 'tick 0\ndata stdout 5\nquit\n'),
  encode.debugLine('handle_signal:261 received signal 17: Child exited'),
  frame('stderr', 'warn\n'),
  frame('stdout', '\x00\xff\r'),
  frame('stdout', ''),
  encode.quitLine(),
);
const sessionEvents = [
  line('stapsh 4.8 x86_64 6.1.0', { kind: 'hello', version: '4.8', machine: 'x86_64', release: '6.1.0' }),
  { type: 'debug', text: 'stapsh: reply: x' },
  okLine,
  okLine,
  start('stdout', 26),
  data('stdout', 'tick 0\ndata stdout 5\nquit\n'),
  { type: 'debug', text: 'stapsh: handle_signal:261 received signal 17: Child exited' },
  start('stderr', 5),
  data('stderr', 'warn\n'),
  start('stdout', 3),
  data('stdout', '\x00\xff\r'),
  start('stdout', 0),
  data('stdout', ''),
  { type: 'quit' },
];

describe('framed mode: data frames', () => {
  it('decodes a data-mode session, switched after the OK that answers run', () => {
    expect(decodeEveryWay(session, { switchAfterOk: { n: 2, to: 'framed' } })).toEqual(sessionEvents);
  });

  it('decodes run\'s OK and the first frames in one chunk, as real guests send them', () => {
    const chunk = utf8('OK\ndata stdout 41\nfake-staprun args: ./stap_4664.bo\ntick 0\ndata stderr 10\nto stderr\n');
    expect(merged(decode([chunk], afterRun))).toEqual([
      okLine,
      start('stdout', 41),
      data('stdout', 'fake-staprun args: ./stap_4664.bo\ntick 0\n'),
      start('stderr', 10),
      data('stderr', 'to stderr\n'),
    ]);
  });

  it('delivers a payload as it arrives, the last part marked', () => {
    const d = new ReplyDecoder({ mode: 'framed' });
    d.push(utf8('data stdout 6\nab'));
    expect(d.next()).toEqual({ type: 'frame', stream: 'stdout', size: 6 });
    expect(d.next()).toEqual({ type: 'data', stream: 'stdout', bytes: utf8('ab'), last: false });
    expect(d.next()).toBeNull();
    d.push(utf8('cdefquit\n'));
    expect(d.next()).toEqual({ type: 'data', stream: 'stdout', bytes: utf8('cdef'), last: true });
    expect(d.next()).toEqual({ type: 'quit' });
    expect(d.next()).toBeNull();
    d.end();
    expect(d.next()).toBeNull();
  });

  it('hands out views of the pushed chunk, not copies', () => {
    const chunk = bytes(frame('stdout', 'hello'));
    const d = new ReplyDecoder({ mode: 'framed' });
    d.push(chunk);
    const [, part] = d.drain();
    expect(part?.type === 'data' && part.bytes.buffer).toBe(chunk.buffer);
  });

  it('streams a 16 MiB frame without buffering it', () => {
    const size = DEFAULT_MAX_FRAME_BYTES;
    const d = new ReplyDecoder({ mode: 'framed' });
    const piece = new Uint8Array(64 * 1024).fill(0x2e);
    let received = 0;
    let lastSeen = false;
    const sink = (e: ReplyEvent) => {
      if (e.type === 'data') {
        received += e.bytes.length;
        lastSeen = e.last;
      }
    };
    d.push(encode.dataHeader('stdout', size), sink);
    for (let sent = 0; sent < size; sent += piece.length) {
      d.push(piece, sink);
      expect(d.bufferedBytes).toBe(0);
    }
    expect([received, lastSeen]).toEqual([size, true]);
  });

  it('reports malformed headers and stray lines, then reads on in line mode', () => {
    const after = (header: string) => merged(decode([bytes(`OK\n${header}\n`, frame('stdout', 'ok'))], afterRun)).slice(1);
    for (const header of ['data', 'data stdout', 'data foo 3', 'data stdout -1', 'data stdout abc', 'data stdout +3', 'data stdout 0x10', 'data stdout 3 x', 'data  stdout']) {
      expect(after(header), header).toEqual([
        { type: 'error', code: 'bad-header', text: header, message: `malformed data header: ${JSON.stringify(header)}` },
        start('stdout', 2),
        data('stdout', 'ok'),
      ]);
    }
    for (const stray of ['OK', 'ERROR: x', 'stapsh 4.8 a b', 'dat', 'quit ', '']) {
      expect(after(stray), stray).toEqual([
        { type: 'error', code: 'unexpected-line', text: stray, message: `unexpected line in data mode: ${JSON.stringify(stray)}` },
        start('stdout', 2),
        data('stdout', 'ok'),
      ]);
    }
  });

  it('accepts headers the guest could have split the same way (tabs, CR, leading zeros)', () => {
    expect(decodeEveryWay(bytes('data\tstderr 003\r\nabc'), { options: { mode: 'framed' } })).toEqual([start('stderr', 3), data('stderr', 'abc')]);
  });

  it('skips the payload of a frame over the cap and stays in step', () => {
    const options: ReplyDecoderOptions = { mode: 'framed', maxFrameBytes: 4 };
    expect(decodeEveryWay(bytes(frame('stdout', 'abcd'), frame('stderr', 'quit\nx'), frame('stdout', 'ef')), { options })).toEqual([
      start('stdout', 4),
      data('stdout', 'abcd'),
      {
        type: 'error',
        code: 'frame-too-large',
        text: 'data stderr 6',
        size: 6,
        message: 'data frame of 6 bytes exceeds the 4-byte limit: "data stderr 6"',
      },
      start('stdout', 2),
      data('stdout', 'ef'),
    ]);
    // Absurd sizes are too large, not malformed; the rest of the input is their payload.
    const [e] = decode([utf8('data stdout 99999999999999999999\nquit\n')], { options: { mode: 'framed' } });
    expect(e).toMatchObject({ type: 'error', code: 'frame-too-large', size: 1e20 });
    const [big] = decode([utf8(`data stdout ${DEFAULT_MAX_FRAME_BYTES + 1}\n`)], { options: { mode: 'framed' } });
    expect(big).toMatchObject({ type: 'error', code: 'frame-too-large' });
  });

  it('reports EOF inside a frame once, after the bytes that did arrive', () => {
    expect(decodeEveryWay(bytes('OK\ndata stdout 10\nabc'), afterRun)).toEqual([
      okLine,
      start('stdout', 10),
      data('stdout', 'abc', false),
      { type: 'error', code: 'truncated-frame', stream: 'stdout', missing: 7, message: 'input ended 7 bytes short of a stdout frame' },
    ]);
    expect(decodeEveryWay(bytes('OK\ndata stderr 2\n'), afterRun)).toEqual([
      okLine,
      start('stderr', 2),
      { type: 'error', code: 'truncated-frame', stream: 'stderr', missing: 2, message: 'input ended 2 bytes short of a stderr frame' },
    ]);
  });

  it('finishes a frame in progress before a mode switch takes effect', () => {
    const d = new ReplyDecoder({ mode: 'framed' });
    d.push(utf8('data stdout 3\na'));
    expect(d.drain().map((e) => e.type)).toEqual(['frame', 'data']);
    d.mode = 'lines';
    d.push(utf8('bcOK\n'));
    expect(merged(d.drain())).toEqual([data('stdout', 'bc'), okLine]);
  });
});

// ---- raw mode -----------------------------------------------------------

describe('raw mode: no data option', () => {
  it('passes every byte after run\'s OK through as stdout', () => {
    const input = bytes('stapsh 4.8 x y\nOK\nhello\ndata stdout 3\nquit\nstapsh: not debug here\n\xff');
    expect(decodeEveryWay(input, { switchAfterOk: { n: 1, to: 'raw' } })).toEqual([
      line('stapsh 4.8 x y', { kind: 'hello', version: '4.8', machine: 'x', release: 'y' }),
      okLine,
      data('stdout', 'hello\ndata stdout 3\nquit\nstapsh: not debug here\n\xff', false),
    ]);
  });

  it('re-reads a partial line as raw bytes after the switch', () => {
    const d = new ReplyDecoder();
    d.push(utf8('OK\npart'));
    expect(d.drain()).toEqual([okLine]);
    d.mode = 'raw';
    d.push(utf8('ial\n'));
    d.end();
    expect(merged(d.drain())).toEqual([data('stdout', 'partial\n', false)]);
    expect(d.isEnded).toBe(true);
  });

  it('ignores input pushed after end()', () => {
    const d = new ReplyDecoder({ mode: 'raw' });
    d.end();
    d.push(utf8('late'));
    expect(d.drain()).toEqual([]);
    expect(d.bufferedBytes).toBe(0);
  });
});

// ---- properties ---------------------------------------------------------

/** A byte string without `\n`. */
const lineText = (maxLength = 30) =>
  fc.string({ unit: fc.integer({ min: 0, max: 255 }).filter((c) => c !== 10).map((c) => String.fromCharCode(c)), maxLength });
const wordText = fc.stringMatching(/^[!-~]{1,10}$/);
const payload = fc.oneof(
  lineText(40).map((s) => `${s}\n`),
  fc.uint8Array({ maxLength: 300 }).map(latin1),
  fc.constantFrom('', 'quit\n', 'data stdout 5\n', 'OK\n', '\n\n'),
);

/** One guest item before run: its wire bytes and the event it decodes to. */
const replyItem = fc.oneof(
  fc.tuple(wordText, wordText, wordText).map(([v, m, r]) => ({
    wire: latin1(encode.helloReply(v, m, r)),
    events: [line(`stapsh ${v} ${m} ${r}`, { kind: 'hello', version: v, machine: m, release: r })],
  })),
  lineText().map((msg) => ({ wire: `ERROR: ${msg}\n`, events: [line(`ERROR: ${msg}`, { kind: 'error', message: msg })] })),
  lineText().map((t) => ({ wire: `stapsh:${t}\n`, events: [{ type: 'debug', text: `stapsh:${t}` }] })),
  lineText()
    .filter((t) => t !== 'OK' && t !== 'quit' && !t.startsWith('ERROR:') && !t.startsWith('stapsh'))
    .map((t) => ({ wire: `${t}\n`, events: [line(t)] })),
);

/** One guest item in data mode. */
const framedItem = fc.oneof(
  { arbitrary: fc.tuple(fc.constantFrom('stdout' as const, 'stderr' as const), payload).map(([s, p]) => ({ wire: latin1(frame(s, p)), events: [start(s, p.length), data(s, p)] })), weight: 4 },
  { arbitrary: lineText().map((t) => ({ wire: `stapsh:${t}\n`, events: [{ type: 'debug', text: `stapsh:${t}` }] })), weight: 1 },
);

const validSession = fc
  .tuple(fc.array(replyItem, { maxLength: 6 }), fc.array(framedItem, { maxLength: 10 }), fc.boolean())
  .map(([before, during, quits]) => {
    const items = [...before, { wire: 'OK\n', events: [okLine] }, ...during, ...(quits ? [{ wire: 'quit\n', events: [{ type: 'quit' }] }] : [])];
    return { wire: fromLatin1(items.map((i) => i.wire).join('')), events: items.flatMap((i) => i.events) };
  });

describe('properties', () => {
  test.prop([validSession, fc.array(fc.nat(), { maxLength: 40 })], { numRuns: runs })(
    'any split of a valid data-mode session decodes to the events it was built from',
    (s, cuts) => {
      const chunks = splitAt(s.wire, cuts);
      expect(merged(decode(chunks, afterRun))).toEqual(s.events);
      expect(merged(decodePulling(chunks, afterRun))).toEqual(s.events);
    },
  );

  test.prop([fc.array(replyItem, { maxLength: 6 }), fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat(), { maxLength: 40 })], { numRuns: runs })(
    'any split of a valid raw session decodes to the same events',
    (before, output, cuts) => {
      const wire = bytes(before.map((i) => i.wire).join(''), 'OK\n', output);
      const expected = [...before.flatMap((i) => i.events), okLine, ...(output.length > 0 ? [data('stdout', latin1(output), false)] : [])];
      expect(merged(decode(splitAt(wire, cuts), { switchAfterOk: { n: 1, to: 'raw' } }))).toEqual(expected);
    },
  );

  const garbage = fc.uint8Array({ maxLength: 600 }).chain((g) =>
    // Garbage that looks like the protocol often enough to reach every branch.
    fc.array(fc.oneof(fc.constant(g), fc.constantFrom('data stdout 3\n', 'data stderr 0\n', 'data x\n', 'quit\n', 'OK\n', '\n', 'stapsh:\n', 'data stdout 99\n').map(utf8)), { maxLength: 8 }).map(concatBytes),
  );
  const mode = fc.constantFrom<ReplyMode>('lines', 'framed', 'raw');

  test.prop([garbage, mode, fc.array(fc.nat(), { maxLength: 30 })], { numRuns: runs })(
    'garbage decodes the same however it is split, in any mode',
    (input, m, cuts) => {
      const consumer: Consumer = { options: { mode: m, maxLineBytes: 16, maxFrameBytes: 64 } };
      expect(merged(decode(splitAt(input, cuts), consumer))).toEqual(merged(decode([input], consumer)));
    },
  );

  test.prop([fc.array(fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.option(mode)), { maxLength: 40 }), mode], { numRuns: runs })(
    'garbage never throws, with mode switches anywhere, and buffering stays under the line cap',
    (steps, initial) => {
      const d = new ReplyDecoder({ mode: initial, maxLineBytes: 100, maxFrameBytes: 1000 });
      for (const [chunk, switchTo] of steps) {
        d.push(chunk);
        for (let e = d.next(); e !== null; e = d.next()) {
          // Payload is handed out as views: at most a chunk, or a partial line re-read as raw.
          expect(e.type === 'data' ? e.bytes.length : 0).toBeLessThanOrEqual(Math.max(chunk.length, 100));
          if (switchTo !== null) d.mode = switchTo;
        }
        expect(d.bufferedBytes).toBeLessThanOrEqual(100);
      }
      d.end();
      const tail = d.drain();
      // At most one truncation report, and it comes last.
      const truncations = tail.filter((e) => e.type === 'error' && e.code.startsWith('truncated'));
      expect(truncations.length).toBeLessThanOrEqual(1);
      if (truncations.length === 1) expect(tail.at(-1)).toBe(truncations[0]);
      expect(d.bufferedBytes).toBe(0);
      expect(d.next()).toBeNull();
    },
  );
});
// Decode speed is measured by `npm run bench`, not asserted in tests.

import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { concatBytes, latin1, utf8 } from '../../protocol/bytes.js';
import { encodeDataHeader, encodeHelloReply, encodeOk, encodeQuitAnnouncement } from '../../protocol/encode.js';
import { ReplyDecoder, type ReplyEvent } from '../../protocol/replyDecoder.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 200);

/** Decode like a host: switch to framed mode on the OK that answers `run` (the 2nd OK here). */
function decode(chunks: readonly Uint8Array[], options: { okBeforeRun?: number; raw?: boolean; maxFrameBytes?: number } = {}) {
  const d = new ReplyDecoder(options.maxFrameBytes ? { maxFrameBytes: options.maxFrameBytes } : {});
  const out: string[] = [];
  let oks = 0;
  let data: Uint8Array[] = [];
  const emit = (e: ReplyEvent) => {
    if (e.type === 'data') {
      data.push(e.bytes);
      if (e.last || d.mode === 'raw') {
        if (e.last) {
          out.push(`${e.stream}:${latin1(concatBytes(data))}`);
          data = [];
        }
      }
      return;
    }
    if (e.type === 'frame') return;
    out.push(e.type === 'line' || e.type === 'debug' ? `${e.type}:${e.text}` : e.type === 'error' ? `error:${e.code}` : e.type);
    if (e.type === 'line' && e.text === 'OK' && ++oks === (options.okBeforeRun ?? 2)) d.mode = options.raw ? 'raw' : 'framed';
  };
  for (const c of chunks) d.push(c, emit);
  d.end(emit);
  if (data.length > 0) out.push(`unfinished:${latin1(concatBytes(data))}`);
  return out;
}

const frame = (stream: 'stdout' | 'stderr', text: string) => concatBytes([encodeDataHeader(stream, utf8(text).length), utf8(text)]);
const session = concatBytes([
  encodeHelloReply('4.8', 'x86_64', '6.1.0'),
  utf8('stapsh: reply: x\n'),
  encodeOk(),
  encodeOk(),
  frame('stdout', 'tick 0\ndata stdout 5\nquit\n'),
  frame('stderr', 'warn\n'),
  frame('stdout', '\x00\xff\r'),
  encodeQuitAnnouncement(),
]);
const expected = [
  'line:stapsh 4.8 x86_64 6.1.0',
  'debug:stapsh: reply: x',
  'line:OK',
  'line:OK',
  'stdout:tick 0\ndata stdout 5\nquit\n',
  'stderr:warn\n',
  'stdout:\x00\xc3\xbf\r',
  'quit',
];

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    parts.push(bytes.subarray(at, p));
    at = p;
  }
  parts.push(bytes.subarray(at));
  return parts;
}

describe('ReplyDecoder', () => {
  it('decodes a data-mode session, also split at start, middle and end', () => {
    expect(decode([session])).toEqual(expected);
    for (const cut of [0, 1, session.length >> 1, session.length - 1]) expect(decode(splitAt(session, [cut]))).toEqual(expected);
  });

  it('decodes the OK and the first frames in one chunk, as real guests send them', () => {
    const chunk = utf8('OK\nOK\ndata stdout 41\nfake-staprun args: ./stap_4664.bo\ntick 0\ndata stderr 10\nto stderr\n');
    expect(decode([chunk])).toEqual(['line:OK', 'line:OK', 'stdout:fake-staprun args: ./stap_4664.bo\ntick 0\n', 'stderr:to stderr\n']);
  });

  it('passes raw output through without data mode', () => {
    expect(decode([utf8('OK\nhello\nwor'), utf8('ld\n')], { okBeforeRun: 1, raw: true })).toEqual(['line:OK', 'unfinished:hello\nworld\n']);
  });

  it('reports malformed headers, oversized frames, stray lines and truncation as errors', () => {
    const after = (s: string, maxFrameBytes?: number) =>
      decode([utf8(`OK\nOK\n${s}`)], maxFrameBytes ? { maxFrameBytes } : {}).slice(2);
    expect(after('data\n')).toEqual(['error:bad-header']);
    expect(after('data stdout\n')).toEqual(['error:bad-header']);
    expect(after('data stdout -1\n')).toEqual(['error:bad-header']);
    expect(after('data foo 3\n')).toEqual(['error:bad-header']);
    expect(after('data stdout 99999999999\n')).toEqual(['error:bad-header']);
    expect(after('data stdout 100\n', 10)).toEqual(['error:frame-too-large']);
    expect(after('hello\n')).toEqual(['error:unexpected-line']);
    // The bytes that did arrive were delivered before the error.
    expect(after('data stdout 10\nabc')).toEqual(['error:truncated', 'unfinished:abc']);
  });

  test.prop([fc.array(fc.nat(), { maxLength: 30 })], { numRuns: runs })('any split decodes to the same events', (cuts) => {
    expect(decode(splitAt(session, cuts))).toEqual(expected);
  });

  test.prop([fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 40 }), fc.constantFrom('lines', 'framed', 'raw')], { numRuns: runs })(
    'garbage never throws and buffering stays under the line cap',
    (chunks, mode) => {
      const d = new ReplyDecoder({ maxLineBytes: 100, maxFrameBytes: 1000 });
      d.mode = mode as 'lines' | 'framed' | 'raw';
      for (const c of chunks) {
        d.push(c, () => undefined);
        expect(d.bufferedBytes).toBeLessThanOrEqual(100);
      }
      d.end(() => undefined);
    },
  );
});

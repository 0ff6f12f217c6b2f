/** The trace format: serialization round-trips, validation, escaping. */
// @ts-nocheck

import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  escapeBytes,
  makeHeader,
  parseTrace,
  parseTraceLine,
  serializeTrace,
  serializeTraceLine,
  stateValueToString,
  TRACE_FORMAT_VERSION,
  TraceParseError,
  type TraceEvent,
} from '../../trace/format.js';

const sample: TraceEvent[] = [
  { t: 0.0004, session: 's1', actor: 'host', kind: 'frame', direction: 'host->guest', frame: 'command', command: 'stap', summary: 'stap 4.8', bytes: 9 },
  {
    t: 0.04,
    session: 's1',
    actor: 'proxy',
    kind: 'frame',
    direction: 'host->guest',
    frame: 'payload',
    summary: '1904 bytes of a.bo',
    bytes: 1904,
    size: 1904,
    name: 'a.bo',
    preview: '\\x7fELF',
    previewTruncated: true,
  },
  { t: 0.05, session: 's1', actor: 'host', kind: 'state', machine: 'hostSession', from: null, to: 'hello' },
  { t: 0.06, session: 's1', actor: 'host', kind: 'state', machine: 'hostSession', from: 'hello', to: 'running.streaming', event: 'GUEST.LINE' },
  { t: 0.07, session: 'g1', actor: 'child', kind: 'child', what: 'spawned', pid: 42, argv: ['staprun', '-R', './a.ko'] },
  { t: 0.08, session: 'g1', actor: 'child', kind: 'child', what: 'signal', signal: 'SIGHUP' },
  { t: 0.09, session: 'g1', actor: 'child', kind: 'child', what: 'exited', code: null, signal: 'SIGHUP', status: 129 },
  { t: 1.5, session: 's1', actor: 'guest', kind: 'transport', what: 'error', direction: 'guest->host', message: 'EPIPE' },
];

describe('trace format v1', () => {
  it('starts with a versioned header', () => {
    const h = makeHeader({ started: new Date(0), source: 'test' });
    const line = serializeTraceLine(h);
    expect(line).toBe('{"type":"header","version":1,"tool":"stapflow","started":"1970-01-01T00:00:00.000Z","source":"test"}\n');
    expect(TRACE_FORMAT_VERSION).toBe(1);
  });

  it('round-trips every kind of event', () => {
    const text = serializeTrace(makeHeader({ started: new Date(0) }), sample);
    expect(text.split('\n')).toHaveLength(sample.length + 2);
    const parsed = parseTrace(text);
    expect(parsed.errors).toEqual([]);
    expect(parsed.header?.version).toBe(1);
    expect(parsed.events).toEqual(sample);
  });

  test.prop([
    fc.record({
      t: fc.double({ min: 0, max: 1e6, noNaN: true }).map((t) => Math.round(t * 1e6) / 1e6),
      session: fc.string(),
      summary: fc.string(),
      bytes: fc.nat(),
      preview: fc.uint8Array({ maxLength: 200 }),
    }),
  ])('frame events survive serialization', ({ t, session, summary, bytes, preview }) => {
    const e: TraceEvent = {
      t,
      session,
      actor: 'guest',
      kind: 'frame',
      direction: 'guest->host',
      frame: 'data',
      stream: 'stdout',
      summary,
      bytes,
      preview: escapeBytes(preview).text,
    };
    expect(parseTraceLine(serializeTraceLine(e).trimEnd())).toEqual(e);
  });

  it('reports bad lines with their number and keeps the rest', () => {
    const text = [
      serializeTraceLine(makeHeader()).trimEnd(),
      serializeTraceLine(sample[0]!).trimEnd(),
      '{"t": 1, "session": "s", "actor": "host", "kind": "frame"', // cut short
      '{"t": 1, "session": "s", "actor": "nobody", "kind": "state"}',
      '{"t": 1, "session": "s", "actor": "host", "kind": "weird"}',
      '',
      serializeTraceLine(sample[2]!).trimEnd(),
    ].join('\n');
    const parsed = parseTrace(text);
    expect(parsed.events).toEqual([sample[0], sample[2]]);
    expect(parsed.errors.map((e) => e.line)).toEqual([3, 4, 5]);
    expect(parsed.errors[0]!.message).toMatch(/not JSON/);
    expect(parsed.errors[1]!.message).toMatch(/unknown actor "nobody"/);
    expect(parsed.errors[2]!.message).toMatch(/unknown event kind "weird"/);
  });

  it('refuses other versions', () => {
    expect(() => parseTraceLine('{"type":"header","version":2,"tool":"stapflow","started":"x"}')).toThrow(TraceParseError);
  });

  it('escapes bytes and bounds the preview', () => {
    expect(escapeBytes(new Uint8Array([0x61, 0x0a, 0x09, 0x0d, 0x5c, 0x00, 0xff, 0x7f])).text).toBe('a\\n\\t\\r\\\\\\x00\\xff\\x7f');
    const long = escapeBytes(new Uint8Array(100).fill(0x41));
    expect(long).toEqual({ text: 'A'.repeat(64), truncated: true });
  });

  it('writes state values as strings', () => {
    expect(stateValueToString('idle')).toBe('idle');
    expect(stateValueToString({ running: 'streaming' })).toBe('running.streaming');
    expect(stateValueToString({ a: { b: 'c' } })).toBe('a.b.c');
    expect(stateValueToString({ up: 'x', down: 'y' })).toBe('up.x, down.y');
  });
});

/** Recorders: wire bytes → frame events (at any chunking), XState inspection → state events, the live stream. */
// @ts-nocheck

import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { createActor, createMachine } from 'xstate';
import { concatBytes, utf8 } from '../../protocol/bytes.js';
import type { TraceEvent, TraceFrameEvent } from '../../trace/format.js';
import { createTrace, inspectRecorder, recordGuestActor, wireRecorder } from '../../trace/recorder.js';
import { splitAt } from '../support/chunks.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 100);

const payload = new Uint8Array(300).map((_, i) => (i * 7) & 0xff);
const hostBytes = concatBytes([utf8('stap 4.8\noption data\nfile 300 mod.ko\n'), payload, utf8('run ./mod.ko\nquit\n')]);
const hello = 'stapsh 4.8 x86_64 6.1.0\n';
const guestBytes = utf8(`${hello}OK\nOK\nOK\ndata stdout 6\nhello\ndata stderr 4\nerr\ndata stdout 0\nstapsh: reply: quit\nquit\n`);

/** A frame without the fields that depend on timing. */
const strip = ({ t: _t, session: _s, actor: _a, kind: _k, ...rest }: TraceFrameEvent) => rest;

const expectedHost = [
  { direction: 'host->guest', frame: 'command', command: 'stap', summary: 'stap 4.8', bytes: 9 },
  { direction: 'host->guest', frame: 'command', command: 'option', summary: 'option data', bytes: 12 },
  { direction: 'host->guest', frame: 'command', command: 'file', summary: 'file 300 mod.ko', bytes: 16 },
  {
    direction: 'host->guest',
    frame: 'payload',
    summary: '300 bytes of mod.ko',
    bytes: 300,
    size: 300,
    name: 'mod.ko',
    preview: '\\x00\\x07\\x0e\\x15\\x1c#*18?FMT[bipw~\\x85\\x8c\\x93\\x9a\\xa1\\xa8\\xaf\\xb6\\xbd\\xc4\\xcb\\xd2\\xd9\\xe0\\xe7\\xee\\xf5\\xfc\\x03\\n\\x11\\x18\\x1f&-4;BIPW^elsz\\x81\\x88\\x8f\\x96\\x9d\\xa4\\xab\\xb2\\xb9',
    previewTruncated: true,
  },
  { direction: 'host->guest', frame: 'command', command: 'run', summary: 'run ./mod.ko', bytes: 13 },
  { direction: 'host->guest', frame: 'command', command: 'quit', summary: 'quit', bytes: 5 },
];
const expectedGuest = [
  { direction: 'guest->host', frame: 'reply', reply: 'hello', summary: 'stapsh 4.8 x86_64 6.1.0', bytes: hello.length },
  { direction: 'guest->host', frame: 'reply', reply: 'ok', summary: 'OK', bytes: 3 },
  { direction: 'guest->host', frame: 'reply', reply: 'ok', summary: 'OK', bytes: 3 },
  { direction: 'guest->host', frame: 'reply', reply: 'ok', summary: 'OK', bytes: 3 },
  { direction: 'guest->host', frame: 'data', stream: 'stdout', size: 6, summary: 'data stdout 6', bytes: 20, preview: 'hello\\n' },
  { direction: 'guest->host', frame: 'data', stream: 'stderr', size: 4, summary: 'data stderr 4', bytes: 18, preview: 'err\\n' },
  { direction: 'guest->host', frame: 'data', stream: 'stdout', size: 0, summary: 'data stdout 0', bytes: 14 },
  { direction: 'guest->host', frame: 'reply', reply: 'debug', summary: 'stapsh: reply: quit', bytes: 20 },
  { direction: 'guest->host', frame: 'reply', reply: 'quit', summary: 'quit', bytes: 5 },
];

function record(hostChunks: Uint8Array[], guestChunks: Uint8Array[]): TraceEvent[] {
  const events: TraceEvent[] = [];
  const onWire = wireRecorder((e) => events.push(e), { session: 's1', actor: 'host', clock: () => 1.5 });
  const hostParts = [...hostChunks];
  const guestParts = [...guestChunks];
  // The host's commands all go out before the guest's replies are fed (as in a pipelined host).
  for (const c of hostParts) onWire('host->guest', c);
  for (const c of guestParts) onWire('guest->host', c);
  onWire.end('host->guest');
  onWire.end('guest->host');
  return events;
}

describe('wireRecorder', () => {
  it('decodes a session with an upload and data frames into frame events', () => {
    const events = record([hostBytes], [guestBytes]);
    const frames = events.filter((e): e is TraceFrameEvent => e.kind === 'frame');
    expect(frames.filter((f) => f.direction === 'host->guest').map(strip)).toEqual(expectedHost);
    expect(frames.filter((f) => f.direction === 'guest->host').map(strip)).toEqual(expectedGuest);
    expect(frames.every((f) => f.t === 1.5 && f.session === 's1' && f.actor === 'host')).toBe(true);
    expect(events.filter((e) => e.kind === 'transport')).toEqual([
      { t: 1.5, session: 's1', actor: 'host', kind: 'transport', what: 'eof', direction: 'host->guest' },
      { t: 1.5, session: 's1', actor: 'host', kind: 'transport', what: 'eof', direction: 'guest->host' },
    ]);
  });

  test.prop([fc.array(fc.nat(), { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 40 })], { numRuns: runs })(
    'gives the same frames however the streams are split',
    (hostCuts, guestCuts) => {
      const events = record(splitAt(hostBytes, hostCuts), splitAt(guestBytes, guestCuts));
      const frames = events.filter((e): e is TraceFrameEvent => e.kind === 'frame');
      expect(frames.filter((f) => f.direction === 'host->guest').map(strip)).toEqual(expectedHost);
      expect(frames.filter((f) => f.direction === 'guest->host').map(strip)).toEqual(expectedGuest);
    },
  );

  it('splits at odd boundaries: one byte at a time, and the run OK glued to the first frame', () => {
    const one = (b: Uint8Array) => Array.from(b, (x) => Uint8Array.of(x));
    const frames = record(one(hostBytes), one(guestBytes)).filter((e): e is TraceFrameEvent => e.kind === 'frame');
    expect(frames.map(strip)).toEqual([...expectedHost, ...expectedGuest]);
  });

  it('reads child output after run as raw stdout without option data', () => {
    const events: TraceEvent[] = [];
    const onWire = wireRecorder((e) => events.push(e), { session: 's', actor: 'proxy', clock: () => 0 });
    onWire('host->guest', utf8('stap 4.8\n'));
    onWire('guest->host', utf8('stapsh 4.8 x86_64 6.1\n'));
    onWire('host->guest', utf8('run ./a.ko\n'));
    onWire('guest->host', utf8('OK\ndata stdout 3\n'));
    const frames = events.filter((e): e is TraceFrameEvent => e.kind === 'frame').map(strip);
    expect(frames.at(-1)).toEqual({ direction: 'guest->host', frame: 'raw', stream: 'stdout', summary: 'stdout 14', bytes: 14, preview: 'data stdout 3\\n' });
  });

  it('records a refused run (ERROR) without leaving lines mode, and never throws on garbage', () => {
    const events: TraceEvent[] = [];
    const onWire = wireRecorder((e) => events.push(e), { session: 's', actor: 'host' });
    onWire('host->guest', utf8('option data\nrun ./a.ko\n'));
    onWire('guest->host', utf8('OK\nERROR: no such file\nOK\n'));
    const replies = events.filter((e): e is TraceFrameEvent => e.kind === 'frame' && e.direction === 'guest->host');
    expect(replies.map((f) => f.reply)).toEqual(['ok', 'error', 'ok']);
    expect(() => {
      onWire('host->guest', new Uint8Array(100_000).fill(0x41));
      onWire('guest->host', new Uint8Array(100_000).fill(0x42));
      onWire.end('host->guest');
      onWire.end('guest->host');
    }).not.toThrow();
  });

  it('reports a payload cut short by EOF', () => {
    const events: TraceEvent[] = [];
    const onWire = wireRecorder((e) => events.push(e), { session: 's', actor: 'host', clock: () => 0 });
    onWire('host->guest', utf8('file 10 x.ko\nabc'));
    onWire.end('host->guest');
    const last = events.filter((e): e is TraceFrameEvent => e.kind === 'frame').at(-1);
    expect(last).toMatchObject({ frame: 'error', summary: 'input ended 7 bytes short of x.ko', bytes: 3 });
  });

  it('does not let a throwing sink break the caller', () => {
    const onWire = wireRecorder(() => {
      throw new Error('disk full');
    }, { session: 's', actor: 'host' });
    expect(() => onWire('host->guest', hostBytes)).not.toThrow();
  });
});

describe('inspectRecorder', () => {
  it('records the root machine state changes from snapshots', () => {
    const machine = createMachine({
      id: 'toy',
      initial: 'idle',
      states: {
        idle: { on: { GO: 'busy' } },
        busy: { initial: 'a', states: { a: { on: { NEXT: 'b' } }, b: { on: { DONE: '#toy.done' } } }, on: { NOOP: {} } },
        done: { type: 'final' },
      },
    });
    const events: TraceEvent[] = [];
    const inspect = inspectRecorder((e) => events.push(e), { session: 'x', actor: 'guest', clock: () => 0 });
    const actor = createActor(machine, { inspect }).start();
    actor.send({ type: 'GO' });
    actor.send({ type: 'NOOP' });
    actor.send({ type: 'NEXT' });
    actor.send({ type: 'DONE' });
    expect(events.map((e) => (e.kind === 'state' ? [e.machine, e.from, e.to, e.event, e.status] : null))).toEqual([
      ['toy', null, 'idle', 'xstate.init', undefined],
      ['toy', 'idle', 'busy.a', 'GO', undefined],
      ['toy', 'busy.a', 'busy.b', 'NEXT', undefined],
      ['toy', 'busy.b', 'done', 'DONE', 'done'],
    ]);
  });
});

describe('createTrace', () => {
  it('streams events from its recorders on one clock, and completes on close', () => {
    const trace = createTrace({ source: 'unit' });
    const seen: TraceEvent[] = [];
    let completed = false;
    trace.events$.subscribe({ next: (e) => seen.push(e), complete: () => (completed = true) });
    const { onWire } = trace.recorders('s1', 'host');
    onWire('host->guest', utf8('stap 4.8\n'));
    trace.close();
    trace.emit({ t: 0, session: 's1', actor: 'host', kind: 'transport', what: 'eof' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ kind: 'frame', summary: 'stap 4.8' });
    expect(seen[0]!.t).toBeGreaterThanOrEqual(0);
    expect(completed).toBe(true);
    expect(trace.header).toMatchObject({ type: 'header', version: 1, tool: 'stapflow', source: 'unit' });
  });
});

describe('recordGuestActor', () => {
  it('decodes the guest stdout, keeps separate stderr apart, and records the child', () => {
    type H = (e: unknown) => void;
    const handlers = new Map<string, H>();
    const fake = {
      on: (type: string, h: H) => {
        handlers.set(type, h);
        return { unsubscribe: () => handlers.delete(type) };
      },
    };
    const events: TraceEvent[] = [];
    const emit = (e: TraceEvent) => events.push(e);
    const wire = wireRecorder(emit, { session: 'g', actor: 'guest', clock: () => 0 });
    const stop = recordGuestActor(fake as never, emit, wire, { session: 'g', actor: 'guest', clock: () => 0 });
    wire('host->guest', utf8('stap 4.8\n'));
    handlers.get('wire')!({ type: 'wire', stream: 'stdout', bytes: utf8('stapsh 4.8 x86_64 6.1\n') });
    handlers.get('wire')!({ type: 'wire', stream: 'stderr', bytes: utf8('stapsh: reply: stapsh 4.8\n') });
    handlers.get('child')!({ type: 'child', what: 'spawned', pid: 7, argv: ['staprun', 'a.ko'] });
    handlers.get('child')!({ type: 'child', what: 'exited', exit: { kind: 'signalled', signal: 'SIGHUP', number: 1 } });
    stop();
    expect(handlers.size).toBe(0);
    expect(events.map((e) => (e.kind === 'frame' ? `${e.frame} ${e.summary}` : e.kind === 'child' ? `child ${e.what}` : e.kind))).toEqual([
      'command stap 4.8',
      'reply stapsh 4.8 x86_64 6.1',
      'stderr stderr 26',
      'child spawned',
      'child exited',
    ]);
    expect(events.at(-1)).toMatchObject({ actor: 'child', code: null, signal: 'SIGHUP', status: 129 });
  });
});

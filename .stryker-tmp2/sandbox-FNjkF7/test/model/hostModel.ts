/**
 * The host (`hostSession`) as a model for `xstate/graph`: the decoded guest
 * events it can see in each state (hellos of every kind, stale lines, OK,
 * ERROR, frames, status, quit, EOF clean or broken, decode errors), Ctrl-C,
 * its reply and settle timers and the file sender's failure; and a replay
 * harness driving the real machine with a manual clock and a controlled
 * file sender.
 */
// @ts-nocheck


import { createActor, fromPromise, type AnyEventObject } from 'xstate';
import { hostEventOf, hostSession, type HostSessionInput, type UploadSpec } from '../../machines/hostSession.js';
import { classifyReply } from '../../protocol/replyDecoder.js';
import { describeEmitted, internalEvents, manualClock, settle, type ModelPath, type ModelSpec } from './graphModel.js';


export const REPLY_MS = 30_000;
/** Distinct from the settle delays (250 ms, 2 s), so a replay knows which timer to fire. */
export const HELLO_RETRY_MS = 3_000;
export const NONCE = 'N1';

const base = {
  release: '4.8',
  remote: 'model:',
  uploads: [{ name: 'stap_1.ko', size: 4 }],
  runArgs: () => ['-R'],
  replyTimeoutMs: REPLY_MS,
  maxStaleBytes: 64,
  helloSettleMs: 250,
  helloRetryMs: HELLO_RETRY_MS,
} as const;

/** Two hosts: stapflow's on a stale channel (nonce, option data/verbose/status), and SystemTap's plain one over stdio. */
export const HOST_INPUTS: Record<string, HostSessionInput> = {
  'stapflow, stale channel': { ...base, wantData: true, verbose: 1, nonce: NONCE, askStatus: true, staleChannel: true },
  'plain, stdio': { ...base, wantData: false, verbose: 0 },
};

/** A reply line as the decoder classifies it (the host sees only that). */
const line = (text: string): AnyEventObject => hostEventOf({ type: 'line', text, reply: classifyReply(text) })!;
export const HOST_EVENTS = {
  helloPlain: line('stapsh 4.8 x86_64 6.1.0'),
  helloOurs: line(`stapsh 4.8 x86_64 6.1.0 nonce=${NONCE}`),
  helloForeign: line('stapsh 4.8 x86_64 6.1.0 nonce=OLD'),
  helloOld: line('stapsh 1.7 x86_64 6.1.0'),
  stale: line('junk'),
  // A dead session's quit before our hello's reply, as a line and as the decoder's quit.
  staleQuit: line('quit'),
  staleHuge: line('x'.repeat(80)),
  // 60 bytes: under the model's 64-byte budget alone, over it with a quit after it.
  staleNearCap: line('y'.repeat(59)),
  ok: line('OK'),
  error: line('ERROR: Invalid option'),
  data: { type: 'GUEST.DATA', stream: 'stdout', bytes: new TextEncoder().encode('hi\n') },
  status: { type: 'GUEST.STATUS', status: { kind: 'exited', code: 3 } },
  quit: { type: 'GUEST.QUIT' },
  eof: { type: 'GUEST.EOF' },
  eofReadError: { type: 'GUEST.EOF', error: 'read ECONNRESET' },
  eofWriteError: { type: 'GUEST.EOF', error: 'write EPIPE', writing: true },
  decodeError: { type: 'GUEST.DECODE_ERROR', message: 'bad data header' },
  interrupt: { type: 'INTERRUPT' },
} as const satisfies Record<string, AnyEventObject>;
const E = HOST_EVENTS;

export function hostSpec(input: HostSessionInput): ModelSpec<null> {
  return {
    machine: hostSession,
    input,
    env: null,
    events: (s) => {
      const internal = internalEvents(s);
      if (s.matches('handshake'))
        return [E.helloPlain, E.helloOurs, E.helloForeign, E.helloOld, E.stale, E.staleHuge, E.staleNearCap, E.staleQuit, E.quit, E.eof, E.decodeError, E.interrupt, ...internal];
      if (s.matches('option') || s.matches('upload') || s.matches('starting')) return [E.ok, E.error, E.eof, E.decodeError, E.interrupt, ...internal];
      if (s.matches('streaming')) return [E.data, E.status, E.quit, E.eof, E.eofReadError, E.eofWriteError, E.interrupt, E.decodeError];
      if (s.matches('quitting')) return [E.data, E.status, E.quit, E.eof, E.eofReadError, E.decodeError, E.interrupt, ...internal];
      return [];
    },
    abstract: (s) => {
      const c = s.context;
      return {
        hello: c.hello?.version ?? null,
        candidate: c.candidate?.version ?? null,
        stale: c.staleBytes > 0,
        staleNearCap: c.staleBytes >= 60,
        staleQuit: c.staleQuitSeen,
        options: c.options.join(','),
        uploadIndex: c.uploadIndex,
        error: c.error !== null,
        ended: c.ended,
        nonce: c.nonceEchoed,
        statusAgreed: c.statusAgreed,
        status: c.status !== null,
        interrupted: c.interrupted ?? false,
        started: c.started ?? false,
      };
    },
  };
}

export function describeHostEvent(e: AnyEventObject): string {
  if (e.type.startsWith('REPLY.')) return JSON.stringify(e.text.length > 20 ? `${e.text.slice(0, 12)}…(${e.text.length})` : e.text);
  if (e.type === 'GUEST.EOF') return e.error ? `EOF (${e.error})` : 'EOF';
  if (e.type.startsWith('xstate.after.')) return `timer ${e.type.split('.')[2]}`;
  if (e.type.startsWith('xstate.error.actor.')) return 'file sender fails';
  return e.type;
}

/** Replay a model path against the host machine: same events, a manual clock, a controlled file sender. */
export async function replayHostPath(path: ModelPath<null>, input: HostSessionInput) {
  const clock = manualClock();
  let sender: { reject(e: unknown): void } | null = null;
  const machine = hostSession.provide({
    actors: {
      sendFile: fromPromise<void, { spec: UploadSpec }>(() => new Promise<void>((_resolve, reject) => (sender = { reject }))),
    },
  });
  const actor = createActor(machine, { input, clock: clock.clock as any });
  const emitted: AnyEventObject[] = [];
  actor.on('*', (e) => emitted.push(e));
  actor.start();
  const expected: AnyEventObject[] = [...path.steps[0]!.emitted];
  const steps: { event: AnyEventObject; expectedValue: unknown; actualValue: unknown; expectedEmitted: string[]; actualEmitted: string[]; error?: string }[] = [];
  try {
    for (let i = 0; i < path.events.length; i++) {
      const e = path.events[i]!;
      let error: string | undefined;
      if (e.type.startsWith('xstate.after.reply.')) {
        if (!clock.fire((ms) => ms === REPLY_MS)) error = `no reply timer pending (${clock.pending().join(',')})`;
      } else if (e.type.startsWith('xstate.after.helloRetry.')) {
        if (!clock.fire((ms) => ms === HELLO_RETRY_MS)) error = `no hello retry timer pending (${clock.pending().join(',')})`;
      } else if (e.type.startsWith('xstate.after.settle.')) {
        if (!clock.fire((ms) => ms !== REPLY_MS && ms !== HELLO_RETRY_MS)) error = `no settle timer pending (${clock.pending().join(',')})`;
      } else if (e.type.startsWith('xstate.error.actor.')) {
        if (sender === null) error = 'no file being sent';
        else (sender as { reject(e: unknown): void }).reject(new Error('EPIPE'));
      } else actor.send(e as any);
      await settle();
      expected.push(...path.steps[i + 1]!.emitted);
      steps.push({
        event: e,
        expectedValue: path.steps[i + 1]!.snapshot.value,
        actualValue: actor.getSnapshot().value,
        expectedEmitted: describeEmitted(expected),
        actualEmitted: describeEmitted(emitted),
        ...(error === undefined ? {} : { error }),
      });
    }
    const snap = actor.getSnapshot();
    const last = path.steps[path.steps.length - 1]!.snapshot;
    return { steps, status: snap.status, expectedStatus: last.status, output: snap.output, expectedOutput: last.output };
  } finally {
    actor.stop();
  }
}

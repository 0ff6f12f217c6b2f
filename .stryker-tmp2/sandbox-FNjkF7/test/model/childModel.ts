/**
 * The child (`staprunChild`) as a model for `xstate/graph`: the OS process
 * actor's reports, the guest's requests (HANGUP, KILL, the draft's SIGNAL)
 * and the grace timer; and a replay harness running the real machine under
 * a parent that records its reports, with a puppet process and a manual clock.
 */
// @ts-nocheck


import { createActor, fromCallback, setup, type AnyActorRef, type AnyEventObject } from 'xstate';
import type { ProcessCommand, ProcessEvent, ProcessSpec } from '../../machines/childTypes.js';
import { staprunChild, type StaprunChildInput } from '../../machines/staprunChild.js';
import { describeEmitted, internalEvents, manualClock, settle, type ModelPath, type ModelSpec } from './graphModel.js';


export const CHILD_INPUT: StaprunChildInput = {
  spec: { path: '/usr/bin/staprun', argv: ['/usr/bin/staprun', '-R', './m.ko'], cwd: '/tmp/stapsh.MODEL' },
  graceMs: 10_000,
};

export const CHILD_EVENTS = {
  spawned: { type: 'PROCESS.SPAWNED', pid: 4242 },
  failed: { type: 'PROCESS.FAILED', reason: 'No such file or directory' },
  output: { type: 'PROCESS.OUTPUT', stream: 'stdout', bytes: new TextEncoder().encode('out\n') },
  exited: { type: 'PROCESS.EXITED', exit: { kind: 'exited', code: 0 } },
  killed: { type: 'PROCESS.EXITED', exit: { kind: 'signalled', signal: 'SIGKILL', number: 9 } },
  hangup: { type: 'HANGUP' },
  kill: { type: 'KILL' },
  signal: { type: 'SIGNAL', signal: 'SIGINT' },
} as const satisfies Record<string, AnyEventObject>;
const E = CHILD_EVENTS;

const PROCESS_EVENTS = new Set(['PROCESS.SPAWNED', 'PROCESS.FAILED', 'PROCESS.OUTPUT', 'PROCESS.EXITED']);

export function childSpec(): ModelSpec<null> {
  return {
    machine: staprunChild,
    input: CHILD_INPUT,
    env: null,
    events: (s) => {
      if (s.matches('spawning')) return [E.spawned, E.failed, E.hangup];
      if (s.matches('hangupPending')) return [E.spawned, E.failed];
      if (s.matches('running')) return [E.output, E.exited, E.killed, E.hangup, E.kill, E.signal];
      if (s.matches('hangingUp')) return [E.output, E.exited, E.killed, E.kill, ...internalEvents(s)];
      if (s.matches('killing')) return [E.output, E.killed];
      return [];
    },
    abstract: (s) => ({ pid: s.context.pid !== null, exit: s.context.exit?.kind ?? null }),
  };
}

export function describeChildEvent(e: AnyEventObject): string {
  if (e.type === 'PROCESS.EXITED') return `exited ${e.exit.kind === 'exited' ? e.exit.code : e.exit.signal}`;
  if (e.type.startsWith('xstate.after.')) return 'grace period over';
  if (e.type === 'SIGNAL') return `SIGNAL ${e.signal}`;
  return e.type;
}

/** Replay a model path: the real child machine under a recording parent, a puppet process, a manual clock. */
export async function replayChildPath(path: ModelPath<null>) {
  const clock = manualClock();
  const commands: ProcessCommand[] = [];
  let processSend: ((e: ProcessEvent) => void) | null = null;
  const puppet = fromCallback<ProcessCommand, ProcessSpec>(({ sendBack, receive }) => {
    processSend = (e) => sendBack(e);
    receive((c) => commands.push(c));
  });
  const reports: AnyEventObject[] = [];
  const parent = setup({ actors: { child: staprunChild.provide({ actors: { process: puppet } }) } }).createMachine({
    invoke: { id: 'child', src: 'child', input: CHILD_INPUT },
    on: { '*': { actions: ({ event }) => void (event.type.startsWith('CHILD.') && reports.push(event)) } },
  });
  const actor = createActor(parent, { clock: clock.clock as any });
  actor.start();
  const child = actor.getSnapshot().children.child as AnyActorRef;
  const expectedReports: AnyEventObject[] = [];
  const expectedCommands: AnyEventObject[] = [];
  const collect = (i: number) => {
    for (const s of path.steps[i]!.sent) {
      if (s.to === '#parent') expectedReports.push(s.event);
      else if (s.to === 'process') expectedCommands.push(s.event);
    }
  };
  collect(0);
  const steps: { event: AnyEventObject; expectedValue: unknown; actualValue: unknown; expected: string[]; actual: string[]; error?: string }[] = [];
  try {
    for (let i = 0; i < path.events.length; i++) {
      const e = path.events[i]!;
      let error: string | undefined;
      if (e.type.startsWith('xstate.after.')) {
        if (!clock.fire((ms) => ms === CHILD_INPUT.graceMs)) error = 'no grace timer pending';
      } else if (PROCESS_EVENTS.has(e.type)) {
        if (processSend === null) error = 'no process';
        else (processSend as (e: ProcessEvent) => void)(e as ProcessEvent);
      } else child.send(e);
      await settle();
      collect(i + 1);
      steps.push({
        event: e,
        expectedValue: path.steps[i + 1]!.snapshot.value,
        actualValue: child.getSnapshot().value,
        expected: [...describeEmitted(expectedReports), '|', ...describeEmitted(expectedCommands)],
        actual: [...describeEmitted(reports), '|', ...describeEmitted(commands)],
        ...(error === undefined ? {} : { error }),
      });
    }
    const snap = child.getSnapshot();
    const last = path.steps[path.steps.length - 1]!.snapshot;
    return { steps, status: snap.status, expectedStatus: last.status, output: snap.output, expectedOutput: last.output };
  } finally {
    actor.stop();
  }
}

/**
 * The child a guest runs (`staprun`, `stapdyn` or `stapbpf`), as an actor:
 * spawned → running → hanging up (SIGHUP sent, output still drained) →
 * killing (grace period over, SIGKILL sent) → exited. The OS process is the
 * provided `process` actor, so tests run this machine without processes.
 */
// @ts-nocheck


import { assertEvent, assign, enqueueActions, fromCallback, sendParent, setup, type AnyEventObject } from 'xstate';
import type { ChildExit, ProcessCommand, ProcessEvent, ProcessRunner, ProcessSpec } from './childTypes.js';

export interface StaprunChildInput {
  readonly spec: ProcessSpec;
  /** How long after SIGHUP the child may keep running before SIGKILL. */
  readonly graceMs: number;
  /** Starts the OS process (used by the default `process` actor; an embedder may provide that actor instead). */
  readonly run?: ProcessRunner;
}

/** What the `process` actor is started with: the spec, and the runner when the input carries one. */
export type ProcessActorInput = ProcessSpec & { readonly run?: ProcessRunner };

/** Events the child machine sends to the actor that invoked it (the guest). */
export type ChildReport =
  | { readonly type: 'CHILD.SPAWNED'; readonly pid: number }
  | { readonly type: 'CHILD.FAILED'; readonly reason: string }
  | { readonly type: 'CHILD.OUTPUT'; readonly stream: 'stdout' | 'stderr'; readonly bytes: Uint8Array }
  | { readonly type: 'CHILD.EXITED'; readonly exit: ChildExit }
  /** A signal was sent to the child (for traces: the guest does not act on it). */
  | { readonly type: 'CHILD.SIGNALLED'; readonly signal: ChildSignal };

/** Signals the guest may send its child: hang-up and kill, and the draft protocol's `signal NUM` set. */
export type ChildSignal = 'SIGHUP' | 'SIGINT' | 'SIGTERM' | 'SIGKILL';

/** Events the guest may send to the child machine. */
export type ChildRequest =
  | { readonly type: 'HANGUP' }
  | { readonly type: 'KILL' }
  /** The draft protocol's `signal NUM`: pass a signal on, the machine's state unchanged. */
  | { readonly type: 'SIGNAL'; readonly signal: ChildSignal };

type ChildEvent = ProcessEvent | ChildRequest;

export interface ChildContext {
  readonly spec: ProcessSpec;
  readonly graceMs: number;
  readonly pid: number | null;
  readonly exit: ChildExit | null;
  readonly run: ProcessRunner | undefined;
}

/** The OS process through the input's runner; without one, a failure to start. */
const processFromInput = fromCallback<ProcessCommand, ProcessActorInput>(({ input, sendBack, receive }) => {
  if (input.run === undefined) {
    sendBack({ type: 'PROCESS.FAILED', reason: 'No process actor provided' } satisfies ProcessEvent);
    return;
  }
  return input.run(input, (e) => sendBack(e), receive);
});

export const staprunChild = setup({
  types: {
    context: {} as ChildContext,
    events: {} as ChildEvent,
    input: {} as StaprunChildInput,
    output: {} as { exit: ChildExit | null },
  },
  actors: { process: processFromInput },
  actions: {
    reportSpawned: sendParent(({ event }) => {
      assertEvent(event, 'PROCESS.SPAWNED');
      return { type: 'CHILD.SPAWNED', pid: event.pid } satisfies ChildReport;
    }),
    reportFailed: sendParent(({ event }) => {
      assertEvent(event, 'PROCESS.FAILED');
      return { type: 'CHILD.FAILED', reason: event.reason } satisfies ChildReport;
    }),
    reportOutput: sendParent(({ event }) => {
      assertEvent(event, 'PROCESS.OUTPUT');
      return { type: 'CHILD.OUTPUT', stream: event.stream, bytes: event.bytes } satisfies ChildReport;
    }),
    recordExit: assign({
      exit: ({ event }) => {
        assertEvent(event, 'PROCESS.EXITED');
        return event.exit;
      },
    }),
    reportExit: sendParent(({ context }): AnyEventObject => ({ type: 'CHILD.EXITED', exit: context.exit! }) satisfies ChildReport),
    recordPid: assign({
      pid: ({ event }) => {
        assertEvent(event, 'PROCESS.SPAWNED');
        return event.pid;
      },
    }),
    // Each signal is also reported to the guest, which only traces it.
    hangUp: enqueueActions(({ enqueue }) => {
      enqueue.sendTo('process', { type: 'SIGNAL', signal: 'SIGHUP' } satisfies ProcessCommand);
      enqueue.sendParent({ type: 'CHILD.SIGNALLED', signal: 'SIGHUP' } satisfies ChildReport);
    }),
    forwardSignal: enqueueActions(({ event, enqueue }) => {
      assertEvent(event, 'SIGNAL');
      enqueue.sendTo('process', { type: 'SIGNAL', signal: event.signal } satisfies ProcessCommand);
      enqueue.sendParent({ type: 'CHILD.SIGNALLED', signal: event.signal } satisfies ChildReport);
    }),
    kill: enqueueActions(({ enqueue }) => {
      enqueue.sendTo('process', { type: 'SIGNAL', signal: 'SIGKILL' } satisfies ProcessCommand);
      enqueue.sendParent({ type: 'CHILD.SIGNALLED', signal: 'SIGKILL' } satisfies ChildReport);
    }),
  },
  delays: {
    grace: ({ context }) => context.graceMs,
  },
}).createMachine({
  id: 'staprunChild',
  context: ({ input }) => ({ spec: input.spec, graceMs: input.graceMs, pid: null, exit: null, run: input.run }),
  invoke: {
    id: 'process',
    src: 'process',
    input: ({ context }): ProcessActorInput => (context.run === undefined ? context.spec : { ...context.spec, run: context.run }),
  },
  initial: 'spawning',
  output: ({ context }) => ({ exit: context.exit }),
  states: {
    spawning: {
      on: {
        'PROCESS.SPAWNED': { target: 'running', actions: ['recordPid', 'reportSpawned'] },
        'PROCESS.FAILED': { target: 'failed', actions: 'reportFailed' },
        // A hang-up before the spawn settles is kept for when it has.
        HANGUP: { target: 'hangupPending' },
      },
    },
    hangupPending: {
      on: {
        'PROCESS.SPAWNED': { target: 'hangingUp', actions: ['recordPid', 'reportSpawned'] },
        'PROCESS.FAILED': { target: 'failed', actions: 'reportFailed' },
      },
    },
    running: {
      on: {
        'PROCESS.OUTPUT': { actions: 'reportOutput' },
        'PROCESS.EXITED': { target: 'exited', actions: ['recordExit', 'reportExit'] },
        HANGUP: { target: 'hangingUp' },
        KILL: { target: 'killing' },
        SIGNAL: { actions: 'forwardSignal' },
      },
    },
    hangingUp: {
      entry: 'hangUp',
      after: { grace: { target: 'killing' } },
      on: {
        'PROCESS.OUTPUT': { actions: 'reportOutput' },
        'PROCESS.EXITED': { target: 'exited', actions: ['recordExit', 'reportExit'] },
        KILL: { target: 'killing' },
      },
    },
    killing: {
      entry: 'kill',
      on: {
        'PROCESS.OUTPUT': { actions: 'reportOutput' },
        'PROCESS.EXITED': { target: 'exited', actions: ['recordExit', 'reportExit'] },
      },
    },
    failed: { type: 'final' },
    exited: { type: 'final' },
  },
});

/**
 * The guest (`guestStapsh`) as a model for `xstate/graph`: the protocol
 * inputs it can get in each state, the child's reports, and the workspace
 * actors' completions, with a small environment (is the child process
 * spawned yet). Also a replay harness that turns a model path into bytes on
 * the guest's input, a puppet child process and controlled workspace
 * promises, and checks each step against the model.
 */
// @ts-nocheck


import { createActor, fromCallback, fromPromise, type AnyEventObject } from 'xstate';
import type { ChildExit, ProcessCommand, ProcessEvent, ProcessSpec } from '../../machines/childTypes.js';
import { commandEvent, guestStapsh, type GuestInput } from '../../machines/guestStapsh.js';
import { pumpInto, type GuestPump } from '../../guest/pump.js';
import { staprunChild } from '../../machines/staprunChild.js';
import { utf8 } from '../../protocol/bytes.js';
import type { ModelPath, ModelSpec } from './graphModel.js';


export type ChildEnv = 'none' | 'spawning' | 'running';
export interface GuestEnv {
  readonly child: ChildEnv;
}

/** The command lines the model sends, by kind. */
export const GUEST_LINES = {
  stap: 'stap 4.8',
  optionData: 'option data',
  optionVerbose: 'option verbose',
  optionBad: 'option foo',
  optionStatus: 'option status',
  optionProgram: 'option dyninst',
  fileOk: 'file 3 a',
  fileRefused: 'file 3 _a',
  fileBadSize: 'file 0 a',
  runOk: 'run',
  runBad: 'run =',
  quit: 'quit',
  unknown: 'bogus',
} as const;
/** The pre-1.5 draft dialect's lines (no replies, no `quit`). */
export const DRAFT_LINES = {
  argData: 'arg 3',
  argEmpty: 'arg 0',
  argBad: 'arg',
  option: 'option data',
  runOk: 'run',
  quit: 'quit',
  unknown: 'bogus',
} as const;
/** Draft, while the child runs: a signal it forwards (SIGINT) and one it ignores. */
export const DRAFT_LIVE_LINES = ['signal 2', 'signal 99', 'run', 'quit', 'option data'] as const;

/** Listening mode only: a dead session's partial line glued to the hello. */
export const GLUED_HELLO = 'junkstap 4.8';
export const FILE_SIZE = 3;

const invokeId = (stateId: string) => (guestStapsh.getStateNodeById(stateId) as any).invoke[0].id as string;
export const WRITE_ID = invokeId('guestStapsh.writing');
export const REMOVE_ID = invokeId('guestStapsh.cleaning');

const line = (text: string): AnyEventObject => commandEvent(utf8(text));
/** A command line the model sends (`cmd.stap`, `cmd.option`, …). */
export const isCommand = (e: AnyEventObject): boolean => e.type.startsWith('cmd.');
export const lineText = (e: AnyEventObject): string => Buffer.from(e.bytes as Uint8Array).toString('latin1');

const EV = {
  overlong: { type: 'OVERLONG', length: 64 * 1024 + 1 },
  payloadPart: { type: 'PAYLOAD', bytes: utf8('a'), remaining: FILE_SIZE - 1 },
  payloadDone: { type: 'PAYLOAD', bytes: utf8('abc'), remaining: 0 },
  eof: { type: 'EOF' },
  signal: { type: 'SIGNAL', signal: 'SIGTERM' },
  writeDone: { type: `xstate.done.actor.${WRITE_ID}` },
  writeError: { type: `xstate.error.actor.${WRITE_ID}`, error: new Error('EACCES') },
  removeDone: { type: `xstate.done.actor.${REMOVE_ID}` },
  removeError: { type: `xstate.error.actor.${REMOVE_ID}`, error: new Error('EBUSY') },
  spawned: { type: 'CHILD.SPAWNED', pid: 4242 },
  failed: { type: 'CHILD.FAILED', reason: 'No such file or directory' },
  outStdout: { type: 'CHILD.OUTPUT', stream: 'stdout', bytes: utf8('out\n') },
  outStderr: { type: 'CHILD.OUTPUT', stream: 'stderr', bytes: utf8('err\n') },
  exited3: { type: 'CHILD.EXITED', exit: { kind: 'exited', code: 3 } satisfies ChildExit },
  exitedHup: { type: 'CHILD.EXITED', exit: { kind: 'exited', code: 7 } satisfies ChildExit },
  killed: { type: 'CHILD.EXITED', exit: { kind: 'signalled', signal: 'SIGKILL', number: 9 } satisfies ChildExit },
  signalled: { type: 'CHILD.SIGNALLED', signal: 'SIGHUP' },
} as const satisfies Record<string, AnyEventObject>;

export const GUEST_EVENTS = EV;

export interface GuestModelOptions {
  readonly listening: boolean;
  /** 4.8 (default) or a draft release below 1.5. */
  readonly release?: string;
}

export function guestInput(o: GuestModelOptions): GuestInput {
  const listening = o.listening;
  return {
    release: o.release ?? '4.8',
    machine: 'x86_64',
    kernelRelease: '6.1.0-model',
    bindir: '/usr/bin',
    workdir: '/tmp/stapsh.MODEL',
    listening,
    // No grace timer may fire during a replay: the model decides when the child ends.
    limits: { graceMs: 600_000 },
  };
}

export function guestSpec(o: GuestModelOptions): ModelSpec<GuestEnv> {
  const draft = o.release !== undefined && o.release < '1.5';
  return {
    machine: guestStapsh,
    input: guestInput(o),
    env: { child: 'none' },
    events: (s, env) => {
      const allLines = Object.values(draft ? DRAFT_LINES : GUEST_LINES).map(line);
      if (s.matches('listening')) return [...allLines, line(GLUED_HELLO), EV.overlong, EV.eof, EV.signal];
      if (s.matches('ready')) return [...allLines, EV.overlong, EV.eof, EV.signal];
      if (s.matches('receiving')) return [EV.payloadPart, EV.payloadDone, EV.eof, EV.signal];
      if (s.matches('writing')) return [EV.writeDone, EV.writeError, EV.signal];
      if (s.matches({ running: 'starting' })) return [EV.spawned, EV.failed, EV.signal];
      if (s.matches({ running: 'live' }) && draft) return [EV.outStdout, EV.exited3, ...DRAFT_LIVE_LINES.map(line), EV.eof, EV.signal];
      if (s.matches({ running: 'live' }))
        return [
          EV.outStdout,
          EV.outStderr,
          EV.exited3,
          ...(['quit', 'optionData', 'optionVerbose', 'optionBad', 'optionStatus', 'optionProgram', 'stap', 'unknown', 'fileOk', 'runOk'] as const).map((k) => line(GUEST_LINES[k])),
          line('signal 2'),
          EV.eof,
          EV.signal,
        ];
      if (s.matches({ running: 'hangingUp' }))
        return env.child === 'spawning' ? [EV.spawned, EV.failed] : [EV.outStdout, EV.signalled, EV.exitedHup, EV.killed];
      if (s.matches('cleaning')) return [EV.removeDone, EV.removeError];
      return [];
    },
    nextEnv: (env, event, before, after) => {
      if (event.type === 'CHILD.SPAWNED') return { child: 'running' };
      if (event.type === 'CHILD.FAILED' || event.type === 'CHILD.EXITED') return { child: 'none' };
      if (!before.matches('running') && after.matches('running')) return { child: 'spawning' };
      return env;
    },
    abstract: (s, env) => {
      const c = s.context;
      return {
        dataMode: c.dataMode,
        framing: c.framing,
        verbose: c.verbose > 0,
        statusWanted: c.statusWanted,
        pending: c.pending === null ? null : `${c.pending.purpose ?? 'file'}:${c.pending.name === null ? 'refused' : 'kept'}`,
        draftArgs: (c.draftArgs?.length ?? 0) > 0,
        run: c.argv !== null,
        exit: c.exit?.kind ?? null,
        ending: c.ending,
        child: env.child,
      };
    },
  };
}

// ---------------------------------------------------------------------------
// Replay

interface Deferred {
  resolve(): void;
  reject(e: unknown): void;
}

interface Puppet {
  readonly spec: ProcessSpec;
  send(e: ProcessEvent): void;
  readonly signals: string[];
}

export interface ReplayStep {
  readonly event: AnyEventObject;
  readonly expectedValue: unknown;
  readonly actualValue: unknown;
  readonly expectedStdout: string;
  readonly actualStdout: string;
  readonly expectedStderr: string;
  readonly actualStderr: string;
}

const settle = async () => {
  for (let i = 0; i < 6; i++) await new Promise((r) => setImmediate(r));
};

/** The byte-level scenario of a model event (what a host or the OS does). */
export function describeEvent(e: AnyEventObject): string {
  switch (e.type) {
    case 'cmd.stap':
    case 'cmd.option':
    case 'cmd.file':
    case 'cmd.run':
    case 'cmd.quit':
    case 'cmd.arg':
    case 'cmd.signal':
    case 'cmd.unknown':
      return JSON.stringify(`${lineText(e)}\n`);
    case 'PAYLOAD':
      return e.remaining === 0 ? 'payload (rest)' : 'payload (1 byte)';
    case 'OVERLONG':
      return 'a 65537-byte line';
    case 'CHILD.OUTPUT':
      return `child ${e.stream} ${JSON.stringify(Buffer.from(e.bytes).toString('latin1'))}`;
    case 'CHILD.EXITED':
      return `child exits ${e.exit.kind === 'exited' ? e.exit.code : e.exit.signal}`;
    default:
      if (e.type.startsWith('xstate.done.actor.')) return e.type.includes(WRITE_ID) ? 'write ok' : 'temp dir removed';
      if (e.type.startsWith('xstate.error.actor.')) return e.type.includes(WRITE_ID) ? 'write fails' : 'removal fails';
      return e.type;
  }
}

/** Replay a model path against the guest machine fed with bytes through its pump, with a puppet child. */
export async function replayGuestPath(path: ModelPath<GuestEnv>, o: GuestModelOptions) {
  let puppet: Puppet | null = null;
  let write: Deferred | null = null;
  let remove: Deferred | null = null;
  let removeStarted = false;
  const processActor = fromCallback<ProcessCommand, ProcessSpec>(({ input, sendBack, receive }) => {
    const p: Puppet = { spec: input, send: (e) => sendBack(e), signals: [] };
    receive((cmd) => p.signals.push(cmd.signal));
    puppet = p;
  });
  const machine = guestStapsh.provide({
    actors: {
      // Typed loosely: only the completion matters here, whatever the machine passes as input.
      writeFile: fromPromise<void, any>(() => new Promise<void>((resolve, reject) => (write = { resolve, reject }))),
      removeWorkspace: fromPromise<void, any>(() => {
        removeStarted = true;
        return new Promise<void>((resolve, reject) => (remove = { resolve, reject }));
      }),
      child: staprunChild.provide({ actors: { process: processActor } }),
    },
  });
  const actor = createActor(machine, { input: guestInput(o) });
  let stdout = '';
  let stderr = '';
  actor.on('wire', (e) => {
    const t = Buffer.from(e.bytes).toString('latin1');
    if (e.stream === 'stdout') stdout += t;
    else stderr += t;
  });
  actor.start();
  const pump: GuestPump = pumpInto(actor);
  let payloadLeft = 0;
  const steps: ReplayStep[] = [];
  let expectedStdout = '';
  let expectedStderr = '';
  const wireOfStep = (i: number) => {
    for (const e of path.steps[i]!.emitted) {
      if (e.type !== 'wire') continue;
      const t = Buffer.from(e.bytes as Uint8Array).toString('latin1');
      if (e.stream === 'stdout') expectedStdout += t;
      else expectedStderr += t;
    }
  };
  wireOfStep(0);
  try {
    for (let i = 0; i < path.events.length; i++) {
      const e = path.events[i]!;
      const before = path.steps[i]!;
      switch (isCommand(e) ? 'command' : e.type) {
        case 'command':
          pump.push(utf8(`${lineText(e)}\n`));
          break;
        case 'OVERLONG':
          pump.push(utf8(`${'x'.repeat(64 * 1024 + 1)}\n`));
          break;
        case 'PAYLOAD': {
          const n = e.remaining === 0 ? payloadLeft : 1;
          pump.push(utf8('abc'.slice(FILE_SIZE - payloadLeft, FILE_SIZE - payloadLeft + n)));
          payloadLeft -= n;
          break;
        }
        case 'EOF':
          pump.end();
          break;
        case 'SIGNAL':
          actor.send({ type: 'SIGNAL', signal: e.signal });
          break;
        case 'CHILD.SPAWNED':
          (puppet as Puppet | null)?.send({ type: 'PROCESS.SPAWNED', pid: e.pid });
          break;
        case 'CHILD.FAILED':
          (puppet as Puppet | null)?.send({ type: 'PROCESS.FAILED', reason: e.reason });
          break;
        case 'CHILD.OUTPUT':
          (puppet as Puppet | null)?.send({ type: 'PROCESS.OUTPUT', stream: e.stream, bytes: e.bytes });
          break;
        case 'CHILD.EXITED':
          (puppet as Puppet | null)?.send({ type: 'PROCESS.EXITED', exit: e.exit });
          break;
        case 'CHILD.SIGNALLED':
          // Sent by the child machine itself when the guest hangs up: nothing to do but check it was.
          if (!(puppet as Puppet | null)?.signals.includes(e.signal)) throw new Error(`the child was not sent ${e.signal}`);
          break;
        default:
          if (e.type === EV.writeDone.type) (write as Deferred | null)?.resolve();
          else if (e.type === EV.writeError.type) (write as Deferred | null)?.reject(new Error('EACCES'));
          else if (e.type === EV.removeDone.type) (remove as Deferred | null)?.resolve();
          else if (e.type === EV.removeError.type) (remove as Deferred | null)?.reject(new Error('EBUSY'));
          else throw new Error(`no replay for ${e.type}`);
      }
      await settle();
      const after = path.steps[i + 1]!;
      if (isCommand(e) && after.snapshot.matches('receiving') && !before.snapshot.matches('receiving')) payloadLeft = FILE_SIZE;
      wireOfStep(i + 1);
      steps.push({
        event: e,
        expectedValue: after.snapshot.value,
        actualValue: actor.getSnapshot().value,
        expectedStdout,
        actualStdout: stdout,
        expectedStderr,
        actualStderr: stderr,
      });
    }
    const snap = actor.getSnapshot();
    const last = path.steps[path.steps.length - 1]!.snapshot;
    return {
      steps,
      status: snap.status,
      expectedStatus: last.status,
      output: snap.output,
      expectedOutput: last.output,
      removeStarted,
      reachedCleaning: path.steps.some((s) => s.snapshot.matches('cleaning')),
      spawned: (puppet as Puppet | null)?.spec ?? null,
      signals: (puppet as Puppet | null)?.signals ?? [],
    };
  } finally {
    actor.stop();
  }
}

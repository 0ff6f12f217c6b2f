/**
 * The guest (`stapsh`) as a state machine. It sees decoded command lines and
 * payload parts, and emits the bytes to write (`wire` events) and requests to
 * the pump that feeds it (`expectPayload`). The temp dir, file writes and the
 * child process are provided actors, so the same machine runs in-memory in
 * property tests and against real processes in the CLI.
 *
 * Where SystemTap's 4.8 guest loses data or desynchronises, this one does not
 * (see README "Differences from SystemTap"): every arrived line is handled, a
 * refused `file` still has its payload consumed, and a hung-up child's output
 * is drained until it exits (bounded by the grace period).
 */

import { assign, emit, enqueueActions, fromPromise, setup, type ActorRefFrom } from 'xstate';
import { concatBytes, latin1, utf8 } from '../protocol/bytes.js';
import { parseCommandLine } from '../protocol/commandLine.js';
import { nonceWord, STATUS_OPTION, statusText, type ChildStatus } from '../protocol/extensions.js';
import { featuresOf, type Features } from '../protocol/releases.js';
import { exitCodeOf, type ChildExit, type ChildProgram, type OutputStream, type ProcessRunner } from './childTypes.js';
import {
  DEFAULT_GUEST_LIMITS,
  judgeFile,
  judgeOption,
  judgeDraftRun,
  judgeRun,
  programForFile,
  type GuestLimits,
} from './guestReplies.js';
import { staprunChild, type ChildReport, type ChildRequest, type ChildSignal } from './staprunChild.js';

export interface GuestInput {
  /** The release this guest behaves as (hello version, commands, options). */
  readonly release: string;
  /** `uname -m` and `uname -r`, sent in the hello. */
  readonly machine: string;
  readonly kernelRelease: string;
  /** Number of `-v`s. */
  readonly verbose?: number;
  /** Listening mode (`-l`): ignore every line before the first `stap`. */
  readonly listening?: boolean;
  /** Directory holding staprun/stapdyn/stapbpf. */
  readonly bindir: string;
  /** The private temp dir (the child's working directory). */
  readonly workdir: string;
  readonly limits?: Partial<GuestLimits>;
  /**
   * stapflow's extensions, answered only when a host asks (`option status`,
   * the hello nonce). Default true; false answers exactly as the release does.
   */
  readonly extensions?: boolean;
  /** The OS effects the default actors use: the workspace and the child process. */
  readonly effects?: GuestEffects;
}

/**
 * The guest's OS effects as plain functions, carried in the input so one
 * machine definition serves every session (see `ProcessRunner`). Embedders
 * may instead `provide()` the `writeFile`, `removeWorkspace` and `child` actors.
 */
export interface GuestEffects {
  /** Store an accepted file in the private temp dir. */
  writeFile(name: string, chunks: readonly Uint8Array[]): Promise<void>;
  /** Remove the private temp dir (the session is over). */
  removeWorkspace(): Promise<void>;
  /** Start the child process. */
  readonly runProcess: ProcessRunner;
}

/** Pieces of input, as the pump pulls them from the command decoder. */
export type GuestInputEvent =
  | { readonly type: 'LINE'; readonly bytes: Uint8Array }
  | { readonly type: 'OVERLONG'; readonly length: number }
  | { readonly type: 'PAYLOAD'; readonly bytes: Uint8Array; readonly remaining: number }
  /** The host's side of the channel ended. */
  | { readonly type: 'EOF' }
  /** A terminating signal reached the guest process (SIGHUP, SIGINT, SIGTERM, SIGPIPE). */
  | { readonly type: 'SIGNAL'; readonly signal: string };

type GuestEvent = GuestInputEvent | ChildReport;

/** What the guest asks of whoever runs it. */
export type GuestEmitted =
  /** Bytes for the guest's stdout or stderr (a merged channel takes both). */
  | { readonly type: 'wire'; readonly stream: OutputStream; readonly bytes: Uint8Array }
  /** The next `size` input bytes are a file payload. */
  | { readonly type: 'expectPayload'; readonly size: number }
  /** A child was started or ended (for traces and timelines). */
  | { readonly type: 'child'; readonly what: 'spawned'; readonly pid: number; readonly argv: readonly string[] }
  | { readonly type: 'child'; readonly what: 'signal'; readonly signal: ChildSignal }
  | { readonly type: 'child'; readonly what: 'exited'; readonly exit: ChildExit };

/** A file being received: kept when accepted, discarded when refused. */
export interface PendingFile {
  /** A `file` payload, or (the pre-1.5 draft) an `arg` payload: one argument of the next `run`. */
  readonly purpose: 'file' | 'arg';
  /** The file's name (`arg` for an argument); null when the payload is read and dropped. */
  readonly name: string | null;
  readonly size: number;
  readonly chunks: Uint8Array[];
}

export interface GuestContext {
  readonly release: string;
  readonly features: Features;
  readonly hello: string;
  readonly bindir: string;
  readonly workdir: string;
  readonly limits: GuestLimits;
  readonly verbose: number;
  readonly awaitingStap: boolean;
  readonly extensions: boolean;
  readonly effects: GuestEffects | undefined;
  /** The host sent `option status`: report the child's end before `quit`. */
  readonly statusWanted: boolean;
  readonly dataMode: boolean;
  /**
   * Whether the running child's output is framed: fixed when it starts, as
   * SystemTap's child either inherits the guest's stdout or gets a pipe.
   */
  readonly framing: boolean;
  /** Program forced by `option dyninst`/`option bpf`, else the latest file's. */
  readonly forcedProgram: ChildProgram | null;
  readonly fileProgram: ChildProgram | null;
  readonly uploaded: number;
  readonly pending: PendingFile | null;
  readonly argv: readonly string[] | null;
  /** The pre-1.5 draft: arguments sent with `arg SIZE` for the next `run`. */
  readonly draftArgs: readonly Uint8Array[];
  readonly exit: ChildExit | null;
  /** Why the session is ending: the guest's own exit status follows from it. */
  readonly ending: 'quit' | 'eof' | 'signal' | 'child' | null;
}

export interface GuestOutput {
  /** The guest process's exit status. */
  readonly exitCode: number;
  readonly exit: ChildExit | null;
}

const NL = utf8('\n');

/**
 * A reply line on stdout, preceded by its `stapsh: reply: …` debug line when
 * verbose (and `debug`): the guest's one way of answering. The pre-1.5 draft
 * protocol never replies (its debug line still goes to stderr).
 */
function replyEvents(context: GuestContext, text: string, debug = true): GuestEmitted[] {
  const out: GuestEmitted[] = [];
  if (debug && context.verbose > 0) out.push({ type: 'wire', stream: 'stderr', bytes: debugBytes(`reply: ${text}`) });
  if (!context.features.draft) out.push({ type: 'wire', stream: 'stdout', bytes: utf8(`${text}\n`) });
  return out;
}

/** The draft protocol's `signal NUM`: the numbers it may name (others are ignored, as is any reply). */
const DRAFT_SIGNALS: Readonly<Record<number, ChildSignal>> = { 1: 'SIGHUP', 2: 'SIGINT', 9: 'SIGKILL', 15: 'SIGTERM' };
/** Largest draft `arg` payload kept (a larger one is read and dropped). */
const DRAFT_MAX_ARG_BYTES = 64 * 1024;

/** The `status` line's view of a child's end; null when there is none to report (no child, an unknown signal). */
function statusOfExit(exit: ChildExit | null): ChildStatus | null {
  if (exit === null) return null;
  if (exit.kind === 'exited') return exit.code >= 0 && exit.code <= 255 ? { kind: 'exited', code: exit.code } : null;
  return exit.number >= 1 && exit.number <= 127 ? { kind: 'signalled', number: exit.number } : null;
}

/** The hello reply to a `stap` line: with the host's nonce echoed when it sent one and extensions are on. */
function helloFor(context: GuestContext, nonce: string | null): string {
  return nonce !== null && context.extensions ? `${context.hello} ${nonceWord(nonce)}` : context.hello;
}

/** Write a debug line, in SystemTap's `stapsh:` form that hosts skip. */
function debugBytes(text: string): Uint8Array {
  return utf8(`stapsh: ${text}\n`);
}

/**
 * In listening mode, a line that is not a `stap` command but ends in one:
 * bytes a dead session left without a newline, glued to the next hello
 * (SystemTap's guest ignores such a line and the host waits forever).
 */
function helloSuffix(line: Uint8Array): Uint8Array | null {
  if (parseCommandLine(line).command === 'stap') return null;
  const text = latin1(line);
  const at = text.search(/stap([ \t\r][^\n]*)?$/);
  if (at <= 0) return null;
  const suffix = line.subarray(at);
  return parseCommandLine(suffix).command === 'stap' ? suffix : null;
}

/** The workspace through the input's effects (an embedder may provide these actors instead). */
const writeFileFromInput = fromPromise<void, { name: string; chunks: readonly Uint8Array[]; effects?: GuestEffects }>(async ({ input }) => {
  if (input.effects === undefined) throw new Error('No workspace provided');
  await input.effects.writeFile(input.name, input.chunks);
});
const removeWorkspaceFromInput = fromPromise<void, { effects?: GuestEffects }>(async ({ input }) => {
  await input.effects?.removeWorkspace();
});

export const guestStapsh = setup({
  types: {
    context: {} as GuestContext,
    events: {} as GuestEvent,
    input: {} as GuestInput,
    output: {} as GuestOutput,
    emitted: {} as GuestEmitted,
  },
  actors: {
    writeFile: writeFileFromInput,
    removeWorkspace: removeWorkspaceFromInput,
    child: staprunChild,
  },
  guards: {
    gluedHello: ({ context, event }) => context.awaitingStap && event.type === 'LINE' && helloSuffix(event.bytes) !== null,
    ignoredBeforeHello: ({ context, event }) =>
      context.awaitingStap && event.type === 'LINE' && parseCommandLine(event.bytes).command !== 'stap',
    // The draft protocol has no `quit`: EOF ends its sessions.
    isQuit: ({ context, event }) => !context.features.draft && event.type === 'LINE' && parseCommandLine(event.bytes).command === 'quit',
    isDraftSignal: ({ context, event }) => context.features.draft && event.type === 'LINE' && parseCommandLine(event.bytes).command === 'signal',
    isArgPayload: ({ context }) => context.pending?.purpose === 'arg',
    isOption: ({ event }) => event.type === 'LINE' && parseCommandLine(event.bytes).command === 'option',
    payloadDone: ({ event }) => event.type === 'PAYLOAD' && event.remaining === 0,
    keepsFile: ({ context }) => context.pending?.name !== null,
    hasPendingFile: ({ context }) => context.pending !== null,
    hasRunRequest: ({ context }) => context.argv !== null,
  },
  actions: {
    /** Answer one line in the `ready` state; may move on to a file or a run. */
    handleLine: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'LINE') return;
      const debug = (text: string) => {
        if (context.verbose > 0) enqueue.emit({ type: 'wire', stream: 'stderr', bytes: debugBytes(text) });
      };
      const reply = (text: string) => replyEvents(context, text).forEach((e) => enqueue.emit(e));
      debug(`command: ${latin1(event.bytes)}`);
      const line = parseCommandLine(event.bytes);
      switch (line.command) {
        case 'stap':
          enqueue.assign({ awaitingStap: false });
          reply(helloFor(context, line.nonce));
          return;
        case 'option': {
          if (!context.features.options) return; // before 2.4 `option` is an unknown word
          if (line.name === STATUS_OPTION && context.extensions) {
            enqueue.assign({ statusWanted: true });
            reply('OK');
            return;
          }
          const verdict = judgeOption(line.name, context.features);
          switch (verdict.kind) {
            case 'error':
              reply(verdict.reply);
              return;
            case 'verbose':
              // Verbose from here on, so this very reply is already logged.
              enqueue.assign({ verbose: context.verbose + 1 });
              enqueue.emit({ type: 'wire', stream: 'stderr', bytes: debugBytes('reply: OK') });
              enqueue.emit({ type: 'wire', stream: 'stdout', bytes: utf8('OK\n') });
              return;
            case 'data':
              enqueue.assign({ dataMode: true });
              reply('OK');
              return;
            case 'program':
              enqueue.assign({ forcedProgram: verdict.program });
              reply('OK');
              return;
          }
          return;
        }
        case 'file': {
          const verdict = judgeFile(line.size, line.name, context.uploaded, context.limits);
          if (verdict.kind === 'badSize') {
            reply(verdict.reply);
            return;
          }
          if (verdict.kind === 'refused') {
            reply(verdict.reply);
            enqueue.assign({ pending: { purpose: 'file', name: null, size: verdict.size, chunks: [] } });
          } else {
            enqueue.assign({ pending: { purpose: 'file', name: verdict.name, size: verdict.size, chunks: [] } });
          }
          enqueue.emit({ type: 'expectPayload', size: verdict.size });
          return;
        }
        case 'arg': {
          // The draft's arguments, silently bounded: an unusable size cannot be skipped (it is the
          // length of what follows), one over the count or size bound is read and dropped.
          if (!context.features.draft || line.size < 0) return;
          const keep = line.size <= DRAFT_MAX_ARG_BYTES && context.draftArgs.length < context.limits.maxRunArgs;
          if (line.size === 0) {
            if (keep) enqueue.assign({ draftArgs: [...context.draftArgs, new Uint8Array(0)] });
            return;
          }
          enqueue.assign({ pending: { purpose: 'arg', name: keep ? 'arg' : null, size: line.size, chunks: [] } });
          enqueue.emit({ type: 'expectPayload', size: line.size });
          return;
        }
        case 'signal':
          return; // the draft's `signal NUM` only means something while a child runs
        case 'run': {
          const verdict = context.features.draft ? judgeDraftRun(context.draftArgs) : judgeRun(line.args, context.limits);
          if (verdict.kind === 'error') {
            reply(verdict.reply);
            return;
          }
          const program = context.forcedProgram ?? context.fileProgram ?? 'staprun';
          const path = `${context.bindir.replace(/\/+$/, '')}/${program}`;
          enqueue.assign({ argv: [path, ...verdict.args], draftArgs: [] });
          return;
        }
        case 'quit':
          return; // handled by a transition
        case 'unknown':
          return; // SystemTap's guest answers unknown words with silence
      }
    }),
    answerGluedHello: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'LINE') return;
      const hello = parseCommandLine(helloSuffix(event.bytes) ?? event.bytes);
      const text = helloFor(context, hello.command === 'stap' ? hello.nonce : null);
      enqueue.assign({ awaitingStap: false });
      for (const e of replyEvents(context, text)) enqueue.emit(e);
    }),
    debugIgnored: enqueueActions(({ context, event, enqueue }) => {
      if (context.verbose > 0 && event.type === 'LINE') {
        enqueue.emit({ type: 'wire', stream: 'stderr', bytes: debugBytes(`ignored: ${latin1(event.bytes)}`) });
      }
    }),
    replyOverlong: enqueueActions(({ context, enqueue }) => {
      for (const e of replyEvents(context, 'ERROR: Command line too long', false)) enqueue.emit(e);
    }),
    acceptArg: enqueueActions(({ context, enqueue }) => {
      const pending = context.pending!;
      enqueue.assign({ pending: null, ...(pending.name === null ? {} : { draftArgs: [...context.draftArgs, concatBytes(pending.chunks)] }) });
    }),
    signalChild: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'LINE') return;
      const line = parseCommandLine(event.bytes);
      const signal = line.command === 'signal' ? DRAFT_SIGNALS[line.number] : undefined;
      if (signal !== undefined) enqueue.sendTo('child', { type: 'SIGNAL', signal } satisfies ChildRequest);
    }),
    collectPayload: assign({
      pending: ({ context, event }) => {
        const pending = context.pending!;
        // Refused files are read and dropped: nothing of them is kept.
        if (event.type === 'PAYLOAD' && pending.name !== null) pending.chunks.push(event.bytes);
        return pending;
      },
    }),
    acceptFile: enqueueActions(({ context, enqueue }) => {
      const pending = context.pending!;
      enqueue.assign({
        uploaded: context.uploaded + pending.size,
        fileProgram: programForFile(pending.name!, context.features),
        pending: null,
      });
    }),
    dropPending: assign({ pending: null }),
    replyOk: emit({ type: 'wire', stream: 'stdout', bytes: utf8('OK\n') }),
    replyOkDebug: enqueueActions(({ context, enqueue }) => {
      for (const e of replyEvents(context, 'OK')) enqueue.emit(e);
    }),
    replyTruncatedFile: enqueueActions(({ context, enqueue }) => {
      // SystemTap's guest reads the payload only of a file it accepted: EOF inside a refused
      // one's (which ours reads and drops) is no news to a host.
      if (context.pending?.name == null) return;
      for (const e of replyEvents(context, 'ERROR: Reached EOF while reading file data')) enqueue.emit(e);
    }),
    replyCantOpen: enqueueActions(({ context, enqueue }) => {
      const text = `ERROR: Can't open file "${context.pending?.name ?? ''}" for writing`;
      for (const e of replyEvents(context, text, false)) enqueue.emit(e);
    }),
    replySpawnFailed: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'CHILD.FAILED') return;
      const text = `ERROR: Can't execute ${context.argv?.[0] ?? ''} (${event.reason})`;
      for (const e of replyEvents(context, text, false)) enqueue.emit(e);
      enqueue.assign({ argv: null });
    }),
    announceSpawn: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'CHILD.SPAWNED') return;
      enqueue.emit({ type: 'child', what: 'spawned', pid: event.pid, argv: context.argv ?? [] });
    }),
    announceSignal: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'CHILD.SIGNALLED') return;
      enqueue.emit({ type: 'child', what: 'signal', signal: event.signal });
    }),
    forwardOutput: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'CHILD.OUTPUT' || event.bytes.length === 0) return;
      if (context.framing) {
        enqueue.emit({ type: 'wire', stream: event.stream, bytes: utf8(`data ${event.stream} ${event.bytes.length}\n`) });
      }
      enqueue.emit({ type: 'wire', stream: event.stream, bytes: event.bytes });
    }),
    recordExit: enqueueActions(({ event, enqueue }) => {
      if (event.type !== 'CHILD.EXITED') return;
      enqueue.assign({ exit: event.exit });
      enqueue.emit({ type: 'child', what: 'exited', exit: event.exit });
    }),
    hangUpChild: enqueueActions(({ enqueue }) => {
      enqueue.sendTo('child', { type: 'HANGUP' } satisfies ChildRequest);
    }),
    announceQuit: enqueueActions(({ context, enqueue }) => {
      if (!context.dataMode) return;
      const status = context.statusWanted ? statusOfExit(context.exit) : null;
      if (status !== null) for (const e of replyEvents(context, statusText(status))) enqueue.emit(e);
      for (const e of replyEvents(context, 'quit')) enqueue.emit(e);
    }),
    endBy: assign({
      ending: ({ event }) => {
        switch (event.type) {
          case 'EOF':
            return 'eof' as const;
          case 'SIGNAL':
            return 'signal' as const;
          case 'CHILD.EXITED':
            return 'child' as const;
          default:
            return 'quit' as const;
        }
      },
    }),
  },
  delays: {},
}).createMachine({
  id: 'guestStapsh',
  context: ({ input }) => {
    const limits = { ...DEFAULT_GUEST_LIMITS, ...input.limits };
    return {
      release: input.release,
      features: featuresOf(input.release),
      hello: `stapsh ${input.release} ${input.machine} ${input.kernelRelease}`,
      bindir: input.bindir,
      workdir: input.workdir,
      limits,
      verbose: input.verbose ?? 0,
      awaitingStap: input.listening ?? false,
      extensions: input.extensions ?? true,
      effects: input.effects,
      statusWanted: false,
      dataMode: false,
      framing: false,
      forcedProgram: null,
      fileProgram: null,
      uploaded: 0,
      pending: null,
      argv: null,
      draftArgs: [],
      exit: null,
      ending: null,
    };
  },
  output: ({ context }) => ({
    exitCode: context.exit === null ? 0 : exitCodeOf(context.exit),
    exit: context.exit,
  }),
  initial: 'ready',
  states: {
    /** Waiting for a command. */
    ready: {
      on: {
        LINE: [
          // A stale partial line from a dead session glued to the hello: answer the hello.
          { guard: 'gluedHello', actions: ['debugIgnored', 'answerGluedHello'] },
          { guard: 'ignoredBeforeHello', actions: 'debugIgnored' },
          { guard: 'isQuit', target: 'ending', actions: ['handleLine', 'endBy'] },
          { target: 'dispatch', actions: 'handleLine' },
        ],
        OVERLONG: { actions: 'replyOverlong' },
        EOF: { target: 'ending', actions: 'endBy' },
        SIGNAL: { target: 'ending', actions: 'endBy' },
      },
    },
    /** Where a handled line leads: a payload to read, a child to start, or back. */
    dispatch: {
      always: [
        { guard: 'hasPendingFile', target: 'receiving' },
        { guard: 'hasRunRequest', target: 'running' },
        { target: 'ready' },
      ],
    },
    /** Reading a `file` payload (kept, or dropped when the name was refused). */
    receiving: {
      tags: ['payload'],
      on: {
        PAYLOAD: [
          { guard: 'payloadDone', actions: 'collectPayload', target: 'payloadRead' },
          { actions: 'collectPayload' },
        ],
        // As SystemTap's guest words it (found by the model-based tests against its 4.8).
        EOF: { target: 'ending', actions: ['replyTruncatedFile', 'dropPending', 'endBy'] },
        SIGNAL: { target: 'ending', actions: ['dropPending', 'endBy'] },
      },
    },
    payloadRead: {
      always: [
        { guard: 'isArgPayload', target: 'ready', actions: 'acceptArg' },
        { guard: 'keepsFile', target: 'writing' },
        { target: 'ready', actions: 'dropPending' },
      ],
    },
    /** Writing an accepted file into the temp dir. */
    writing: {
      tags: ['busy'],
      invoke: {
        src: 'writeFile',
        input: ({ context }) => ({
          name: context.pending!.name!,
          chunks: context.pending!.chunks,
          ...(context.effects === undefined ? {} : { effects: context.effects }),
        }),
        onDone: { target: 'ready', actions: ['acceptFile', 'replyOkDebug'] },
        onError: { target: 'ready', actions: ['replyCantOpen', 'dropPending'] },
      },
      on: {
        SIGNAL: { target: 'ending', actions: ['dropPending', 'endBy'] },
      },
    },
    /** A child, once spawned or failed; everything but the child waits. */
    running: {
      entry: assign({ framing: ({ context }) => context.dataMode }),
      invoke: {
        id: 'child',
        src: 'child',
        input: ({ context }) => ({
          spec: { path: context.argv![0]!, argv: context.argv!, cwd: context.workdir },
          graceMs: context.limits.graceMs,
          ...(context.effects === undefined ? {} : { run: context.effects.runProcess }),
        }),
      },
      // The child machine reports the signals it sends (SIGHUP, SIGKILL after the grace period) for traces.
      on: { 'CHILD.SIGNALLED': { actions: 'announceSignal' } },
      initial: 'starting',
      states: {
        starting: {
          tags: ['busy'],
          on: {
            'CHILD.SPAWNED': { target: 'live', actions: ['replyOkDebug', 'announceSpawn'] },
            'CHILD.FAILED': { target: '#guestStapsh.ready', actions: 'replySpawnFailed' },
            SIGNAL: { target: 'hangingUp', actions: 'endBy' },
          },
        },
        live: {
          on: {
            'CHILD.OUTPUT': { actions: 'forwardOutput' },
            'CHILD.EXITED': { target: '#guestStapsh.ending', actions: ['recordExit', 'endBy'] },
            LINE: [
              { guard: 'isQuit', target: 'hangingUp', actions: 'endBy' },
              { guard: 'isDraftSignal', actions: 'signalChild' },
              // SystemTap's guest still takes options while the child runs (stap, file and run get silence).
              { guard: 'isOption', actions: 'handleLine' },
              { actions: 'debugIgnored' },
            ],
            EOF: { target: 'hangingUp', actions: 'endBy' },
            SIGNAL: { target: 'hangingUp', actions: 'endBy' },
          },
        },
        /** SIGHUP sent; output is still framed until the child exits. */
        hangingUp: {
          entry: 'hangUpChild',
          on: {
            // A signal came while the child was being spawned: the run did start, so it is answered
            // (the host waits for this OK), then the child is hung up.
            'CHILD.SPAWNED': { actions: ['replyOkDebug', 'announceSpawn'] },
            'CHILD.OUTPUT': { actions: 'forwardOutput' },
            'CHILD.EXITED': { target: '#guestStapsh.ending', actions: 'recordExit' },
            'CHILD.FAILED': { target: '#guestStapsh.ending', actions: 'replySpawnFailed' },
          },
        },
      },
    },
    /** The session is over: announce `quit` (data mode), then clean up. */
    ending: {
      entry: 'announceQuit',
      always: { target: 'cleaning' },
    },
    cleaning: {
      tags: ['busy'],
      invoke: {
        src: 'removeWorkspace',
        input: ({ context }) => (context.effects === undefined ? {} : { effects: context.effects }),
        onDone: 'done',
        onError: 'done',
      },
    },
    done: { type: 'final' },
  },
});

export type GuestActor = ActorRefFrom<typeof guestStapsh>;

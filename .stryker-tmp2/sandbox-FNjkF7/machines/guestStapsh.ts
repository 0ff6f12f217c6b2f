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
// @ts-nocheck


import { and, assertEvent, assign, enqueueActions, fromPromise, setup, type ActorRefFrom } from 'xstate';
import { concatBytes, latin1, utf8 } from '../protocol/bytes.js';
import { gluedHello, parseCommandLine, type CommandLine } from '../protocol/commandLine.js';
import { nonceWord, statusText, type ChildStatus } from '../protocol/extensions.js';
import { featuresOf, type Features } from '../protocol/releases.js';
import { exitCodeOf, type ChildExit, type ChildProgram, type OutputStream, type ProcessRunner } from './childTypes.js';
import {
  DEFAULT_GUEST_LIMITS,
  draftSignal,
  judgeDraftArg,
  judgeFile,
  judgeOptionLine,
  judgeRunLine,
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

/**
 * One command line, taken apart once (by the pump): `cmd.` and the command's
 * word (`cmd.stap`, `cmd.option`, `cmd.file`, `cmd.run`, `cmd.quit`, the
 * draft's `cmd.arg` and `cmd.signal`, else `cmd.unknown`), its parsed
 * fields, and the line's bytes for debug output.
 */
export type GuestCommandEvent = {
  [K in CommandLine['command']]: Extract<CommandLine, { command: K }> & { readonly type: `cmd.${K}`; readonly bytes: Uint8Array };
}[CommandLine['command']];

/** The event for one command line (without its newline). */
export function commandEvent(bytes: Uint8Array): GuestCommandEvent {
  const line = parseCommandLine(bytes);
  return { ...line, type: `cmd.${line.command}`, bytes } as GuestCommandEvent;
}

/** Pieces of input, as the pump pulls them from the command decoder. */
export type GuestInputEvent =
  | GuestCommandEvent
  | { readonly type: 'OVERLONG'; readonly length: number }
  | { readonly type: 'PAYLOAD'; readonly bytes: Uint8Array; readonly remaining: number }
  /** The host's side of the channel ended. */
  | { readonly type: 'EOF' }
  /** A terminating signal reached the guest process (SIGHUP, SIGINT, SIGTERM, SIGPIPE). */
  | { readonly type: 'SIGNAL'; readonly signal: string };

const COMMAND_EVENTS = ['cmd.stap', 'cmd.option', 'cmd.file', 'cmd.run', 'cmd.quit', 'cmd.arg', 'cmd.signal', 'cmd.unknown'] as const;

type GuestEvent = GuestInputEvent | ChildReport;

/** What the guest asks of whoever runs it. */
export type GuestEmitted =
  /** Bytes for the guest's stdout or stderr (a merged channel takes both). */
  | { readonly type: 'wire'; readonly stream: OutputStream; readonly bytes: Uint8Array }
  /** The next `size` input bytes are a file payload. */
  | { readonly type: 'expectPayload'; readonly size: number }
  /**
   * Keep the channel quiet for `ms` once what was written before is out, then
   * write on: pacing only, the bytes and their order do not change.
   */
  | { readonly type: 'gap'; readonly ms: number }
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
  /** Listening mode (`-l`): every line before the first `stap` is ignored. */
  readonly listening: boolean;
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
  /** A data frame went out in this session. */
  readonly framed: boolean;
}

/**
 * How long the guest leaves the channel quiet between the last data frame and
 * `quit` for a host that did not ask for `option status` (so SystemTap's):
 * its stap handles one item per poll wake-up and keeps the rest of a read in
 * its buffer, so a `quit` that arrives in the same read as the last frame is
 * never seen and stap waits forever (measured: 2 of 6 Ctrl-C sessions over a
 * pty). SystemTap's guest rarely shows it only because it drops the child's
 * last output instead of framing it.
 */
export const QUIT_GAP_MS = 50;

export interface GuestOutput {
  /** The guest process's exit status. */
  readonly exitCode: number;
  readonly exit: ChildExit | null;
}

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

/** The workspace through the input's effects (an embedder may provide these actors instead). */
const writeFileFromInput = fromPromise<void, { name: string; chunks: readonly Uint8Array[]; effects?: GuestEffects }>(async ({ input }) => {
  if (input.effects === undefined) throw new Error('No workspace provided');
  await input.effects.writeFile(input.name, input.chunks);
});
const removeWorkspaceFromInput = fromPromise<void, { effects?: GuestEffects }>(async ({ input }) => {
  await input.effects?.removeWorkspace();
});

/** The verdict on the event's `option` line (a guest's judgement: pure). */
const optionVerdict = (context: GuestContext, event: GuestEvent) => {
  assertEvent(event, 'cmd.option');
  return judgeOptionLine(event.name, context.features, context.extensions);
};
const fileVerdict = (context: GuestContext, event: GuestEvent) => {
  assertEvent(event, 'cmd.file');
  return judgeFile(event.size, event.name, context.uploaded, context.limits);
};
const argVerdict = (context: GuestContext, event: GuestEvent) => {
  assertEvent(event, 'cmd.arg');
  return judgeDraftArg(event.size, context.features, context.draftArgs.length, context.limits);
};
const runVerdict = (context: GuestContext, event: GuestEvent) => {
  assertEvent(event, 'cmd.run');
  return judgeRunLine(event.args, context.features, context.draftArgs, context.limits);
};

/** `option`, in `ready` and while the child runs: one transition per verdict. */
const OPTION = [
  // Before 2.4 `option` is an unknown word.
  { guard: 'optionSilent', actions: 'debugCommand' },
  { guard: 'optionStatus', actions: ['debugCommand', 'wantStatus', 'replyOk'] },
  { guard: 'optionVerbose', actions: ['debugCommand', 'raiseVerbose', 'replyOk'] },
  { guard: 'optionData', actions: ['debugCommand', 'enterDataMode', 'replyOk'] },
  { guard: 'optionProgram', actions: ['debugCommand', 'forceProgram', 'replyOk'] },
  { actions: ['debugCommand', 'replyRefusal'] },
] as const;

/** The child's output: framed when the child started in data mode. */
const OUTPUT = [{ guard: 'framing', actions: 'forwardFrame' }, { actions: 'forwardRaw' }] as const;

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
    listening: ({ context }) => context.listening,
    // The draft protocol has no `quit` (EOF ends its sessions) and no replies.
    isDraft: ({ context }) => context.features.draft,
    gluedHello: ({ event }) => {
      assertEvent(event, COMMAND_EVENTS);
      return gluedHello(event.bytes) !== null;
    },
    optionSilent: ({ context, event }) => optionVerdict(context, event).kind === 'silent',
    optionStatus: ({ context, event }) => optionVerdict(context, event).kind === 'status',
    optionVerbose: ({ context, event }) => optionVerdict(context, event).kind === 'verbose',
    optionData: ({ context, event }) => optionVerdict(context, event).kind === 'data',
    optionProgram: ({ context, event }) => optionVerdict(context, event).kind === 'program',
    fileBadSize: ({ context, event }) => fileVerdict(context, event).kind === 'badSize',
    fileRefused: ({ context, event }) => fileVerdict(context, event).kind === 'refused',
    argIgnored: ({ context, event }) => argVerdict(context, event).kind === 'ignored',
    argEmpty: ({ context, event }) => argVerdict(context, event).kind === 'empty',
    runRefused: ({ context, event }) => runVerdict(context, event).kind === 'error',
    payloadContinues: ({ event }) => {
      assertEvent(event, 'PAYLOAD');
      return event.remaining > 0;
    },
    isArgPayload: ({ context }) => context.pending?.purpose === 'arg',
    /** The pending payload is kept (not a refused file's, not an argument over the bounds). */
    keepsPayload: ({ context }) => context.pending?.name !== null,
    framing: ({ context }) => context.framing,
    dataMode: ({ context }) => context.dataMode,
    /** The host asked for `option status` and the child's end is one a `status` line can say. */
    statusToReport: ({ context }) => context.statusWanted && statusOfExit(context.exit) !== null,
  },
  actions: {
    debugCommand: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, COMMAND_EVENTS);
      if (context.verbose > 0) enqueue.emit({ type: 'wire', stream: 'stderr', bytes: debugBytes(`command: ${latin1(event.bytes)}`) });
    }),
    debugIgnored: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, COMMAND_EVENTS);
      if (context.verbose > 0) enqueue.emit({ type: 'wire', stream: 'stderr', bytes: debugBytes(`ignored: ${latin1(event.bytes)}`) });
    }),
    debugHostReplaced: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'cmd.stap');
      if (context.verbose > 0) enqueue.emit({ type: 'wire', stream: 'stderr', bytes: debugBytes(`another host's hello while the child runs: ending the session (${latin1(event.bytes)})`) });
    }),
    answerHello: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'cmd.stap');
      for (const e of replyEvents(context, helloFor(context, event.nonce))) enqueue.emit(e);
    }),
    answerGluedHello: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, COMMAND_EVENTS);
      for (const e of replyEvents(context, helloFor(context, gluedHello(event.bytes)?.nonce ?? null))) enqueue.emit(e);
    }),
    replyOk: enqueueActions(({ context, enqueue }) => {
      for (const e of replyEvents(context, 'OK')) enqueue.emit(e);
    }),
    /** An `ERROR: …` verdict on the event's line. */
    replyRefusal: enqueueActions(({ context, event, enqueue }) => {
      const verdict =
        event.type === 'cmd.option' ? optionVerdict(context, event) : event.type === 'cmd.file' ? fileVerdict(context, event) : runVerdict(context, event);
      if ('reply' in verdict) for (const e of replyEvents(context, verdict.reply)) enqueue.emit(e);
    }),
    replyOverlong: enqueueActions(({ context, enqueue }) => {
      for (const e of replyEvents(context, 'ERROR: Command line too long', false)) enqueue.emit(e);
    }),
    wantStatus: assign({ statusWanted: true }),
    // Verbose from here on, so this very reply is already logged.
    raiseVerbose: assign({ verbose: ({ context }) => context.verbose + 1 }),
    enterDataMode: assign({ dataMode: true }),
    forceProgram: assign({
      forcedProgram: ({ context, event }) => {
        const verdict = optionVerdict(context, event);
        return verdict.kind === 'program' ? verdict.program : context.forcedProgram;
      },
    }),
    /** Read the file's payload: kept when the name was accepted, dropped when refused. */
    receiveFile: enqueueActions(({ context, event, enqueue }) => {
      const verdict = fileVerdict(context, event);
      if (verdict.kind === 'badSize') return;
      const name = verdict.kind === 'accepted' ? verdict.name : null;
      enqueue.assign({ pending: { purpose: 'file', name, size: verdict.size, chunks: [] } });
      enqueue.emit({ type: 'expectPayload', size: verdict.size });
    }),
    keepEmptyArg: assign({ draftArgs: ({ context }) => [...context.draftArgs, new Uint8Array(0)] }),
    receiveArg: enqueueActions(({ context, event, enqueue }) => {
      const verdict = argVerdict(context, event);
      if (verdict.kind !== 'payload') return;
      enqueue.assign({ pending: { purpose: 'arg', name: verdict.keep ? 'arg' : null, size: verdict.size, chunks: [] } });
      enqueue.emit({ type: 'expectPayload', size: verdict.size });
    }),
    prepareRun: assign(({ context, event }) => {
      const verdict = runVerdict(context, event);
      const program = context.forcedProgram ?? context.fileProgram ?? 'staprun';
      const path = `${context.bindir.replace(/\/+$/, '')}/${program}`;
      return { argv: verdict.kind === 'run' ? [path, ...verdict.args] : null, draftArgs: [] };
    }),
    collectPayload: assign({
      pending: ({ context, event }) => {
        assertEvent(event, 'PAYLOAD');
        const pending = context.pending!;
        // Refused files are read and dropped: nothing of them is kept.
        if (pending.name !== null) pending.chunks.push(event.bytes);
        return pending;
      },
    }),
    acceptArg: assign({
      draftArgs: ({ context }) => [...context.draftArgs, concatBytes(context.pending!.chunks)],
      pending: null,
    }),
    acceptFile: assign({
      uploaded: ({ context }) => context.uploaded + context.pending!.size,
      fileProgram: ({ context }) => programForFile(context.pending!.name!, context.features),
      pending: null,
    }),
    dropPending: assign({ pending: null }),
    signalChild: enqueueActions(({ event, enqueue }) => {
      assertEvent(event, 'cmd.signal');
      const signal = draftSignal(event.number);
      if (signal !== null) enqueue.sendTo('child', { type: 'SIGNAL', signal } satisfies ChildRequest);
    }),
    replyTruncatedFile: enqueueActions(({ context, enqueue }) => {
      for (const e of replyEvents(context, 'ERROR: Reached EOF while reading file data')) enqueue.emit(e);
    }),
    replyCantOpen: enqueueActions(({ context, enqueue }) => {
      const text = `ERROR: Can't open file "${context.pending?.name ?? ''}" for writing`;
      for (const e of replyEvents(context, text, false)) enqueue.emit(e);
    }),
    /** The child's output is framed from its start when data mode is on by then (SystemTap's child gets a pipe or the guest's stdout). */
    fixFraming: assign({ framing: ({ context }) => context.dataMode }),
    replySpawnFailed: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'CHILD.FAILED');
      const text = `ERROR: Can't execute ${context.argv?.[0] ?? ''} (${event.reason})`;
      for (const e of replyEvents(context, text, false)) enqueue.emit(e);
      enqueue.assign({ argv: null });
    }),
    announceSpawn: enqueueActions(({ context, event, enqueue }) => {
      assertEvent(event, 'CHILD.SPAWNED');
      enqueue.emit({ type: 'child', what: 'spawned', pid: event.pid, argv: context.argv ?? [] });
    }),
    announceSignal: enqueueActions(({ event, enqueue }) => {
      assertEvent(event, 'CHILD.SIGNALLED');
      enqueue.emit({ type: 'child', what: 'signal', signal: event.signal });
    }),
    forwardFrame: enqueueActions(({ event, enqueue }) => {
      assertEvent(event, 'CHILD.OUTPUT');
      // An empty frame would read as the end of nothing: skip it.
      if (event.bytes.length === 0) return;
      enqueue.assign({ framed: true });
      enqueue.emit({ type: 'wire', stream: event.stream, bytes: utf8(`data ${event.stream} ${event.bytes.length}\n`) });
      enqueue.emit({ type: 'wire', stream: event.stream, bytes: event.bytes });
    }),
    forwardRaw: enqueueActions(({ event, enqueue }) => {
      assertEvent(event, 'CHILD.OUTPUT');
      if (event.bytes.length > 0) enqueue.emit({ type: 'wire', stream: event.stream, bytes: event.bytes });
    }),
    recordExit: enqueueActions(({ event, enqueue }) => {
      assertEvent(event, 'CHILD.EXITED');
      enqueue.assign({ exit: event.exit });
      enqueue.emit({ type: 'child', what: 'exited', exit: event.exit });
    }),
    hangUpChild: enqueueActions(({ enqueue }) => {
      enqueue.sendTo('child', { type: 'HANGUP' } satisfies ChildRequest);
    }),
    /** stapflow's `status` line. */
    reportStatus: enqueueActions(({ context, enqueue }) => {
      for (const e of replyEvents(context, statusText(statusOfExit(context.exit)!))) enqueue.emit(e);
    }),
    announceQuit: enqueueActions(({ context, enqueue }) => {
      if (context.framed && !context.statusWanted) enqueue.emit({ type: 'gap', ms: QUIT_GAP_MS });
      for (const e of replyEvents(context, 'quit')) enqueue.emit(e);
    }),
    endBy: assign({ ending: (_, params: { how: 'quit' | 'eof' | 'signal' | 'child' }) => params.how }),
  },
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
      listening: input.listening ?? false,
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
      framed: false,
    };
  },
  output: ({ context }) => ({
    exitCode: context.exit === null ? 0 : exitCodeOf(context.exit),
    exit: context.exit,
  }),
  initial: 'start',
  states: {
    start: {
      always: [{ guard: 'listening', target: 'listening' }, { target: 'ready' }],
    },
    /** Listening mode (`-l`): a port may hold a dead session's bytes, so everything before a `stap` is ignored. */
    listening: {
      on: {
        'cmd.stap': { target: 'ready', actions: ['debugCommand', 'answerHello'] },
        'cmd.*': [
          // A stale partial line from a dead session glued to the hello: answer the hello.
          { guard: 'gluedHello', target: 'ready', actions: ['debugIgnored', 'answerGluedHello'] },
          { actions: 'debugIgnored' },
        ],
        OVERLONG: { actions: 'replyOverlong' },
        EOF: { target: 'ending', actions: { type: 'endBy', params: { how: 'eof' } } },
        SIGNAL: { target: 'ending', actions: { type: 'endBy', params: { how: 'signal' } } },
      },
    },
    /** Waiting for a command. */
    ready: {
      on: {
        'cmd.stap': { actions: ['debugCommand', 'answerHello'] },
        'cmd.option': OPTION,
        'cmd.file': [
          // An unusable size: nothing more can be read safely, so no payload is consumed.
          { guard: 'fileBadSize', actions: ['debugCommand', 'replyRefusal'] },
          { guard: 'fileRefused', target: 'receiving', actions: ['debugCommand', 'replyRefusal', 'receiveFile'] },
          { target: 'receiving', actions: ['debugCommand', 'receiveFile'] },
        ],
        'cmd.arg': [
          { guard: 'argIgnored', actions: 'debugCommand' },
          { guard: 'argEmpty', actions: ['debugCommand', 'keepEmptyArg'] },
          { target: 'receiving', actions: ['debugCommand', 'receiveArg'] },
        ],
        'cmd.run': [
          { guard: 'runRefused', actions: ['debugCommand', 'replyRefusal'] },
          { target: 'running', actions: ['debugCommand', 'prepareRun'] },
        ],
        'cmd.quit': [
          { guard: 'isDraft', actions: 'debugCommand' },
          { target: 'ending', actions: ['debugCommand', { type: 'endBy', params: { how: 'quit' } }] },
        ],
        // SystemTap's guest answers unknown words (and a `signal` with no child) with silence.
        'cmd.*': { actions: 'debugCommand' },
        OVERLONG: { actions: 'replyOverlong' },
        EOF: { target: 'ending', actions: { type: 'endBy', params: { how: 'eof' } } },
        SIGNAL: { target: 'ending', actions: { type: 'endBy', params: { how: 'signal' } } },
      },
    },
    /** Reading a `file` payload (kept, or dropped when the name was refused), or a draft `arg`'s. */
    receiving: {
      tags: ['payload'],
      on: {
        PAYLOAD: [
          { guard: 'payloadContinues', actions: 'collectPayload' },
          { guard: and(['isArgPayload', 'keepsPayload']), target: 'ready', actions: ['collectPayload', 'acceptArg'] },
          { guard: 'keepsPayload', target: 'writing', actions: 'collectPayload' },
          { target: 'ready', actions: 'dropPending' },
        ],
        // As SystemTap's guest words it (found by the model-based tests against its 4.8); it reads
        // the payload only of a file it accepted, so EOF inside a refused one's is no news to a host.
        EOF: [
          { guard: 'keepsPayload', target: 'ending', actions: ['replyTruncatedFile', 'dropPending', { type: 'endBy', params: { how: 'eof' } }] },
          { target: 'ending', actions: ['dropPending', { type: 'endBy', params: { how: 'eof' } }] },
        ],
        SIGNAL: { target: 'ending', actions: ['dropPending', { type: 'endBy', params: { how: 'signal' } }] },
      },
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
        onDone: { target: 'ready', actions: ['acceptFile', 'replyOk'] },
        onError: { target: 'ready', actions: ['replyCantOpen', 'dropPending'] },
      },
      on: {
        SIGNAL: { target: 'ending', actions: ['dropPending', { type: 'endBy', params: { how: 'signal' } }] },
      },
    },
    /** A child, once spawned or failed; everything but the child waits. */
    running: {
      entry: 'fixFraming',
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
            'CHILD.SPAWNED': { target: 'live', actions: ['replyOk', 'announceSpawn'] },
            'CHILD.FAILED': { target: '#guestStapsh.ready', actions: 'replySpawnFailed' },
            SIGNAL: { target: 'hangingUp', actions: { type: 'endBy', params: { how: 'signal' } } },
          },
        },
        live: {
          on: {
            'CHILD.OUTPUT': OUTPUT,
            'CHILD.EXITED': { target: '#guestStapsh.ending', actions: ['recordExit', { type: 'endBy', params: { how: 'child' } }] },
            'cmd.quit': [
              { guard: 'isDraft', actions: 'debugIgnored' },
              { target: 'hangingUp', actions: { type: 'endBy', params: { how: 'quit' } } },
            ],
            'cmd.signal': [{ guard: 'isDraft', actions: 'signalChild' }, { actions: 'debugIgnored' }],
            // SystemTap's guest still takes options while the child runs (stap, file and run get silence).
            'cmd.option': OPTION,
            // Listening mode: no host says `stap` while its module runs, so this is another host's hello
            // on the port: ours left without the guest seeing the port hang up (a real virtio port shows a
            // host's leaving only to a read made before the next host connects). End as on EOF: our `quit`
            // tells the new host its hello was taken by a dead session, and it says it again to the next guest.
            'cmd.stap': [{ guard: 'listening', target: 'hangingUp', actions: ['debugHostReplaced', { type: 'endBy', params: { how: 'eof' } }] }, { actions: 'debugIgnored' }],
            'cmd.*': { actions: 'debugIgnored' },
            EOF: { target: 'hangingUp', actions: { type: 'endBy', params: { how: 'eof' } } },
            SIGNAL: { target: 'hangingUp', actions: { type: 'endBy', params: { how: 'signal' } } },
          },
        },
        /** SIGHUP sent; output is still framed until the child exits. */
        hangingUp: {
          entry: 'hangUpChild',
          on: {
            // A signal came while the child was being spawned: the run did start, so it is answered
            // (the host waits for this OK), then the child is hung up.
            'CHILD.SPAWNED': { actions: ['replyOk', 'announceSpawn'] },
            'CHILD.OUTPUT': OUTPUT,
            'CHILD.EXITED': { target: '#guestStapsh.ending', actions: 'recordExit' },
            'CHILD.FAILED': { target: '#guestStapsh.ending', actions: 'replySpawnFailed' },
          },
        },
      },
    },
    /** The session is over: in data mode announce it (`quit`, after the child's status when asked), then clean up. */
    ending: {
      always: [
        { guard: and(['dataMode', 'statusToReport']), target: 'cleaning', actions: ['reportStatus', 'announceQuit'] },
        { guard: 'dataMode', target: 'cleaning', actions: 'announceQuit' },
        { target: 'cleaning' },
      ],
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

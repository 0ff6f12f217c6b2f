/**
 * The host side of a session (stap's pass 5 over a remote) as a state
 * machine: handshake → options → uploads → run → streaming → finished or
 * failed. Every wait for the guest is bounded by the reply timeout (the real
 * stap waits forever on a silent guest). It sees decoded guest events and
 * emits the bytes to send; the transport and the decoder live outside.
 */
// @ts-nocheck


import { and, assertEvent, assign, emit, enqueueActions, fromPromise, not, setup, type ActorRefFrom } from 'xstate';
import { utf8 } from '../protocol/bytes.js';
import * as encode from '../protocol/encode.js';
import { STATUS_OPTION, type ChildStatus } from '../protocol/extensions.js';
import { featuresOf } from '../protocol/releases.js';
import type { Reply, ReplyEvent, ReplyMode } from '../protocol/replyDecoder.js';

/** The guest's hello: `stapsh VERSION MACHINE RELEASE`. */
export interface GuestHello {
  readonly version: string;
  readonly machine: string;
  readonly kernelRelease: string;
}

/** A file to upload; its bytes come from the provided `sendFile` actor. */
export interface UploadSpec {
  readonly name: string;
  readonly size: number;
}

export interface HostSessionInput {
  /** The release this host speaks as (its hello version). */
  readonly release: string;
  /** The remote, for messages (`unix:/path`, `ssh://host`). */
  readonly remote: string;
  /** Ask for `data` framing (socket schemes: unix, libvirt). */
  readonly wantData: boolean;
  /** Extra `-v`s, sent as `option verbose` each. */
  readonly verbose?: number;
  readonly uploads: readonly UploadSpec[];
  /**
   * The `run` arguments for this guest (the guest chooses argv[0]); they
   * depend on its release, so they are built once the hello is in.
   */
  readonly runArgs: (hello: GuestHello) => readonly string[];
  /** Bound on every wait for the guest (ms). */
  readonly replyTimeoutMs?: number;
  /** Bound on stale bytes skipped before the hello. */
  readonly maxStaleBytes?: number;
  /**
   * stapflow's hello nonce: send `stap VERSION nonce=TOKEN`; a hello that
   * carries another token is a dead session's and is skipped.
   */
  readonly nonce?: string;
  /** stapflow's `option status` (in data mode, to a guest with `option`); a guest that refuses it is used without. */
  readonly askStatus?: boolean;
  /**
   * The channel may hold a dead session's bytes (no EOF: virtio-serial).
   * With a nonce, a hello without one (SystemTap's guest, or stale) is taken
   * only after `helloSettleMs` without a hello carrying our token.
   */
  readonly staleChannel?: boolean;
  /**
   * See `staleChannel` (default 250 ms; 8× that, 2 s, when a dead session's
   * bytes came first, as our guest may then still be restarting).
   */
  readonly helloSettleMs?: number;
  /**
   * On a stale channel, how often the hello is said again while nothing
   * answers it (default 2 s): a guest closing the port discards what it did
   * not read, and a dead session's guest may have read it (its `quit` shows that).
   */
  readonly helloRetryMs?: number;
  /**
   * Writes a file's header and payload to the channel (used by the default
   * `sendFile` actor, so one machine definition serves every session).
   */
  readonly sendFile?: (spec: UploadSpec) => Promise<void>;
}

/**
 * A reply line as the reply decoder classified it (`classifyReply`, the one
 * reply grammar): `text` is the line as it came, for messages and for
 * counting stale bytes.
 */
export type ReplyLineEvent =
  /** `nonce`: stapflow's echoed token, when the hello carried one. */
  | { readonly type: 'REPLY.HELLO'; readonly text: string; readonly hello: GuestHello; readonly nonce?: string }
  | { readonly type: 'REPLY.OK'; readonly text: string }
  | { readonly type: 'REPLY.ERROR'; readonly text: string }
  /** Any other line: stale before the hello, else not a reply (a host waiting for one waits on). */
  | { readonly type: 'REPLY.OTHER'; readonly text: string };

/** Guest events, as the decoder reports them. */
export type HostInputEvent =
  | ReplyLineEvent
  | { readonly type: 'GUEST.DEBUG'; readonly text: string }
  | { readonly type: 'GUEST.DATA'; readonly stream: 'stdout' | 'stderr'; readonly bytes: Uint8Array }
  | { readonly type: 'GUEST.QUIT' }
  /** stapflow's `status` line: how the child ended. */
  | { readonly type: 'GUEST.STATUS'; readonly status: ChildStatus }
  | { readonly type: 'GUEST.DECODE_ERROR'; readonly message: string }
  /**
   * The channel ended (EOF) or broke (`error` set). `writing`: the break was
   * seen by a failed write (the read side then ends on its own).
   */
  | { readonly type: 'GUEST.EOF'; readonly error?: string; readonly writing?: boolean }
  /** Ctrl-C: ask the guest to quit. */
  | { readonly type: 'INTERRUPT' };

export type HostEmitted =
  | { readonly type: 'send'; readonly bytes: Uint8Array }
  | { readonly type: 'output'; readonly stream: 'stdout' | 'stderr'; readonly bytes: Uint8Array }
  /** Switch the decoder now: the next byte after this reply belongs to the new mode. */
  | { readonly type: 'mode'; readonly mode: ReplyMode }
  | { readonly type: 'hello'; readonly hello: GuestHello }
  | { readonly type: 'uploaded'; readonly name: string; readonly size: number };

export type HostOutput =
  | {
      readonly ok: true;
      readonly hello: GuestHello;
      readonly ended: 'quit' | 'eof';
      /** The child's end as the guest reported it (`option status`); null when the guest did not. */
      readonly status: ChildStatus | null;
      /** The stapflow extensions the guest agreed to. */
      readonly extensions: { readonly status: boolean; readonly nonce: boolean };
    }
  | { readonly ok: false; readonly error: string; readonly hello: GuestHello | null };

export interface HostContext {
  readonly input: HostSessionInput;
  readonly timeoutMs: number;
  readonly hello: GuestHello | null;
  readonly staleBytes: number;
  /** Options still to send, in order. */
  readonly options: readonly string[];
  readonly uploadIndex: number;
  readonly error: string | null;
  readonly ended: 'quit' | 'eof' | null;
  /** A hello without our nonce, held while a hello with it may still come (stale channels). */
  readonly candidate: GuestHello | null;
  readonly nonceEchoed: boolean;
  readonly statusAgreed: boolean;
  readonly status: ChildStatus | null;
  /** Ctrl-C came before the child ran: `quit` goes out as soon as nothing is in flight. */
  readonly interrupted: boolean;
  /** The guest answered `run` with OK. */
  readonly started: boolean;
  /** A dead session's `quit` came: our hello is said again every `helloRetryMs` until answered. */
  readonly staleQuitSeen: boolean;
}

/**
 * The machine's event for what the reply decoder reported; null for what the
 * host does not act on (a frame header: its parts follow as data).
 */
export function hostEventOf(e: ReplyEvent): HostInputEvent | null {
  switch (e.type) {
    case 'line':
      return replyLineEvent(e.text, e.reply);
    case 'debug':
      return { type: 'GUEST.DEBUG', text: e.text };
    case 'data':
      return e.bytes.length > 0 ? { type: 'GUEST.DATA', stream: e.stream, bytes: e.bytes } : null;
    case 'frame':
      return null;
    case 'quit':
      return { type: 'GUEST.QUIT' };
    case 'status':
      return { type: 'GUEST.STATUS', status: e.status };
    case 'error':
      return { type: 'GUEST.DECODE_ERROR', message: e.message };
  }
}

function replyLineEvent(text: string, reply: Reply): ReplyLineEvent {
  switch (reply.kind) {
    case 'hello': {
      const hello = { version: reply.version, machine: reply.machine, kernelRelease: reply.release };
      return { type: 'REPLY.HELLO', text, hello, ...(reply.nonce === undefined ? {} : { nonce: reply.nonce }) };
    }
    case 'ok':
      return { type: 'REPLY.OK', text };
    case 'error':
      return { type: 'REPLY.ERROR', text };
    case 'other':
      return { type: 'REPLY.OTHER', text };
  }
}

/** How a hello relates to this session's nonce: echoed (ours), another session's (foreign), or none (plain). */
type HelloVerdict = 'ours' | 'plain' | 'foreign';

function helloVerdict(event: HostInputEvent, nonce: string | undefined): HelloVerdict | null {
  if (event.type !== 'REPLY.HELLO') return null;
  if (event.nonce === undefined) return 'plain';
  return event.nonce === nonce ? 'ours' : 'foreign';
}

/** The bytes of a held hello as it came (a glued stale fragment before it aside). */
function candidateBytes(hello: GuestHello): number {
  return `stapsh ${hello.version} ${hello.machine} ${hello.kernelRelease}\n`.length;
}

/** The line of a reply event (0 for others): what it adds to the stale bytes before a hello. */
/** Bytes of a line the machine skips (a `quit` the decoder reported as such counts as its line). */
const lineBytes = (event: HostInputEvent) =>
  event.type.startsWith('REPLY.') ? (event as ReplyLineEvent).text.length + 1 : event.type === 'GUEST.QUIT' ? 'quit\n'.length : 0;

/** Sends a file through the input's `sendFile` (an embedder may provide this actor instead). */
const sendFileFromInput = fromPromise<void, { spec: UploadSpec; send?: (spec: UploadSpec) => Promise<void> }>(async ({ input }) => {
  if (input.send === undefined) throw new Error('No file sender provided');
  await input.send(input.spec);
});

export const hostSession = setup({
  types: {
    context: {} as HostContext,
    events: {} as HostInputEvent,
    input: {} as HostSessionInput,
    output: {} as HostOutput,
    emitted: {} as HostEmitted,
  },
  actors: { sendFile: sendFileFromInput },
  delays: {
    reply: ({ context }) => context.timeoutMs,
    /** A dead session's bytes before the plain hello: our guest may be restarting, so hold it 8× longer. */
    settle: ({ context }) => (context.input.helloSettleMs ?? 250) * (context.staleBytes > 0 ? 8 : 1),
    /** How often an unanswered hello is said again on a stale channel (see `retriesHello`). */
    helloRetry: ({ context }) => context.input.helloRetryMs ?? 2_000,
  },
  guards: {
    /** A hello to take now: ours, or plain where no stale hello can be (or no nonce was sent). */
    isHello: ({ context, event }) => {
      const v = helloVerdict(event, context.input.nonce);
      return v === 'ours' || (v === 'plain' && !(context.input.staleChannel && context.input.nonce !== undefined));
    },
    isOurHello: ({ context, event }) => helloVerdict(event, context.input.nonce) === 'ours',
    /** A plain hello on a stale channel, with a nonce sent: maybe SystemTap's guest, maybe a dead session's. */
    holdsPlainHello: ({ context, event }) =>
      context.input.staleChannel === true && context.input.nonce !== undefined && helloVerdict(event, context.input.nonce) === 'plain',
    holdsCandidate: ({ context }) => context.candidate !== null,
    /** `option status` only where it can work: asked for, data mode (the line comes before `quit`), a guest with `option`. */
    canAskStatus: ({ context }) => context.input.askStatus === true && context.input.wantData && featuresOf(context.hello!.version).options,
    /**
     * On a stale channel the hello is said again while nothing answers it: a dead session may have
     * read it (its `quit` shows that), or an exiting guest's port discarded it unread (nothing shows
     * that). Extra answers come before the first option's OK and are skipped there.
     */
    retriesHello: ({ context }) => context.input.staleChannel === true && !featuresOf(context.input.release).draft,
    /**
     * A dead session's `quit` before our hello's reply, on a channel that
     * keeps one running (virtio-serial): that session may have read our
     * hello as its own input and has just ended, so no guest will answer it.
     */
    isStaleQuit: ({ context, event }) =>
      context.input.staleChannel === true && ((event.type === 'REPLY.OTHER' && event.text === 'quit') || event.type === 'GUEST.QUIT'),
    isInterrupted: ({ context }) => context.interrupted,
    isStatusOption: ({ context }) => context.options[0] === STATUS_OPTION,
    /** The read side broke (a reset, an I/O error): output may be missing, so the run did not complete. */
    readBroke: ({ event }) => event.type === 'GUEST.EOF' && event.error !== undefined && event.writing !== true,
    tooMuchStale: ({ context, event }) => context.staleBytes + lineBytes(event) > (context.input.maxStaleBytes ?? 1024 * 1024),
    optionsUnsupported: ({ context }) => context.options.length > 0 && !featuresOf(context.hello!.version).options,
    moreOptions: ({ context }) => context.options.length > 0,
    moreUploads: ({ context }) => context.uploadIndex < context.input.uploads.length,
  },
  actions: {
    sendHello: emit(({ context }) => ({ type: 'send' as const, bytes: encode.hello(context.input.release, context.input.nonce) })),
    recordHello: enqueueActions(({ context, event, enqueue }) => {
      // From the hello itself, or (a settle or reply timer) the held one.
      const hello = event.type === 'REPLY.HELLO' ? event.hello : context.candidate!;
      const nonceEchoed = helloVerdict(event, context.input.nonce) === 'ours';
      enqueue.assign({ hello, nonceEchoed, candidate: null });
      enqueue.emit({ type: 'hello', hello });
    }),
    holdCandidate: assign({
      candidate: ({ event }) => {
        assertEvent(event, 'REPLY.HELLO');
        return event.hello;
      },
    }),
    /** The held hello was a dead session's: it counts as stale bytes too. */
    dropCandidate: assign({
      staleBytes: ({ context }) => context.staleBytes + (context.candidate === null ? 0 : candidateBytes(context.candidate)),
      candidate: null,
    }),
    markInterrupted: assign({ interrupted: true }),
    markStarted: assign({ started: true }),
    agreeStatus: assign({ statusAgreed: true }),
    addStatusOption: assign({ options: ({ context }) => [...context.options, STATUS_OPTION] }),
    markStaleQuitSeen: assign({ staleQuitSeen: true }),
    recordStatus: assign({
      status: ({ event }) => {
        assertEvent(event, 'GUEST.STATUS');
        return event.status;
      },
    }),
    countStale: assign({ staleBytes: ({ context, event }) => context.staleBytes + lineBytes(event) }),
    sendOption: emit(({ context }) => ({ type: 'send' as const, bytes: encode.option(context.options[0]!) })),
    shiftOption: assign({ options: ({ context }) => context.options.slice(1) }),
    nextUpload: enqueueActions(({ context, enqueue }) => {
      const spec = context.input.uploads[context.uploadIndex]!;
      enqueue.emit({ type: 'uploaded', name: spec.name, size: spec.size });
      enqueue.assign({ uploadIndex: context.uploadIndex + 1 });
    }),
    sendRun: emit(({ context }) => ({
      type: 'send' as const,
      bytes: encode.run(context.input.runArgs(context.hello!).map((a) => utf8(a))),
    })),
    switchMode: emit(({ context }) => ({ type: 'mode' as const, mode: context.input.wantData ? 'framed' : 'raw' })),
    forwardOutput: emit(({ event }) => {
      assertEvent(event, 'GUEST.DATA');
      return { type: 'output' as const, stream: event.stream, bytes: event.bytes };
    }),
    sendQuit: emit({ type: 'send', bytes: encode.quit() }),
    fail: assign({
      error: ({ context, event }, params: { what: string }) => {
        const where = ` on remote '${context.input.remote}'`;
        switch (event.type) {
          case 'REPLY.ERROR':
            return `${params.what}: ${event.text}${where}`;
          case 'GUEST.DECODE_ERROR':
            return `${event.message}${where}`;
          case 'GUEST.EOF':
            return `${params.what}: ${event.error ?? 'connection closed by the guest'}${where}`;
          default:
            return `${params.what}${where}`;
        }
      },
    }),
    failOptions: assign({
      error: ({ context }) =>
        `stapsh ${context.hello!.version} does not support options (data mode needs stapsh 2.4 or later; this host speaks ${context.input.release}) on remote '${context.input.remote}'`,
    }),
    failStale: assign({
      error: ({ context }) =>
        `no stapsh hello within ${context.input.maxStaleBytes ?? 1024 * 1024} bytes on remote '${context.input.remote}'`,
    }),
    failHelloTimeout: assign({
      error: ({ context }) =>
        `no reply to the hello within ${context.timeoutMs} ms on remote '${context.input.remote}' ` +
        `(this host speaks ${context.input.release}; stapsh answers from release 1.5 on, the draft protocol before it never replies)`,
    }),
    failTimeout: assign({
      error: ({ context }, params: { what: string }) =>
        `no reply to ${params.what} within ${context.timeoutMs} ms on remote '${context.input.remote}'`,
    }),
    endBy: assign({ ended: (_, params: { how: 'quit' | 'eof' }) => params.how }),
  },
}).createMachine({
  id: 'hostSession',
  context: ({ input }) => ({
    input,
    timeoutMs: input.replyTimeoutMs ?? 30_000,
    hello: null,
    staleBytes: 0,
    options: [
      ...(input.wantData ? ['data'] : []),
      ...Array.from({ length: input.verbose ?? 0 }, () => 'verbose'),
    ],
    uploadIndex: 0,
    error: null,
    ended: null,
    candidate: null,
    nonceEchoed: false,
    statusAgreed: false,
    status: null,
    interrupted: false,
    started: false,
    staleQuitSeen: false,
  }),
  output: ({ context }) =>
    context.error === null && context.hello !== null && (context.started || !context.interrupted)
      ? {
          ok: true,
          hello: context.hello,
          ended: context.ended ?? 'eof',
          status: context.status,
          extensions: { status: context.statusAgreed, nonce: context.nonceEchoed },
        }
      : {
          ok: false,
          error:
            context.error ??
            (context.interrupted ? `interrupted before the module ran on remote '${context.input.remote}'` : 'session ended early'),
          hello: context.hello,
        },
  initial: 'handshake',
  on: {
    'GUEST.DECODE_ERROR': { target: '.failed', actions: { type: 'fail', params: { what: 'protocol error' } } },
  },
  states: {
    handshake: {
      entry: 'sendHello',
      after: {
        reply: [
          // The reply bound ends a held plain hello's wait too: take it.
          { guard: 'holdsCandidate', target: 'helloTaken', actions: 'recordHello' },
          { target: 'failed', actions: 'failHelloTimeout' },
        ],
      },
      on: {
        'REPLY.HELLO': [
          { guard: 'isHello', target: 'helloTaken', actions: 'recordHello' },
          { guard: 'tooMuchStale', target: 'failed', actions: 'failStale' },
          { actions: 'countStale' },
        ],
        'REPLY.*': [
          { guard: 'tooMuchStale', target: 'failed', actions: 'failStale' },
          // Say the hello again for the guest that comes next (re-entering restarts the reply bound;
          // the stale budget still bounds how often).
          { guard: 'isStaleQuit', target: 'handshake', reenter: true, actions: ['countStale', 'markStaleQuitSeen'] },
          // Stale lines from an earlier session (a virtio port keeps them): skip, bounded.
          { actions: 'countStale' },
        ],
        'GUEST.EOF': { target: 'failed', actions: { type: 'fail', params: { what: 'no hello from stapsh' } } },
        // The decoder knows a `quit` line in any mode: a dead session's, as above.
        'GUEST.QUIT': [
          { guard: 'tooMuchStale', target: 'failed', actions: 'failStale' },
          { guard: 'isStaleQuit', target: 'handshake', reenter: true, actions: ['countStale', 'markStaleQuitSeen'] },
        ],
        // Ctrl-C before anything ran: ask the guest to quit now.
        INTERRUPT: { target: 'quitting', actions: ['markInterrupted', 'sendQuit'] },
      },
      initial: 'waiting',
      states: {
        waiting: {
          after: { helloRetry: { guard: 'retriesHello', target: 'waiting', reenter: true, actions: 'sendHello' } },
          on: { 'REPLY.HELLO': { guard: 'holdsPlainHello', target: 'settling', actions: 'holdCandidate' } },
        },
        /**
         * A plain hello is held: SystemTap's guest says nothing after it, a
         * dead session's is followed by more; each later plain hello
         * replaces it and restarts the wait (only this state re-enters).
         * Any other line after it (an OK, a foreign hello, output) proves it
         * stale: it is dropped, not left to win the wait when our guest is
         * slow to start.
         */
        settling: {
          after: { settle: { target: '#hostSession.helloTaken', actions: 'recordHello' } },
          on: {
            'REPLY.HELLO': [
              { guard: 'holdsPlainHello', target: 'settling', reenter: true, actions: 'holdCandidate' },
              { guard: and([not('isOurHello'), not('tooMuchStale')]), target: 'waiting', actions: ['dropCandidate', 'countStale'] },
            ],
            'REPLY.*': { guard: not('tooMuchStale'), target: 'waiting', actions: ['dropCandidate', 'countStale'] },
          },
        },
      },
    },
    /** The hello is taken: stapflow's `option status` joins the options where it can work. */
    helloTaken: {
      always: [{ guard: 'canAskStatus', target: 'options', actions: 'addStatusOption' }, { target: 'options' }],
    },
    options: {
      always: [
        { guard: 'optionsUnsupported', target: 'failed', actions: 'failOptions' },
        { guard: 'moreOptions', target: 'option' },
        { target: 'uploads' },
      ],
    },
    option: {
      entry: 'sendOption',
      after: { reply: { target: 'failed', actions: { type: 'failTimeout', params: { what: 'option' } } } },
      on: {
        'REPLY.OK': [
          { guard: 'isStatusOption', target: 'options', actions: ['agreeStatus', 'shiftOption'] },
          { target: 'options', actions: 'shiftOption' },
        ],
        'REPLY.ERROR': [
          // A guest without stapflow's extensions (any SystemTap release): go on without the status.
          { guard: 'isStatusOption', target: 'options', actions: 'shiftOption' },
          { target: 'failed', actions: { type: 'fail', params: { what: 'stapsh option failed' } } },
        ],
        'GUEST.EOF': { target: 'failed', actions: { type: 'fail', params: { what: 'guest closed during options' } } },
        INTERRUPT: { target: 'quitting', actions: ['markInterrupted', 'sendQuit'] },
      },
    },
    uploads: {
      always: [
        // A Ctrl-C during the upload waited for it to finish (`quit` inside a payload would be payload).
        { guard: 'isInterrupted', target: 'quitting', actions: 'sendQuit' },
        { guard: 'moreUploads', target: 'upload' },
        { target: 'starting' },
      ],
    },
    upload: {
      invoke: {
        src: 'sendFile',
        input: ({ context }) => ({
          spec: context.input.uploads[context.uploadIndex]!,
          ...(context.input.sendFile === undefined ? {} : { send: context.input.sendFile }),
        }),
        onError: { target: 'failed', actions: { type: 'fail', params: { what: 'could not send the file' } } },
      },
      after: { reply: { target: 'failed', actions: { type: 'failTimeout', params: { what: 'file' } } } },
      on: {
        'REPLY.OK': { target: 'uploads', actions: 'nextUpload' },
        'REPLY.ERROR': { target: 'failed', actions: { type: 'fail', params: { what: 'stapsh file upload failed' } } },
        'GUEST.EOF': { target: 'failed', actions: { type: 'fail', params: { what: 'guest closed during upload' } } },
        INTERRUPT: { actions: 'markInterrupted' },
      },
    },
    starting: {
      entry: 'sendRun',
      after: { reply: { target: 'failed', actions: { type: 'failTimeout', params: { what: 'run' } } } },
      on: {
        // Switch the decoder before the next byte: frames may follow in the same chunk.
        'REPLY.OK': { target: 'streaming', actions: ['switchMode', 'markStarted'] },
        'REPLY.ERROR': { target: 'failed', actions: { type: 'fail', params: { what: 'stapsh run failed' } } },
        'GUEST.EOF': { target: 'failed', actions: { type: 'fail', params: { what: 'guest closed before run' } } },
        // The run's OK is in flight: the child is starting; hang it up once it runs (as stap's pending interrupt).
        INTERRUPT: { actions: 'markInterrupted' },
      },
    },
    streaming: {
      always: { guard: 'isInterrupted', target: 'quitting', actions: 'sendQuit' },
      on: {
        'GUEST.DATA': { actions: 'forwardOutput' },
        'GUEST.QUIT': { target: 'finished', actions: { type: 'endBy', params: { how: 'quit' } } },
        'GUEST.STATUS': { actions: 'recordStatus' },
        'GUEST.EOF': [
          { guard: 'readBroke', target: 'failed', actions: { type: 'fail', params: { what: 'the connection to the guest broke while the module ran' } } },
          { target: 'finished', actions: { type: 'endBy', params: { how: 'eof' } } },
        ],
        INTERRUPT: { target: 'quitting', actions: 'sendQuit' },
      },
    },
    /** `quit` sent: the guest hangs up its child and drains it; still bounded. */
    quitting: {
      after: { reply: { target: 'failed', actions: { type: 'failTimeout', params: { what: 'quit' } } } },
      on: {
        'GUEST.DATA': { actions: 'forwardOutput' },
        'GUEST.QUIT': { target: 'finished', actions: { type: 'endBy', params: { how: 'quit' } } },
        'GUEST.STATUS': { actions: 'recordStatus' },
        'GUEST.EOF': [
          { guard: 'readBroke', target: 'failed', actions: { type: 'fail', params: { what: 'the connection to the guest broke while it quit' } } },
          { target: 'finished', actions: { type: 'endBy', params: { how: 'eof' } } },
        ],
      },
    },
    finished: { type: 'final' },
    failed: { type: 'final' },
  },
});

export type HostSessionActor = ActorRefFrom<typeof hostSession>;

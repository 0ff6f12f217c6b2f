/**
 * In-memory harnesses whose every asynchronous step is released by a
 * fast-check scheduler (`fc.scheduler()`), for race tests (issue #5):
 *
 * - `ScheduledChild`: a child process actor whose output chunks, exit and
 *   reaction to SIGHUP/SIGKILL are scheduled tasks. Like a real process,
 *   each pipe is FIFO (chunks of one stream keep their order, the two
 *   streams may interleave) and the exit is reported only once both pipes
 *   are drained; a dead child writes nothing more.
 * - `startScheduledGuest`: the guest machine (as `memoryGuest.ts` builds it)
 *   with that child, a workspace whose file write and removal are scheduled,
 *   and a host side whose command lines and EOF are scheduled (FIFO, as a
 *   byte channel is) and whose signals are scheduled out of band. Every
 *   write of the guest is logged with the order of events, so invariants
 *   can be checked afterwards (`guestViolations`).
 * - `startScheduledSession`: our host and guest over the in-memory
 *   transport pair, as `runMemorySession` wires them, with the scheduled
 *   child and a scheduled `interrupt()` (Ctrl-C).
 *
 * `BREAK` (env `RACES_BREAK`) deliberately breaks this harness (never the
 * product), to see each invariant fail: `drop-chunk` (the guest's wire
 * loses one data payload), `extra-after-quit`, `wrong-exit` (the child
 * reports one exit code but the harness expects another), `no-remove`,
 * `late-write`, `unkillable` (the child survives SIGKILL: a hang),
 * `host-drop-chunk` (the host's output loses a chunk).
 */
// @ts-nocheck


import fc from 'fast-check';
import { createActor, fromCallback, fromPromise, toPromise, type InspectionEvent } from 'xstate';
import { concatBytes, latin1, utf8 } from '../../protocol/bytes.js';
import { exitCodeOf, type ChildExit, type OutputStream, type ProcessCommand, type ProcessEvent, type ProcessSpec } from '../../machines/childTypes.js';
import { guestStapsh, type GuestOutput } from '../../machines/guestStapsh.js';
import { pumpInto } from '../../guest/pump.js';
import { staprunChild } from '../../machines/staprunChild.js';
import { driveGuest } from '../../guest/driver.js';
import { createMemoryPair } from '../../transports/memory.js';
import { ioFromTransports } from '../../guest/session.js';
import { startSession, type SessionResult } from '../../host/session.js';

export const BREAK = process.env.RACES_BREAK ?? '';

export const SIGNALS: Readonly<Record<number, string>> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' };

/** What the child does when SIGHUP reaches it. */
export interface HupReaction {
  /** Written after the SIGHUP (end probes), before it ends. */
  readonly lastWords: readonly (readonly [OutputStream, Uint8Array])[];
  /** How it ends then; `ignore`: it goes on (only the guest's SIGKILL after the grace period ends it). */
  readonly end: ChildExit | 'ignore';
}

const preview = (bytes: Uint8Array) => JSON.stringify(latin1(bytes.subarray(0, 12))) + (bytes.length > 12 ? `…(${bytes.length})` : '');
export const exitText = (e: ChildExit) => (e.kind === 'exited' ? `exit ${e.code}` : `killed by ${e.signal} (${e.number})`);

/** A global order of what happened, to compare event times. */
export class Clock {
  #n = 0;
  tick(): number {
    return ++this.#n;
  }
}

const released = (s: fc.Scheduler, label: string) => s.schedule(Promise.resolve(label), label);

export class ScheduledChild {
  /** Bytes the child wrote to each pipe (accepted before it died). */
  readonly written: Record<OutputStream, Uint8Array[]> = { stdout: [], stderr: [] };
  /** Bytes read from each pipe and handed to the child machine (PROCESS.OUTPUT). */
  readonly delivered: Record<OutputStream, Uint8Array[]> = { stdout: [], stderr: [] };
  /** Signals the guest sent it. */
  readonly signals: string[] = [];
  /** The exit it is bound to (first one wins: its own, the SIGHUP reaction's, SIGKILL's). */
  exit: ChildExit | null = null;
  /** The exit as reported to the child machine, and when. */
  exitDelivered: ChildExit | null = null;
  exitAt = 0;
  spawnedAt = 0;
  spec: ProcessSpec | null = null;
  /** Events sent after the actor was stopped (they reach nobody). */
  sentAfterStop = 0;
  #send: ((e: ProcessEvent) => void) | null = null;
  #stopped = false;
  readonly #spawned: Promise<void>;
  #resolveSpawned: () => void = () => undefined;
  #tails: Record<OutputStream, Promise<void>>;

  constructor(
    private readonly s: fc.Scheduler,
    private readonly hup: HupReaction,
    private readonly clock: Clock,
  ) {
    this.#spawned = new Promise((r) => (this.#resolveSpawned = r));
    this.#tails = { stdout: this.#spawned, stderr: this.#spawned };
  }

  #deliver(e: ProcessEvent) {
    if (this.#stopped) this.sentAfterStop += 1;
    this.#send?.(e);
  }

  /** The process actor to provide as the child machine's `process`. */
  actor() {
    return fromCallback<ProcessCommand, ProcessSpec>(({ input, sendBack, receive }) => {
      this.spec = input;
      this.#send = sendBack;
      void released(this.s, 'child spawned').then(() => {
        this.spawnedAt = this.clock.tick();
        this.#deliver({ type: 'PROCESS.SPAWNED', pid: 4242 });
        this.#resolveSpawned();
      });
      receive((cmd) => this.#signal(cmd.signal));
      return () => {
        this.#stopped = true;
      };
    });
  }

  /** The child writes a chunk (it is read and delivered later, in pipe order). Ignored once it is dead. */
  write(stream: OutputStream, bytes: Uint8Array): boolean {
    if (this.exit !== null) return false;
    this.written[stream].push(bytes);
    this.#tails[stream] = this.#tails[stream]
      .then(() => released(this.s, `child ${stream} ${preview(bytes)}`))
      .then(() => {
        this.delivered[stream].push(bytes);
        this.#deliver({ type: 'PROCESS.OUTPUT', stream, bytes });
      });
    return true;
  }

  /** The child ends (reported once both pipes are drained). */
  end(exit: ChildExit): boolean {
    if (this.exit !== null) return false;
    this.exit = exit;
    const reported = BREAK === 'wrong-exit' && exit.kind === 'exited' ? { kind: 'exited' as const, code: (exit.code + 1) % 256 } : exit;
    void Promise.all([this.#tails.stdout, this.#tails.stderr])
      .then(() => released(this.s, `child ${exitText(exit)}`))
      .then(() => {
        this.exitDelivered = exit;
        this.exitAt = this.clock.tick();
        this.#deliver({ type: 'PROCESS.EXITED', exit: reported });
      });
    return true;
  }

  #signal(signal: ProcessCommand['signal']) {
    this.signals.push(signal);
    if (signal === 'SIGKILL') {
      if (BREAK === 'unkillable') return;
      this.end({ kind: 'signalled', signal: 'SIGKILL', number: 9 });
      return;
    }
    if (signal !== 'SIGHUP' || this.hup.end === 'ignore') return;
    const end = this.hup.end;
    void released(this.s, 'child handles SIGHUP').then(() => {
      for (const [stream, bytes] of this.hup.lastWords) this.write(stream, bytes);
      this.end(end);
    });
  }

  get spawned(): boolean {
    return this.spawnedAt > 0;
  }
}

/** One write of the guest, in order. */
export interface WireWrite {
  readonly stream: OutputStream;
  readonly bytes: Uint8Array;
  readonly at: number;
  /** Written after the guest's output was closed (its actor done). */
  readonly afterClose: boolean;
}

export interface GuestRaceSetup {
  /** Ask for `option status` in the prologue. */
  readonly statusOption: boolean;
  readonly hup: HupReaction;
  readonly graceMs: number;
  /**
   * Hold a signal that arrives while the child is being spawned (the guest
   * in `running.starting`) until the spawn settled, as a guest blocking
   * signals around fork would: the workaround for the spawn race (see
   * guestRaces.test.ts). False: the signal is sent at once.
   */
  readonly holdSignalsWhileSpawning?: boolean;
}

/** Host lines sent while the child may run, and the reply each gets from a running guest (null: silence). */
export const IN_FLIGHT: Readonly<Record<string, string | null>> = {
  'option data': 'OK',
  'option status': 'OK',
  'option bogus': 'ERROR: Invalid option',
  'stap 4.8': null,
};

export const MODULE = { name: 'stap_1.ko', bytes: utf8('\x7fELF') };

export interface ScheduledGuest {
  readonly child: ScheduledChild;
  /** The host sends a command line (scheduled, after everything it sent before). */
  hostLine(text: string): void;
  /** The host closes its side (scheduled, after its lines). */
  hostEof(): void;
  /** A signal reaches the guest process (scheduled, out of band). */
  signal(signal: string): void;
  /** Lines the host sent after the prologue, in order. */
  readonly sentLines: string[];
  readonly hostClosed: boolean;
  readonly wire: WireWrite[];
  readonly done: Promise<GuestOutput>;
  /** When the workspace was removed (0: never). */
  readonly removedAt: number;
  readonly doneAt: number;
}

/** The guest machine whose file write, temp-dir removal (then `onRemoved`) and child are released by the scheduler. */
function scheduledGuestMachine(s: fc.Scheduler, child: ScheduledChild, onRemoved: () => void): typeof guestStapsh {
  return guestStapsh.provide({
    actors: {
      writeFile: fromPromise(async () => {
        await released(s, 'file written');
      }),
      removeWorkspace: fromPromise(async () => {
        await released(s, 'temp dir removed');
        onRemoved();
      }),
      child: staprunChild.provide({ actors: { process: child.actor() } }),
    },
  });
}

export function startScheduledGuest(s: fc.Scheduler, setup: GuestRaceSetup): ScheduledGuest {
  const clock = new Clock();
  const child = new ScheduledChild(s, setup.hup, clock);
  const wire: WireWrite[] = [];
  let closed = false;
  let removedAt = 0;
  let doneAt = 0;
  const machine = scheduledGuestMachine(s, child, () => {
    if (BREAK !== 'no-remove') removedAt = clock.tick();
  });
  const actor = createActor(machine, {
    input: {
      release: '4.8',
      machine: 'x86_64',
      kernelRelease: '6.1.0-test',
      bindir: '/usr/bin',
      workdir: '/tmp/stapsh.RACE',
      limits: { graceMs: setup.graceMs },
    },
  });
  let dropped = false;
  actor.on('wire', (e) => {
    // Harness breakage for checking the checks: lose the first data payload.
    if (BREAK === 'drop-chunk' && !dropped && wire.length > 0 && latin1(wire[wire.length - 1]!.bytes).startsWith('data ')) {
      dropped = true;
      wire.pop();
      return;
    }
    wire.push({ stream: e.stream, bytes: e.bytes, at: clock.tick(), afterClose: closed });
  });
  const done = toPromise(actor).then((out) => {
    doneAt = clock.tick();
    closed = true;
    if (BREAK === 'extra-after-quit') wire.push({ stream: 'stdout', bytes: utf8('OK\n'), at: clock.tick(), afterClose: false });
    if (BREAK === 'late-write') wire.push({ stream: 'stdout', bytes: new Uint8Array(0), at: clock.tick(), afterClose: true });
    return out;
  });
  actor.start();
  const pump = pumpInto(actor);
  let hostTail: Promise<unknown> = Promise.resolve();
  const sentLines: string[] = [];
  let hostClosed = false;
  const hostSend = (label: string, act: () => void) => {
    hostTail = hostTail.then(() => released(s, label)).then(act);
  };
  const line = (text: string) => hostSend(`host: ${text}`, () => pump.push(utf8(`${text}\n`)));
  line('stap 4.8');
  line('option data');
  if (setup.statusOption) line('option status');
  line(`file ${MODULE.bytes.length} ${MODULE.name}`);
  hostSend('host: module payload', () => pump.push(MODULE.bytes));
  line(`run ./${MODULE.name}`);
  return {
    child,
    hostLine(text) {
      sentLines.push(text);
      line(text);
    },
    hostEof() {
      hostClosed = true;
      hostSend('host: EOF', () => pump.end());
    },
    signal(signal) {
      void released(s, `guest gets ${signal}`).then(() => {
        // A signal to a process that has exited reaches nobody.
        if (actor.getSnapshot().status !== 'active') return;
        const spawning = () => actor.getSnapshot().matches({ running: 'starting' });
        if (!setup.holdSignalsWhileSpawning || !spawning()) {
          actor.send({ type: 'SIGNAL', signal });
          return;
        }
        const sub = actor.subscribe(() => {
          if (spawning()) return;
          sub.unsubscribe();
          queueMicrotask(() => {
            if (actor.getSnapshot().status === 'active') actor.send({ type: 'SIGNAL', signal });
          });
        });
      });
    },
    sentLines,
    get hostClosed() {
      return hostClosed;
    },
    wire,
    done,
    get removedAt() {
      return removedAt;
    },
    get doneAt() {
      return doneAt;
    },
  };
}

/** A frame or reply of the guest's merged output (a socket's view: stdout and stderr in one channel). */
export type GuestItem = { readonly kind: 'reply'; readonly text: string } | { readonly kind: 'data'; readonly stream: OutputStream; readonly bytes: Uint8Array };

/** Parses the merged output strictly: lines, and `data STREAM N` followed by exactly N bytes. */
export function parseGuestOutput(bytes: Uint8Array): { items: GuestItem[]; error: string | null } {
  const items: GuestItem[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) return { items, error: `an unterminated line at ${pos}: ${preview(bytes.subarray(pos))}` };
    const text = latin1(bytes.subarray(pos, nl));
    pos = nl + 1;
    const m = /^data (stdout|stderr) (\d+)$/.exec(text);
    if (m) {
      const n = Number(m[2]);
      if (pos + n > bytes.length) return { items, error: `a frame of ${n} bytes cut at ${bytes.length - pos}` };
      items.push({ kind: 'data', stream: m[1] as OutputStream, bytes: bytes.subarray(pos, pos + n) });
      pos += n;
    } else {
      items.push({ kind: 'reply', text });
    }
  }
  return { items, error: null };
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The guest-level invariants, as a list of violations (empty: all hold):
 * `quit` last, every byte read from the child framed before it, the exit
 * status, nothing written after the output closed, the temp dir removed
 * (after the child ended), replies in order, no orphan child.
 */
export function guestViolations(g: ScheduledGuest, out: GuestOutput, setup: GuestRaceSetup): string[] {
  const v: string[] = [];
  const child = g.child;
  const late = g.wire.filter((w) => w.afterClose);
  if (late.length > 0) v.push(`${late.length} write(s) after the guest's output was closed`);
  const merged = concatBytes(g.wire.map((w) => w.bytes));
  const { items, error } = parseGuestOutput(merged);
  if (error !== null) v.push(`malformed guest output: ${error}`);
  const replies = items.flatMap((i) => (i.kind === 'reply' ? [i.text] : []));

  // The prologue's replies: a prefix of hello, OK (data), [OK (status)], OK (file), OK (run).
  const prologue = ['stapsh 4.8 x86_64 6.1.0-test', 'OK', ...(setup.statusOption ? ['OK'] : []), 'OK', 'OK'];
  let k = 0;
  while (k < prologue.length && k < replies.length && replies[k] === prologue[k]) k++;
  const dataMode = k >= 2;
  const runOk = k === prologue.length;
  const firstDataIndex = items.findIndex((i) => i.kind === 'data');
  const runOkIndex = runOk ? items.findIndex((_, idx) => items.slice(0, idx + 1).filter((i) => i.kind === 'reply').length === prologue.length) : -1;
  if (child.spawned && !runOk) v.push('the child was spawned but the run got no OK');
  if (firstDataIndex >= 0 && (runOkIndex < 0 || firstDataIndex < runOkIndex)) v.push('a data frame before the OK to run');

  // quit: exactly once, last, iff data mode was on.
  const quits = items.map((i, idx) => (i.kind === 'reply' && i.text === 'quit' ? idx : -1)).filter((i) => i >= 0);
  if (dataMode) {
    if (quits.length !== 1) v.push(`expected one quit, got ${quits.length}`);
    else if (quits[0] !== items.length - 1) v.push(`${items.length - 1 - quits[0]!} item(s) after quit: ${JSON.stringify(items.slice(quits[0]! + 1).map((i) => (i.kind === 'reply' ? i.text : `data ${i.stream} ${i.bytes.length}`)))}`);
    if (merged.length > 0 && latin1(merged.subarray(-5)) !== 'quit\n') v.push('the last bytes are not quit');
  } else if (quits.length > 0) v.push('quit without data mode');

  // Every byte read from the child is framed, before quit; and it is every byte it wrote.
  for (const stream of ['stdout', 'stderr'] as const) {
    const framed = concatBytes(items.flatMap((i, idx) => (i.kind === 'data' && i.stream === stream && (quits.length === 0 || idx < quits[0]!) ? [i.bytes] : [])));
    const read = concatBytes(child.delivered[stream]);
    const written = concatBytes(child.written[stream]);
    if (dataMode && child.spawned && !same(framed, read)) v.push(`${stream}: ${read.length} bytes read from the child, ${framed.length} framed before quit`);
    // A child that never started wrote nothing (its scripted writes had no process to come from).
    if (child.spawned && !same(read, written)) v.push(`${stream}: the child wrote ${written.length} bytes, ${read.length} were read`);
  }
  if (child.sentAfterStop > 0) v.push(`${child.sentAfterStop} child event(s) after its actor was stopped`);

  // Exit status: the child's (128+N for signal N), 0 when none ran.
  if (child.spawned && child.exitDelivered === null) v.push('the guest ended while its child still ran (no exit reported)');
  const expectedExit = child.exitDelivered;
  const expectedCode = expectedExit === null ? 0 : exitCodeOf(expectedExit);
  if (out.exitCode !== expectedCode) v.push(`guest exit status ${out.exitCode}, expected ${expectedCode}`);
  if (JSON.stringify(out.exit) !== JSON.stringify(expectedExit)) v.push(`guest reports exit ${JSON.stringify(out.exit)}, expected ${JSON.stringify(expectedExit)}`);

  // The status line (extension): just before quit, naming the child's end.
  const statusIdx = items.findIndex((i) => i.kind === 'reply' && i.text.startsWith('status '));
  if (statusIdx >= 0) {
    const text = (items[statusIdx] as { text: string }).text;
    if (quits.length === 0 || statusIdx !== quits[0]! - 1) v.push('a status line not right before quit');
    const want = expectedExit === null ? null : expectedExit.kind === 'exited' ? `status ${expectedExit.code}` : `status signal ${expectedExit.number}`;
    if (text !== want) v.push(`"${text}", expected ${JSON.stringify(want)}`);
  } else if (setup.statusOption && runOk && dataMode && expectedExit !== null) v.push('option status was agreed, the child ended, but no status line');

  // Replies to lines sent while the child may run: in order, a prefix of what they ask for.
  const afterRun = runOk ? replies.slice(prologue.length).filter((t) => t !== 'quit' && !t.startsWith('status ')) : [];
  const expectedReplies = g.sentLines.flatMap((l) => (IN_FLIGHT[l] === null || IN_FLIGHT[l] === undefined ? [] : [IN_FLIGHT[l]!]));
  if (afterRun.some((t, i) => t !== expectedReplies[i])) v.push(`replies ${JSON.stringify(afterRun)} are not a prefix of ${JSON.stringify(expectedReplies)}`);
  if (!runOk && replies.length > k + (quits.length > 0 ? 1 : 0)) v.push(`unexpected replies ${JSON.stringify(replies.slice(k))}`);

  // The temp dir: removed, after the child ended, before the guest is done.
  if (g.removedAt === 0) v.push('the temp dir was not removed');
  else {
    if (child.spawned && g.removedAt < child.exitAt) v.push('the temp dir was removed while the child ran');
    const lastWrite = g.wire.length === 0 ? 0 : g.wire[g.wire.length - 1]!.at;
    if (g.doneAt < g.removedAt || g.doneAt < lastWrite) v.push('the guest was done before its cleanup or its last write');
  }
  return v;
}

/** Resolves with `label` after `ms` (a hang's bound); the timer does not keep Node alive. */
export function hangAfter(ms: number, label: string): Promise<string> {
  return new Promise((r) => setTimeout(() => r(label), ms).unref());
}

export interface SessionRaceSetup {
  readonly hup: HupReaction;
  readonly graceMs: number;
  /**
   * Hold a Ctrl-C that comes before the host streams until it does (as
   * SystemTap's stap keeps a pending interrupt); false: `interrupt()` at once.
   */
  readonly holdEarlyInterrupt: boolean;
  /** The host's bound on each reply (default 1000 ms). */
  readonly replyTimeoutMs?: number;
}

export interface ScheduledSession {
  readonly child: ScheduledChild;
  /** Ctrl-C (scheduled). */
  interrupt(): void;
  /** A second Ctrl-C: close hard (scheduled). */
  close(): void;
  readonly interrupts: number;
  readonly closed: boolean;
  readonly done: Promise<{ host: SessionResult; guest: GuestOutput; stdout: Uint8Array; stderr: Uint8Array; removed: boolean }>;
  /** The host machine's state (inspected). */
  readonly hostState: string;
}

export function startScheduledSession(s: fc.Scheduler, setup: SessionRaceSetup): ScheduledSession {
  const clock = new Clock();
  const child = new ScheduledChild(s, setup.hup, clock);
  let removed = false;
  const [hostEnd, guestEnd] = createMemoryPair({ names: ['memory:host', 'memory:guest'] });
  const machine = scheduledGuestMachine(s, child, () => {
    removed = BREAK !== 'no-remove';
  });
  const guestDone = driveGuest(
    machine,
    { release: '4.8', machine: 'x86_64', kernelRelease: '6.1.0-memory', bindir: '/usr/bin', workdir: '/tmp/stapsh.MEMORY', limits: { graceMs: setup.graceMs } },
    ioFromTransports(guestEnd),
  ).finally(() => void guestEnd.close());
  let hostState = 'handshake';
  const streamingWaiters: Array<() => void> = [];
  const inspect = (e: InspectionEvent) => {
    if (e.type !== '@xstate.snapshot' || e.actorRef.sessionId !== e.rootId) return;
    const value = (e.snapshot as { value?: unknown }).value;
    hostState = typeof value === 'string' ? value : JSON.stringify(value);
    if (hostState === 'streaming' || hostState === 'finished' || hostState === 'failed') streamingWaiters.splice(0).forEach((w) => w());
  };
  const session = startSession(hostEnd, {
    module: MODULE,
    remote: 'memory:',
    wantData: true,
    replyTimeoutMs: setup.replyTimeoutMs ?? 1_000,
    inspect,
  });
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  let droppedHost = false;
  session.output$.subscribe((c) => {
    if (BREAK === 'host-drop-chunk' && !droppedHost) {
      droppedHost = true;
      return;
    }
    (c.stream === 'stdout' ? out : err).push(c.bytes.slice());
  });
  let interrupts = 0;
  let closed = false;
  const done = (async () => {
    const host = await session.done;
    await hostEnd.close();
    const guest = await guestDone;
    return { host, guest, stdout: concatBytes(out), stderr: concatBytes(err), removed };
  })();
  return {
    child,
    interrupt() {
      interrupts += 1;
      void released(s, 'host: Ctrl-C').then(() => {
        if (!setup.holdEarlyInterrupt || hostState === 'streaming' || hostState === 'finished' || hostState === 'failed' || hostState === 'quitting') session.interrupt();
        else streamingWaiters.push(() => session.interrupt());
      });
    },
    close() {
      closed = true;
      void released(s, 'host: second Ctrl-C (close)').then(() => session.close());
    },
    get interrupts() {
      return interrupts;
    },
    get closed() {
      return closed;
    },
    done,
    get hostState() {
      return hostState;
    },
  };
}

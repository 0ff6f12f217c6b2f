/**
 * Races in the guest (issue #5), in memory, under fast-check's scheduler:
 * the host's `quit`, EOF and a reply in flight (`option …` while the child
 * runs), a signal to the guest (SIGTERM, Ctrl-C's SIGINT), the child's
 * output, its exit, its death by a signal and its reaction to SIGHUP, the
 * spawn, the file write and the temp dir's removal are all scheduled tasks
 * released in an order fast-check picks (and shrinks). The host's bytes stay
 * in order (one channel), each child pipe too, and the child's exit follows
 * its output, as with real processes; everything else interleaves freely.
 *
 * Invariants, after every run (`guestViolations`): `quit` is the guest's
 * last frame and nothing follows it; every byte read from the child is in a
 * `data` frame before `quit`; the guest's exit status is the child's (128+N
 * for signal N); nothing is written after the guest's output is closed; the
 * temp dir is removed, after the child ended; replies stay in order; never
 * a hang.
 *
 * Run count: env FC_NUM_RUNS. A failure prints fast-check's seed and path and,
 * verbose, the scheduler's report (the order tasks were released in).
 * `RACES_BREAK=drop-chunk|extra-after-quit|wrong-exit|no-remove|late-write`
 * breaks the harness on purpose, to watch these properties fail.
 */
// @ts-nocheck


import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../protocol/bytes.js';
import type { ChildExit, OutputStream } from '../../machines/childTypes.js';
import {
  guestViolations,
  hangAfter,
  IN_FLIGHT,
  SIGNALS,
  startScheduledGuest,
  type GuestRaceSetup,
  type HupReaction,
  type ScheduledGuest,
} from '../support/scheduledGuest.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 400);

interface Model {
  hostClosed: boolean;
  quitSent: boolean;
  signals: number;
  childEnded: boolean;
}

type Cmd = fc.AsyncCommand<Model, ScheduledGuest>;

class HostSendsQuit implements Cmd {
  check = (m: Readonly<Model>) => !m.hostClosed && !m.quitSent;
  async run(m: Model, g: ScheduledGuest) {
    m.quitSent = true;
    g.hostLine('quit');
  }
  toString = () => 'HostSendsQuit';
}

class HostSendsEof implements Cmd {
  check = (m: Readonly<Model>) => !m.hostClosed;
  async run(m: Model, g: ScheduledGuest) {
    m.hostClosed = true;
    g.hostEof();
  }
  toString = () => 'HostSendsEof';
}

/** A line whose reply is in flight while the child runs (or silence, for `stap`). */
class HostSendsLine implements Cmd {
  constructor(readonly line: string) {}
  check = (m: Readonly<Model>) => !m.hostClosed;
  async run(_m: Model, g: ScheduledGuest) {
    g.hostLine(this.line);
  }
  toString = () => `HostSendsLine(${JSON.stringify(this.line)})`;
}

class SignalGuest implements Cmd {
  constructor(readonly signal: string) {}
  check = (m: Readonly<Model>) => m.signals < 2;
  async run(m: Model, g: ScheduledGuest) {
    m.signals += 1;
    g.signal(this.signal);
  }
  toString = () => `SignalGuest(${this.signal})`;
}

class ChildWrites implements Cmd {
  constructor(
    readonly stream: OutputStream,
    readonly bytes: Uint8Array,
  ) {}
  check = (m: Readonly<Model>) => !m.childEnded;
  async run(_m: Model, g: ScheduledGuest) {
    g.child.write(this.stream, this.bytes);
  }
  toString = () => `ChildWrites(${this.stream}, ${fc.stringify(this.bytes)})`;
}

class ChildExits implements Cmd {
  constructor(readonly exit: ChildExit) {}
  check = (m: Readonly<Model>) => !m.childEnded;
  async run(m: Model, g: ScheduledGuest) {
    m.childEnded = true;
    g.child.end(this.exit);
  }
  toString = () => (this.exit.kind === 'exited' ? `ChildExits(${this.exit.code})` : `ChildDiesBySignal(${this.exit.number})`);
}

const chunk = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 24 }),
  // Bytes that look like frames and replies: still payload.
  fc.constantFrom('tick\n', 'quit\n', 'data stdout 5\n', 'OK\n', '\0\r\n').map(utf8),
);
const stream = fc.constantFrom<OutputStream>('stdout', 'stderr');
const signalExit = fc.constantFrom(1, 2, 6, 9, 11, 15).map((n): ChildExit => ({ kind: 'signalled', signal: SIGNALS[n]!, number: n }));
const codeExit = fc.integer({ min: 0, max: 255 }).map((code): ChildExit => ({ kind: 'exited', code }));

const commands = fc.commands(
  [
    fc.constant(new HostSendsQuit()),
    fc.constant(new HostSendsEof()),
    fc.constantFrom(...Object.keys(IN_FLIGHT)).map((l) => new HostSendsLine(l)),
    fc.constantFrom('SIGTERM', 'SIGINT', 'SIGHUP', 'SIGPIPE').map((sig) => new SignalGuest(sig)),
    fc.tuple(stream, chunk).map(([st, b]) => new ChildWrites(st, b)),
    fc.tuple(stream, chunk).map(([st, b]) => new ChildWrites(st, b)),
    codeExit.map((e) => new ChildExits(e)),
    signalExit.map((e) => new ChildExits(e)),
  ],
  { maxCommands: 12 },
);

/** Just the spawn race: signals and output around the `run`. */
const spawnRaceCommands = fc.commands(
  [
    fc.constantFrom('SIGTERM', 'SIGINT', 'SIGHUP').map((sig) => new SignalGuest(sig)),
    fc.tuple(stream, chunk).map(([st, b]) => new ChildWrites(st, b)),
  ],
  { maxCommands: 4 },
);

const hupReaction: fc.Arbitrary<HupReaction> = fc.record({
  lastWords: fc.array(fc.tuple(stream, chunk), { maxLength: 3 }),
  end: fc.oneof(codeExit, signalExit, fc.constant('ignore' as const)),
});

const setupArb = (hold: boolean): fc.Arbitrary<GuestRaceSetup> =>
  fc.record({
    statusOption: fc.boolean(),
    hup: hupReaction,
    graceMs: fc.constant(3),
    holdSignalsWhileSpawning: fc.constant(hold),
  });

/** One race: the prologue and the commands scheduled, the host's EOF at the end, then the invariants. */
async function race(s: fc.Scheduler, setup: GuestRaceSetup, cmds: Iterable<Cmd>, only?: RegExp): Promise<void> {
  const model: Model = { hostClosed: false, quitSent: false, signals: 0, childEnded: false };
  const guest = startScheduledGuest(s, setup);
  await fc.scheduledModelRun(s, () => ({ model, real: guest }), cmds);
  // The host always closes its end in the end (its process exits).
  if (!guest.hostClosed) guest.hostEof();
  const outcome = await s.waitFor(Promise.race([guest.done, hangAfter(2_000, 'hang')]));
  if (typeof outcome === 'string') throw new Error(`the guest hangs (child signals ${JSON.stringify(guest.child.signals)}, spawned ${guest.child.spawned})`);
  await s.waitIdle();
  const violations = guestViolations(guest, outcome, setup);
  expect(only ? violations.filter((v) => only.test(v)) : violations).toEqual([]);
}

describe('guest races under a scheduler', () => {
  test.prop([fc.scheduler(), fc.boolean().chain(setupArb), commands], { numRuns: runs, verbose: 2 })(
    "quit is last, every child byte is framed before it, the exit status is the child's, cleanup happens, no hang",
    (s, setup, cmds) => race(s, setup, cmds),
  );

  /*
   * BUG (product, machines/guestStapsh.ts): a signal (SIGTERM/SIGINT/SIGHUP/
   * SIGPIPE) that reaches the guest while its child is being spawned — the
   * `run` line handled, the guest in `running.starting`, PROCESS.SPAWNED not
   * yet reported — takes the guest to `running.hangingUp`, which has no
   * `CHILD.SPAWNED` transition: the spawn is dropped, so the `OK` to `run` is
   * never written, yet the child's output is then framed (`data …`), and
   * `status …`/`quit` follow. The host, still waiting for the run's reply in
   * line mode, reads frames and raw child bytes as reply lines (a child line
   * `OK` would be taken as the run's OK: a desync). Scheduler order:
   * `host: run ./stap_1.ko` → `guest gets SIGTERM` → `child spawned` →
   * `child stdout …` → `child exit …`. Expected: hello, OK, OK, OK, OK (run),
   * data frames, quit. Actual: hello, OK, OK, OK, data frames, quit.
   * The property above holds such a signal until the spawn settled
   * (`holdSignalsWhileSpawning`) and passes; this one sends it at once.
   * Found by this property and fixed: `running.hangingUp` now answers a spawn
   * that completes there (OK, then the hang-up), and a failed one with ERROR.
   */
  it('a signal racing the child\'s spawn: the run still gets its OK before any frame (was lost: fixed)', async () => {
    await fc.assert(
      // Only this invariant: the test fails for this bug, not for another.
      fc.asyncProperty(fc.scheduler(), setupArb(false), spawnRaceCommands, (s, setup, cmds) => race(s, setup, cmds, /spawned but the run got no OK/)),
      { numRuns: Math.max(runs, 200), verbose: 2 },
    );
  });

  // The same bug, replayed in one fixed order (found with seed 42, path "3:0:0:0", shrunk to one
  // command): host lines 1-4, the SIGTERM command, `run`, file written, `guest gets SIGTERM`,
  // `child spawned`, … The child is spawned and hung up, but the guest writes
  // `stapsh 4.8 …`, `OK`, `OK`, `quit`: no `OK` to `run`.
  it('the spawn race in one fixed order (schedulerFor): the run gets its OK (was lost: fixed)', async () => {
    const s = fc.schedulerFor([1, 2, 3, 4, 6, 7, 5, 9, 8, 10, 11, 12, 14, 13, 15]);
    const setup: GuestRaceSetup = { statusOption: false, hup: { lastWords: [], end: { kind: 'signalled', signal: 'SIGHUP', number: 1 } }, graceMs: 3 };
    await race(s, setup, [new SignalGuest('SIGTERM')], /spawned but the run got no OK/);
  });
});

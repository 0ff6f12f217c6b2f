/**
 * A whole session in memory: our host and our guest machines joined by an
 * in-memory transport pair (with its scripted faults), the guest's child
 * scripted. Microseconds per session, no OS: for property tests over
 * releases, chunkings and cuts, and for benchmarking the machines alone.
 */

import { createMemoryPair, type MemoryDirection } from '../../transports/memory.js';
import { concatBytes } from '../../protocol/bytes.js';
import { driveGuest } from '../../machines/guestDriver.js';
import type { GuestOutput } from '../../machines/guestStapsh.js';
import type { GuestLimits } from '../../machines/guestReplies.js';
import { ioFromTransports } from '../guest/session.js';
import { startSession, type SessionResult } from '../host/session.js';
import { memoryGuestMachine, type ChildScript, type MemoryWorld } from './actors.js';

export interface MemorySessionOptions {
  readonly hostRelease?: string;
  readonly guestRelease?: string;
  readonly child?: ChildScript;
  /** Faults of the host → guest direction. */
  readonly hostToGuest?: MemoryDirection;
  /** Faults of the guest → host direction. */
  readonly guestToHost?: MemoryDirection;
  readonly wantData?: boolean;
  readonly module?: { readonly name: string; readonly bytes: Uint8Array };
  readonly moduleArgs?: readonly string[];
  readonly replyTimeoutMs?: number;
  readonly guestLimits?: Partial<GuestLimits>;
  /** Interrupt (as Ctrl-C) this many ms after the hello; never when absent. */
  readonly interruptAfterMs?: number;
}

export interface MemorySessionResult {
  readonly host: SessionResult;
  readonly guest: GuestOutput;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly world: MemoryWorld;
}

export async function runMemorySession(options: MemorySessionOptions = {}): Promise<MemorySessionResult> {
  const [hostEnd, guestEnd] = createMemoryPair({
    names: ['memory:host', 'memory:guest'],
    ...(options.hostToGuest ? { aToB: options.hostToGuest } : {}),
    ...(options.guestToHost ? { bToA: options.guestToHost } : {}),
  });
  const { machine, world } = memoryGuestMachine(options.child ?? { start: [['stdout', 'hello\n']], exitCode: 0 });
  const guestDone = driveGuest(
    machine,
    {
      release: options.guestRelease ?? '4.8',
      machine: 'x86_64',
      kernelRelease: '6.1.0-memory',
      bindir: '/usr/bin',
      workdir: '/tmp/stapsh.MEMORY',
      listening: false,
      limits: { graceMs: 100, ...options.guestLimits },
    },
    ioFromTransports(guestEnd),
  ).finally(() => void guestEnd.close());
  const session = startSession(hostEnd, {
    module: options.module ?? { name: 'stap_1.ko', bytes: new Uint8Array([0x7f, 0x45, 0x4c, 0x46]) },
    moduleArgs: options.moduleArgs ?? [],
    remote: 'memory:',
    wantData: options.wantData ?? true,
    release: options.hostRelease ?? '4.8',
    replyTimeoutMs: options.replyTimeoutMs ?? 1_000,
  });
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  session.output$.subscribe((c) => (c.stream === 'stdout' ? out : err).push(c.bytes.slice()));
  if (options.interruptAfterMs !== undefined) {
    const ms = options.interruptAfterMs;
    void session.hello.then(
      () => setTimeout(() => session.interrupt(), ms),
      () => undefined,
    );
  }
  const host = await session.done;
  // The host is done with its end: the guest sees EOF (or the fault's own end).
  await hostEnd.close();
  const guest = await guestDone;
  return { host, guest, stdout: concatBytes(out), stderr: concatBytes(err), world };
}

/**
 * One in-memory guest session (memory/actors.ts's `memoryGuestMachine`: a
 * workspace that is a Map, a scripted child) over given input chunks, with
 * its output collected as text. Whole guest sessions in microseconds.
 */

import { createActor, toPromise } from 'xstate';
import { concatBytes, latin1 } from '../../protocol/bytes.js';
import type { ProcessSpec } from '../../machines/childTypes.js';
import { memoryGuestMachine, type ChildScript } from '../../memory/actors.js';
export type { ChildScript } from '../../memory/actors.js';
import type { GuestLimits } from '../../machines/guestReplies.js';
import type { GuestOutput } from '../../machines/guestStapsh.js';
import { pumpInto } from '../../guest/pump.js';

export interface MemoryGuestResult extends GuestOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly files: Map<string, string>;
  readonly spawned: ProcessSpec[];
  readonly removed: boolean;
  /** stdout with `<gap MS>` where the guest asked for quiet before writing on. */
  readonly paced: string;
  /** The guest's `child` events (spawned, signal, exited), in order. */
  readonly childEvents: string[];
}

export interface MemoryGuestOptions {
  readonly release?: string;
  readonly listening?: boolean;
  readonly verbose?: number;
  readonly child?: ChildScript;
  readonly limits?: Partial<GuestLimits>;
  /** Send EOF after the chunks (default true). */
  readonly eof?: boolean;
  /** Signal to deliver after the chunks instead of EOF. */
  readonly signal?: string;
  /** stapflow's extensions (default: the machine's, on). */
  readonly extensions?: boolean;
}

/** Run one in-memory guest session over the given input chunks. */
export async function runMemoryGuest(chunks: readonly Uint8Array[], options: MemoryGuestOptions = {}): Promise<MemoryGuestResult> {
  const { machine, world } = memoryGuestMachine(options.child ?? {});
  const actor = createActor(machine, {
    input: {
      release: options.release ?? '4.8',
      machine: 'x86_64',
      kernelRelease: '6.1.0-test',
      bindir: '/usr/bin',
      workdir: '/tmp/stapsh.TEST',
      verbose: options.verbose ?? 0,
      listening: options.listening ?? false,
      ...(options.extensions === undefined ? {} : { extensions: options.extensions }),
      ...(options.limits ? { limits: { graceMs: 50, ...options.limits } } : { limits: { graceMs: 50 } }),
    },
  });
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  const paced: string[] = [];
  actor.on('wire', (e) => {
    (e.stream === 'stdout' ? out : err).push(e.bytes);
    if (e.stream === 'stdout') paced.push(latin1(e.bytes));
  });
  actor.on('gap', (e) => paced.push(`<gap ${e.ms}>`));
  const childEvents: string[] = [];
  actor.on('child', (e) => childEvents.push(e.what === 'signal' ? `signal ${e.signal}` : e.what === 'exited' ? `exited ${e.exit.kind === 'exited' ? e.exit.code : e.exit.signal}` : 'spawned'));
  const done = toPromise(actor);
  actor.start();
  const pump = pumpInto(actor);
  for (const c of chunks) pump.push(c);
  if (options.signal) actor.send({ type: 'SIGNAL', signal: options.signal });
  else if (options.eof ?? true) pump.end();
  const output = await done;
  return {
    ...output,
    stdout: latin1(concatBytes(out)),
    stderr: latin1(concatBytes(err)),
    paced: paced.join(''),
    files: new Map([...world.files].map(([name, bytes]) => [name, latin1(bytes)])),
    spawned: world.spawned,
    removed: world.removed,
    childEvents,
  };
}

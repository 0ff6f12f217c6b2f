/**
 * Runs a guest machine against a byte channel: starts the actor, writes its
 * `wire` output, feeds it through the pump (pausing the channel when input
 * backs up), and resolves with its output. No OS effects of its own: the
 * machine passed in carries whichever actors it was provided with, so the
 * CLI and in-memory tests share this wiring.
 */
// @ts-nocheck


import type { Observable } from 'rxjs';
import { createActor, toPromise, type InspectionEvent } from 'xstate';
import type { OutputStream } from '../machines/childTypes.js';
import { pumpInto } from './pump.js';
import type { guestStapsh, GuestActor, GuestInput, GuestOutput } from '../machines/guestStapsh.js';

export interface GuestChannel {
  readonly incoming$: Observable<Uint8Array>;
  write(stream: OutputStream, bytes: Uint8Array): void;
  /** Keep quiet for `ms` after what is written so far before writing on (optional: a channel may not pace). */
  gap?(ms: number): void;
  pause(): void;
  resume(): void;
}

export interface DriveOptions {
  readonly inspect?: (event: InspectionEvent) => void;
  /** Called with the started actor (signals, traces). */
  readonly onActor?: (actor: GuestActor) => void;
}

export async function driveGuest(
  machine: typeof guestStapsh,
  input: GuestInput,
  channel: GuestChannel,
  options: DriveOptions = {},
): Promise<GuestOutput> {
  const actor = createActor(machine, { input, ...(options.inspect ? { inspect: options.inspect } : {}) });
  actor.on('wire', (e) => channel.write(e.stream, e.bytes));
  actor.on('gap', (e) => channel.gap?.(e.ms));
  const done = toPromise(actor);
  actor.start();
  options.onActor?.(actor);
  const pump = pumpInto(actor, { onBackpressure: (paused) => (paused ? channel.pause() : channel.resume()) });
  const subscription = channel.incoming$.subscribe({
    next: (chunk) => pump.push(chunk),
    complete: () => pump.end(),
    // A broken channel is the host gone: end the session as on EOF.
    error: () => pump.end(),
  });
  try {
    return await done;
  } finally {
    subscription.unsubscribe();
    actor.stop();
  }
}

/**
 * The guest's signals: SystemTap's guest ends its session on these, and so
 * does ours, but cleanly (the child hung up, the temp dir removed) instead
 * of dying with them.
 */
// @ts-nocheck


import type { GuestActor } from '../machines/guestStapsh.js';

/**
 * Signals that end a session cleanly (child hung up, temp dir removed).
 * SIGUSR1/SIGUSR2 kill SystemTap's guest; Node would instead open its
 * inspector on SIGUSR1, a debugger port into a root process: a listener
 * keeps it shut (see `guardInspector`).
 */
export const TERMINATING = ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE', 'SIGUSR1', 'SIGUSR2'] as const;

/** Installed for the guest's whole life: with any SIGUSR1 listener, Node never opens its inspector. */
export function guardInspector(): void {
  if (process.listenerCount('SIGUSR1') === 0) process.on('SIGUSR1', () => undefined);
}

/** Forward terminating signals to the running session(s) instead of dying. */
export function forwardSignals(onSignal: (signal: string) => void): () => void {
  const handlers = TERMINATING.map((signal) => {
    const h = () => onSignal(signal);
    process.on(signal, h);
    return [signal, h] as const;
  });
  return () => handlers.forEach(([s, h]) => process.off(s, h));
}

/**
 * Signals for the one session of this process: held until its actor exists
 * (the temp dir is made before the session starts), so a signal in that
 * window still ends the session instead of being dropped.
 */
export function heldSignals(): { readonly attach: (actor: GuestActor) => void; readonly send: (signal: string) => void } {
  let actor: GuestActor | null = null;
  const pending: string[] = [];
  return {
    attach: (a) => {
      actor = a;
      for (const signal of pending.splice(0)) a.send({ type: 'SIGNAL', signal });
    },
    send: (signal) => (actor ? actor.send({ type: 'SIGNAL', signal }) : pending.push(signal)),
  };
}

/** `heldSignals` fed by this process's terminating signals until `stop()`. */
export function sessionSignals(): { readonly attach: (actor: GuestActor) => void; readonly stop: () => void } {
  const held = heldSignals();
  return { attach: held.attach, stop: forwardSignals(held.send) };
}

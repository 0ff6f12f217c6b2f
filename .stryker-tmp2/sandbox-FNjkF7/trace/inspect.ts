/**
 * Recorders of the machines: `inspectRecorder`, an XState `inspect`
 * callback recording state changes, and `recordGuestActor`, which
 * subscribes to a guest actor's `wire` and `child` events.
 */
// @ts-nocheck


import type { InspectionEvent } from 'xstate';
import type { GuestActor } from '../machines/guestStapsh.js';
import { createClock, escapeBytes, stateValueToString } from './format.js';
import type { RecorderOptions, TraceEmit, WireRecorder } from './wire.js';

/**
 * An XState `inspect` callback recording state changes as `state` events:
 * each `@xstate.snapshot` whose value differs from the previous one seen for
 * that actor. Only the root actor by default (`all: true` adds invoked
 * machines). Inspection events are not causally ordered: the `t` is when the
 * callback ran.
 */
export function inspectRecorder(
  emit: TraceEmit,
  options: RecorderOptions & { readonly all?: boolean },
): (event: InspectionEvent) => void {
  const clock = options.clock ?? createClock();
  const last = new Map<string, { value: string; status: string; ref: unknown }>();
  return (event: InspectionEvent): void => {
    try {
      if (event.type !== '@xstate.snapshot') return;
      const ref = event.actorRef;
      if (!options.all && ref.sessionId !== event.rootId) return;
      const snapshot = event.snapshot as { value?: unknown; status?: string };
      if (!('value' in snapshot)) return; // not a state machine (promise, callback, observable actors)
      const status = snapshot.status ?? 'active';
      const prev = last.get(ref.sessionId);
      // XState keeps the value object while the state stays: most events (output) change nothing.
      if (prev !== undefined && prev.ref === snapshot.value && prev.status === status) return;
      const to = stateValueToString(snapshot.value);
      if (prev !== undefined && prev.value === to && prev.status === status) {
        prev.ref = snapshot.value;
        return;
      }
      last.set(ref.sessionId, { value: to, status, ref: snapshot.value });
      const r = ref as { logic?: { id?: unknown }; id?: unknown };
      const machine = typeof r.logic?.id === 'string' ? r.logic.id : typeof r.id === 'string' ? r.id : 'machine';
      const cause = (event.event as { type?: unknown } | undefined)?.type;
      emit({
        t: clock(),
        session: options.session,
        actor: options.actor,
        kind: 'state',
        machine,
        from: prev?.value ?? null,
        to,
        ...(typeof cause === 'string' ? { event: cause } : {}),
        ...(status === 'active' ? {} : { status }),
      });
    } catch {
      // Never throw into XState.
    }
  };
}

/**
 * Record a guest actor's output: its stdout (`wire` events on stdout) through
 * `wire` as guest→host, its separate stderr as `stderr` frames, and its
 * `child` events (actor `child`). The guest's input must be fed to the same
 * `wire` recorder as host→guest by whoever reads the channel. With
 * `mergeStderr` (sockets, virtio: stderr shares the channel) stderr bytes
 * are decoded as guest→host too. Returns an unsubscribe function.
 */
export function recordGuestActor(
  actor: Pick<GuestActor, 'on'>,
  emit: TraceEmit,
  wire: WireRecorder,
  options: RecorderOptions & { readonly mergeStderr?: boolean },
): () => void {
  const clock = options.clock ?? createClock();
  const base = () => ({ t: clock(), session: options.session, actor: options.actor });
  const subs = [
    actor.on('wire', (e) => {
      if (e.stream === 'stdout' || options.mergeStderr) {
        wire('guest->host', e.bytes);
        return;
      }
      try {
        const { text, truncated } = escapeBytes(e.bytes);
        emit({ ...base(), kind: 'frame', direction: 'guest->host', frame: 'stderr', stream: 'stderr', summary: `stderr ${e.bytes.length}`, bytes: e.bytes.length, preview: text, ...(truncated ? { previewTruncated: true } : {}) });
      } catch {
        // ignore
      }
    }),
    actor.on('child', (e) => {
      try {
        const t = { t: clock(), session: options.session, actor: 'child' as const, kind: 'child' as const };
        if (e.what === 'spawned') emit({ ...t, what: 'spawned', pid: e.pid, argv: [...e.argv] });
        else if (e.what === 'signal') emit({ ...t, what: 'signal', signal: e.signal });
        else if (e.exit.kind === 'exited') emit({ ...t, what: 'exited', code: e.exit.code, signal: null, status: e.exit.code });
        else emit({ ...t, what: 'exited', code: null, signal: e.exit.signal, status: 128 + e.exit.number });
      } catch {
        // ignore
      }
    }),
  ];
  return () => subs.forEach((s) => s.unsubscribe());
}

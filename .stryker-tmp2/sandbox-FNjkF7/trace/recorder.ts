/**
 * A trace for library users (`createTrace`: an RxJS stream of events with a
 * shared clock and recorders per session), and the recorders and the file
 * sink it is made of, each in its own module:
 *
 * - `wireRecorder` (wire.ts) → an `onWire(direction, bytes)` that decodes
 *   both byte streams into `frame` events;
 * - `inspectRecorder`, `recordGuestActor` (inspect.ts) → state changes, and a
 *   guest actor's wire and child events;
 * - `traceSink` (sink.ts) → a size-capped, rotating JSONL file.
 */
// @ts-nocheck


import { Subject, type Observable } from 'rxjs';
import type { InspectionEvent } from 'xstate';
import { createClock, makeHeader, type TraceActor, type TraceEvent, type TraceHeader } from './format.js';
import { inspectRecorder } from './inspect.js';
import { wireRecorder, type TraceEmit, type WireRecorder } from './wire.js';

export { wireRecorder, type RecorderOptions, type TraceEmit, type WireRecorder } from './wire.js';
export { inspectRecorder, recordGuestActor } from './inspect.js';
export { traceSink, type TraceSink, type TraceSinkOptions } from './sink.js';

/** A live trace for library users: subscribe to `events$`, pass `emit`/`clock` to recorders. */
export interface Trace {
  readonly header: TraceHeader;
  /** Hot: events emitted after subscribing. Completes on `close()`. */
  readonly events$: Observable<TraceEvent>;
  readonly emit: TraceEmit;
  /** Seconds since `header.started`. */
  readonly clock: () => number;
  /** Recorders for one session sharing this trace's clock. */
  recorders(session: string, actor: TraceActor): { onWire: WireRecorder; inspect: (event: InspectionEvent) => void };
  close(): void;
}

export function createTrace(options: { readonly source?: string } = {}): Trace {
  const header = makeHeader(options.source === undefined ? {} : { source: options.source });
  const clock = createClock();
  const subject = new Subject<TraceEvent>();
  const emit: TraceEmit = (e) => {
    if (!subject.closed) subject.next(e);
  };
  const wires = new Set<WireRecorder>();
  return {
    header,
    events$: subject.asObservable(),
    emit,
    clock,
    recorders: (session, actor) => {
      const onWire = wireRecorder(emit, { session, actor, clock });
      wires.add(onWire);
      return { onWire, inspect: inspectRecorder(emit, { session, actor, clock }) };
    },
    close: () => {
      // Bursts still being coalesced are recorded before the stream completes.
      for (const w of wires) w.flush();
      wires.clear();
      subject.complete();
    },
  };
}

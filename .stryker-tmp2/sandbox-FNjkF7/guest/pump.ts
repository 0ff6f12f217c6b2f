/**
 * Feeds a guest actor from a byte stream: decodes command lines, switches
 * the decoder to payload mode when the guest accepts a `file`, and holds
 * input back while the guest is busy (writing a file, starting a child,
 * cleaning up), so commands are handled strictly in order and none is lost.
 */
// @ts-nocheck


import { CommandDecoder } from '../protocol/commandDecoder.js';
import { commandEvent, type GuestActor } from '../machines/guestStapsh.js';

export interface GuestPumpOptions {
  /** Longest command line accepted whole. */
  readonly maxLineBytes?: number;
  /** Input held back above this many bytes asks the channel to pause. */
  readonly highWaterBytes?: number;
  /** Called with true to pause the channel and false to resume it. */
  readonly onBackpressure?: (paused: boolean) => void;
}

export interface GuestPump {
  /** Bytes from the host. */
  push(chunk: Uint8Array): void;
  /** The host's side ended (EOF); pending lines are still handled first. */
  end(): void;
  /** Bytes received but not yet handed to the guest. */
  readonly bufferedBytes: number;
}

export function pumpInto(actor: GuestActor, options: GuestPumpOptions = {}): GuestPump {
  const decoder = new CommandDecoder(
    options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes },
  );
  const highWater = options.highWaterBytes ?? 1024 * 1024;
  let ended = false;
  let eofSent = false;
  let flushing = false;
  let paused = false;

  actor.on('expectPayload', (e) => decoder.expectPayload(e.size));

  const ready = () => {
    const snap = actor.getSnapshot();
    return snap.status === 'active' && !snap.hasTag('busy');
  };

  const flush = () => {
    if (flushing) return;
    flushing = true;
    try {
      while (ready()) {
        const item = decoder.next();
        if (item === null) {
          if (ended && !eofSent && !decoder.inPayload) {
            eofSent = true;
            actor.send({ type: 'EOF' });
            continue;
          }
          if (ended && !eofSent && decoder.inPayload) {
            // The payload can never complete: report EOF inside it.
            eofSent = true;
            actor.send({ type: 'EOF' });
          }
          break;
        }
        if (item.type === 'line') actor.send(commandEvent(item.bytes));
        else if (item.type === 'overlong') actor.send({ type: 'OVERLONG', length: item.length });
        else actor.send({ type: 'PAYLOAD', bytes: item.bytes, remaining: item.remaining });
      }
    } finally {
      flushing = false;
    }
    const shouldPause = decoder.bufferedBytes > highWater;
    if (shouldPause !== paused) {
      paused = shouldPause;
      options.onBackpressure?.(paused);
    }
  };

  // A snapshot is observed while the actor is still mid-step, when a send
  // would be queued behind it and `ready()` would read a stale state: so
  // resume from a microtask, once the step is over.
  const subscription = actor.subscribe({
    next: () => queueMicrotask(flush),
    error: () => undefined,
    complete: () => subscription.unsubscribe(),
  });

  return {
    push(chunk) {
      decoder.push(chunk);
      flush();
    },
    end() {
      if (ended) return;
      ended = true;
      decoder.end();
      flush();
    },
    get bufferedBytes() {
      return decoder.bufferedBytes;
    },
  };
}

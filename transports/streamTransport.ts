/**
 * The common core of the Node adapters: a Readable and a Writable (either
 * may be absent) as one Transport. Reading starts on the first subscription
 * to `incoming$`, so no chunk arrives before anyone listens.
 */

import type { Readable, Writable } from 'node:stream';
import { Observable, Subject } from 'rxjs';
import { TransportError } from './errors.js';
import type { ExitStatus, Transport, TransportCapabilities } from './transport.js';

export interface StreamTransportOptions {
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  readonly stderr$?: Observable<Uint8Array>;
  readonly exit?: Promise<ExitStatus>;
  /** Extra release work after both streams are closed (kill a process, unlink a file). */
  readonly onClose?: () => Promise<void> | void;
  /** Leave the writable open on close (process.stderr and the like). */
  readonly keepWritableOpen?: boolean;
}

export function streamTransport(readable: Readable | null, writable: Writable | null, options: StreamTransportOptions): Transport {
  const { name } = options;
  const subject = new Subject<Uint8Array>();
  let started = false;
  let closed = false;
  let writeError: TransportError | null = null;

  const start = () => {
    if (started) return;
    started = true;
    if (readable === null) {
      subject.complete();
      return;
    }
    readable.on('data', (chunk: Buffer) => subject.next(chunk));
    readable.once('end', () => subject.complete());
    readable.once('error', (error) => {
      const e = TransportError.from(error, name);
      // EIO is how a tty reports that its other side went away: that is EOF.
      if (e.code === 'EIO') subject.complete();
      else subject.error(e);
    });
    readable.once('close', () => {
      if (!subject.closed) subject.complete();
    });
  };

  const incoming$ = new Observable<Uint8Array>((subscriber) => {
    const subscription = subject.subscribe(subscriber);
    start();
    return subscription;
  });

  writable?.on('error', (error) => {
    writeError ??= TransportError.from(error, name);
  });

  const closedError = () => writeError ?? new TransportError('CLOSED', name, 'channel is closed');

  return {
    name,
    capabilities: options.capabilities,
    incoming$,
    ...(options.stderr$ ? { stderr$: options.stderr$ } : {}),
    ...(options.exit ? { exit: options.exit } : {}),
    write(bytes) {
      if (writable === null) return Promise.reject(new TransportError('CLOSED', name, 'channel is read-only'));
      if (closed || writeError || writable.writableEnded || writable.destroyed) return Promise.reject(closedError());
      return new Promise<void>((resolve, reject) => {
        let settled = false;
        const ok = writable.write(bytes, (error) => {
          if (error && !settled) {
            settled = true;
            reject(TransportError.from(error, name));
          }
        });
        if (ok) {
          settled = true;
          resolve();
        } else {
          const done = () => {
            writable.off('drain', done);
            writable.off('close', done);
            if (!settled) {
              settled = true;
              if (writeError) reject(writeError);
              else resolve();
            }
          };
          writable.once('drain', done);
          writable.once('close', done);
        }
      });
    },
    get needsDrain() {
      return writable !== null && !writable.destroyed && writable.writableNeedDrain;
    },
    drained() {
      if (writable === null || writable.destroyed || !writable.writableNeedDrain) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          writable.off('drain', done);
          writable.off('close', done);
          resolve();
        };
        writable.once('drain', done);
        writable.once('close', done);
      });
    },
    closeWrite() {
      if (writable === null || writable.writableEnded || writable.destroyed) return Promise.resolve();
      return new Promise<void>((resolve) => writable.end(() => resolve()));
    },
    async close() {
      if (closed) return;
      closed = true;
      const waits: Promise<void>[] = [];
      const release = (stream: Readable | Writable | null, keep: boolean) => {
        if (stream === null || stream.destroyed || keep) return;
        waits.push(new Promise<void>((resolve) => stream.once('close', () => resolve())));
        stream.destroy();
      };
      release(readable, false);
      if (writable !== (readable as unknown)) release(writable, options.keepWritableOpen ?? false);
      await Promise.all(waits);
      if (!subject.closed) subject.complete();
      await options.onClose?.();
    },
    pause() {
      readable?.pause();
    },
    resume() {
      if (started) readable?.resume();
    },
  };
}

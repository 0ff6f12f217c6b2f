/** Typed channel errors that name the channel. */

export type TransportErrorCode = 'ECONNRESET' | 'EPIPE' | 'ECONNREFUSED' | 'ENOENT' | 'ETIMEDOUT' | 'CLOSED' | 'EIO' | 'OTHER';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    readonly channel: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${message} (${channel})`, options);
  }

  /** Wrap a Node error, keeping its errno code where it is one we name. */
  static from(error: unknown, channel: string): TransportError {
    if (error instanceof TransportError) return error;
    const e = error as NodeJS.ErrnoException;
    const known: readonly TransportErrorCode[] = ['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ENOENT', 'ETIMEDOUT', 'EIO'];
    const code = known.includes(e?.code as TransportErrorCode) ? (e.code as TransportErrorCode) : 'OTHER';
    return new TransportError(code, channel, e?.message ?? String(error), { cause: error });
  }
}

/** Why a transport failed; errno-like where the OS said so. */
// @ts-nocheck

export type TransportErrorCode =
  | 'ECONNRESET'
  | 'EPIPE'
  | 'CLOSED'
  | 'ENOENT'
  | 'ECONNREFUSED'
  | 'ETIMEDOUT'
  | 'EADDRINUSE'
  | 'EACCES'
  | 'EIO'
  | 'EINVAL'
  | 'EOTHER';

const KNOWN: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ENOENT',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EADDRINUSE',
  'EACCES',
  'EIO',
  'EINVAL',
]);

/**
 * A failure of one channel. `code` is a small closed set (the OS errno when
 * it is one we know, `CLOSED` for use after close, `EOTHER` otherwise, with
 * the original errno in `errno`); the message starts with the transport name.
 */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  /** The original errno string (`ERR_STREAM_DESTROYED`, `EAGAIN`…) when there was one. */
  readonly errno: string | undefined;

  constructor(
    readonly code: TransportErrorCode,
    readonly transport: string,
    message: string,
    options: { readonly cause?: unknown; readonly errno?: string } = {},
  ) {
    super(`${transport}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.errno = options.errno ?? (code === 'EOTHER' || code === 'CLOSED' ? undefined : code);
  }
}

/** The `code` of a Node system error, if any. */
export function errnoOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Wrap anything thrown by Node into a `TransportError` naming `transport` (kept as is if it already is one). */
export function toTransportError(err: unknown, transport: string, context?: string): TransportError {
  if (err instanceof TransportError) return err;
  const errno = errnoOf(err);
  const detail = err instanceof Error ? err.message : String(err);
  const message = context === undefined ? detail : `${context}: ${detail}`;
  let code: TransportErrorCode;
  if (errno !== undefined && KNOWN.has(errno)) code = errno as TransportErrorCode;
  else if (errno === 'ERR_STREAM_DESTROYED' || errno === 'ERR_STREAM_WRITE_AFTER_END' || errno === 'ERR_STREAM_PREMATURE_CLOSE')
    code = 'CLOSED';
  else code = 'EOTHER';
  return new TransportError(code, transport, message, errno === undefined ? { cause: err } : { cause: err, errno });
}

/** The error for using a channel after it was closed. */
export function closedError(transport: string, what = 'channel is closed'): TransportError {
  return new TransportError('CLOSED', transport, what);
}

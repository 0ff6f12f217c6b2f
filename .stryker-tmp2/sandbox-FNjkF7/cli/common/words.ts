/**
 * Errors in words: Node's system errors read `EISDIR: illegal operation on
 * a directory, read`, which names neither the problem in plain terms nor,
 * often, the file. Programs say `cannot read FILE: is a directory` instead.
 */
// @ts-nocheck


const WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  ENOTDIR: 'a component of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists',
  ENOTEMPTY: 'directory not empty',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  ECONNREFUSED: 'connection refused (nothing is listening there)',
  ECONNRESET: 'connection reset by the peer',
  ENOTSOCK: 'not a socket',
  EPIPE: 'broken pipe (the reader went away)',
  ETIMEDOUT: 'timed out',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links (or a symbolic link where none is allowed)',
  EMFILE: 'too many open files in this process',
  ENFILE: 'too many open files in the system',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
  EBUSY: 'device or resource busy',
  EIO: 'input/output error',
  ETXTBSY: 'text file busy',
  EFBIG: 'file too large',
  EAGAIN: 'resource temporarily unavailable',
  EINVAL: 'invalid argument',
};

interface SystemError {
  readonly code: string;
  readonly syscall?: string;
  readonly path?: string;
  readonly dest?: string;
  readonly message: string;
}

function isSystemError(e: unknown): e is SystemError {
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { code?: unknown }).code === 'string' &&
    /^E[A-Z0-9]+$/.test((e as { code: string }).code) &&
    typeof (e as { syscall?: unknown }).syscall === 'string' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

/** The plain words for an errno code (`EISDIR` → `is a directory`), or undefined for one we do not know. */
export function errnoWords(code: string): string | undefined {
  return WORDS[code];
}

/**
 * One error as words: a Node system error becomes `PATH: words` (or just
 * the words when it names no path); an error wrapping one (a transport's)
 * keeps its own context with the system error's text replaced by words;
 * anything else is its message.
 */
export function describeError(error: unknown): string {
  if (isSystemError(error)) {
    const words = WORDS[error.code] ?? stripErrno(error.message, error.code);
    if (error.path !== undefined && error.dest !== undefined) return `${error.path} → ${error.dest}: ${words}`;
    return error.path !== undefined ? `${error.path}: ${words}` : words;
  }
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    if (isSystemError(cause) && error.message.includes(cause.message)) {
      // The wrapper's context already names the file or remote: only the errno text needs words.
      const words = WORDS[cause.code] ?? stripErrno(cause.message, cause.code);
      return error.message.replace(cause.message, words);
    }
    return error.message;
  }
  return String(error);
}

/** `cannot VERB TARGET: words`, e.g. `cannot read module m.ko: is a directory`, without repeating TARGET. */
export function cannot(verb: string, target: string, error: unknown): string {
  const path = isSystemError(error) ? error.path : undefined;
  const words = isSystemError(error) ? (WORDS[error.code] ?? stripErrno(error.message, error.code)) : describeError(error);
  return path === undefined || target.includes(path) ? `cannot ${verb} ${target}: ${words}` : `cannot ${verb} ${target} (${path}): ${words}`;
}

/** `EISDIR: illegal operation on a directory, read` → `illegal operation on a directory`. */
function stripErrno(message: string, code: string): string {
  const m = new RegExp(`^${code}: (.*?)(?:, [a-z_]+(?: '.*')?)?$`).exec(message);
  return m?.[1] ?? message;
}

/**
 * stapflow's negotiated extensions to SystemTap's protocol. Both are asked
 * for by the host and answered only by a guest that knows them, so neither
 * side of a SystemTap release ever sees a word it does not know:
 *
 * - `option status` (needs `option`, i.e. a guest release ≥ 2.4): the guest
 *   answers `OK` and, in data mode, ends the session with `status CODE` or
 *   `status signal NUM` just before `quit`. SystemTap's guests answer
 *   `ERROR: Invalid option`, and the host goes on without it.
 * - The hello nonce: the host says `stap VERSION nonce=TOKEN`; SystemTap's
 *   guests split the line into words and read only the first two, and ours
 *   answers `stapsh VERSION MACHINE RELEASE nonce=TOKEN`. A hello carrying
 *   another token is a dead session's, and is skipped.
 *
 * Pure: parsing and formatting only.
 */
// @ts-nocheck


/** The option word a host sends to ask for the child's status. */
export const STATUS_OPTION = 'status';

/** What a nonce may look like: short, and free of anything a line or a word could not carry. */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** The `nonce=TOKEN` word, for a valid token. */
export function nonceWord(token: string): string {
  if (!TOKEN.test(token)) throw new RangeError(`a nonce is 1-64 of [A-Za-z0-9_-]: ${JSON.stringify(token)}`);
  return `nonce=${token}`;
}

/** The token of a `nonce=TOKEN` word, or null for any other word. */
export function parseNonceWord(word: string | undefined): string | null {
  if (word === undefined || !word.startsWith('nonce=')) return null;
  const token = word.slice('nonce='.length);
  return TOKEN.test(token) ? token : null;
}

/** How the child ended, as the `status` line carries it (a code, or a signal's number). */
export type ChildStatus = { readonly kind: 'exited'; readonly code: number } | { readonly kind: 'signalled'; readonly number: number };

/** The `status …` line's text (without `\n`). */
export function statusText(status: ChildStatus): string {
  if (status.kind === 'exited') {
    if (!Number.isInteger(status.code) || status.code < 0 || status.code > 255) throw new RangeError(`exit code out of 0..255: ${status.code}`);
    return `status ${status.code}`;
  }
  if (!Number.isInteger(status.number) || status.number < 1 || status.number > 127) throw new RangeError(`signal number out of 1..127: ${status.number}`);
  return `status signal ${status.number}`;
}

const STATUS_LINE = /^status (?:(\d{1,3})|signal (\d{1,3}))$/;

/** The status a `status …` line reports, or null when the line is not one (or out of range). */
export function parseStatusLine(text: string): ChildStatus | null {
  const m = STATUS_LINE.exec(text);
  if (m === null) return null;
  if (m[1] !== undefined) {
    const code = Number(m[1]);
    return code <= 255 ? { kind: 'exited', code } : null;
  }
  const number = Number(m[2]);
  return number >= 1 && number <= 127 ? { kind: 'signalled', number } : null;
}

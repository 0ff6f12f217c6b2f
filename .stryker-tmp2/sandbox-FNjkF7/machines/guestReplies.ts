/**
 * The guest's verdicts on command lines, as SystemTap's stapsh words them.
 * Pure: given the line and what the guest knows, say what to answer.
 */
// @ts-nocheck


import { latin1 } from '../protocol/bytes.js';
import { STATUS_OPTION } from '../protocol/extensions.js';
import { qpDecode } from '../protocol/quotedPrintable.js';
import type { Features } from '../protocol/releases.js';
import type { ChildProgram } from './childTypes.js';
import type { ChildSignal } from './staprunChild.js';

/** Limits a guest enforces on what a host may send. */
export interface GuestLimits {
  /** Largest `file` payload (SystemTap: 32000000). */
  readonly maxFileSize: number;
  /** Most `run` arguments (SystemTap: 255). */
  readonly maxRunArgs: number;
  /** Longest file name; longer ones are refused as unopenable. */
  readonly maxNameLength: number;
  /** Cumulative upload cap per session. */
  readonly maxUploadTotal: number;
  /** How long a hung-up child may run on before SIGKILL. */
  readonly graceMs: number;
}

export const DEFAULT_GUEST_LIMITS: GuestLimits = {
  maxFileSize: 32_000_000,
  maxRunArgs: 255,
  maxNameLength: 255,
  maxUploadTotal: 256_000_000,
  graceMs: 10_000,
};

const isAlnum = (b: number) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);

/** The verdict on a `file` header. */
export type FileVerdict =
  /** Size unusable: nothing more can be read safely, no payload is consumed. */
  | { readonly kind: 'badSize'; readonly reply: string }
  /** Size fine, name refused: the payload is still read and thrown away. */
  | { readonly kind: 'refused'; readonly size: number; readonly reply: string }
  | { readonly kind: 'accepted'; readonly size: number; readonly name: string };

export function judgeFile(
  size: number,
  rawName: Uint8Array | null,
  uploaded: number,
  limits: GuestLimits,
): FileVerdict {
  if (size <= 0 || size > limits.maxFileSize) return { kind: 'badSize', reply: `ERROR: Bad file size ${size}` };
  if (rawName === null) return { kind: 'refused', size, reply: 'ERROR: Missing file name' };
  for (let i = 0; i < rawName.length; i++) {
    const b = rawName[i]!;
    const ok = isAlnum(b) || (i > 0 && (b === 0x2e || b === 0x5f));
    if (!ok) return { kind: 'refused', size, reply: `ERROR: Bad character '${String.fromCharCode(b)}' in file name` };
  }
  const name = latin1(rawName);
  if (rawName.length > limits.maxNameLength) {
    return { kind: 'refused', size, reply: `ERROR: Can't open file "${name}" for writing` };
  }
  if (uploaded + size > limits.maxUploadTotal) {
    return {
      kind: 'refused',
      size,
      reply: `ERROR: Upload limit exceeded (${limits.maxUploadTotal} bytes per session)`,
    };
  }
  return { kind: 'accepted', size, name };
}

/** The program a module file implies, for a guest of these features. */
export function programForFile(name: string, features: Features): ChildProgram | null {
  if (features.dyninst && name.endsWith('.so')) return 'stapdyn';
  if (features.bpf && name.endsWith('.bo')) return 'stapbpf';
  return null;
}

/** The verdict on an `option` line. */
export type OptionVerdict =
  | { readonly kind: 'error'; readonly reply: string }
  | { readonly kind: 'verbose' }
  | { readonly kind: 'data' }
  | { readonly kind: 'program'; readonly program: ChildProgram };

export function judgeOption(name: string | null, features: Features): OptionVerdict {
  if (name === null) return { kind: 'error', reply: 'ERROR: Could not parse option' };
  if (name === 'verbose') return { kind: 'verbose' };
  if (name === 'data') return { kind: 'data' };
  if (name === 'dyninst' && features.dyninst) return { kind: 'program', program: 'stapdyn' };
  if (name === 'bpf' && features.bpf) return { kind: 'program', program: 'stapbpf' };
  return { kind: 'error', reply: 'ERROR: Invalid option' };
}

/** The verdict on an `option` line as a guest of these features hears it, stapflow's `option status` included. */
export type OptionLineVerdict =
  | OptionVerdict
  /** Before 2.4 `option` is an unknown word: no reply at all. */
  | { readonly kind: 'silent' }
  /** stapflow's `option status` (extensions on): report the child's end before `quit`. */
  | { readonly kind: 'status' };

export function judgeOptionLine(name: string | null, features: Features, extensions: boolean): OptionLineVerdict {
  if (!features.options) return { kind: 'silent' };
  if (name === STATUS_OPTION && extensions) return { kind: 'status' };
  return judgeOption(name, features);
}

/** Largest draft `arg` payload kept (a larger one is read and dropped). */
export const DRAFT_MAX_ARG_BYTES = 64 * 1024;

/**
 * The verdict on the pre-1.5 draft's `arg SIZE`, silently bounded: an
 * unusable size cannot be skipped (it is the length of what follows), one
 * over the count or size bound is read and dropped. Other releases do not
 * know the word.
 */
export type ArgVerdict =
  | { readonly kind: 'ignored' }
  /** `arg 0`: an empty argument, kept. */
  | { readonly kind: 'empty' }
  | { readonly kind: 'payload'; readonly size: number; readonly keep: boolean };

export function judgeDraftArg(size: number, features: Features, held: number, limits: GuestLimits): ArgVerdict {
  if (!features.draft || size < 0) return { kind: 'ignored' };
  const keep = size <= DRAFT_MAX_ARG_BYTES && held < limits.maxRunArgs;
  if (size === 0) return keep ? { kind: 'empty' } : { kind: 'ignored' };
  return { kind: 'payload', size, keep };
}

/** The draft's `signal NUM`: the numbers it may name; others are ignored (as is any reply). */
const DRAFT_SIGNALS: Readonly<Record<number, ChildSignal>> = { 1: 'SIGHUP', 2: 'SIGINT', 9: 'SIGKILL', 15: 'SIGTERM' };

export function draftSignal(number: number): ChildSignal | null {
  return DRAFT_SIGNALS[number] ?? null;
}

/** The verdict on a `run` line. */
export type RunVerdict =
  | { readonly kind: 'error'; readonly reply: string }
  | { readonly kind: 'run'; readonly args: readonly string[] };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decode `run` arguments. A C argv ends each argument at its first NUL, so
 * `=00` truncates as it does for SystemTap. Node can only pass argv as
 * strings (it encodes them as UTF-8), so an argument that is not valid UTF-8
 * is refused rather than silently changed.
 */
export function judgeRun(words: readonly Uint8Array[], limits: GuestLimits): RunVerdict {
  if (words.length > limits.maxRunArgs) return { kind: 'error', reply: 'ERROR: Too many arguments' };
  const decoded: Uint8Array[] = [];
  for (const w of words) {
    const d = qpDecode(w);
    if (!d.ok) return { kind: 'error', reply: `ERROR: Invalid encoding in argument "${latin1(w)}"` };
    decoded.push(d.bytes);
  }
  return argvOf(decoded, words);
}

/**
 * The pre-1.5 draft's `run`: the arguments sent raw with `arg SIZE` (their
 * count is bounded as they arrive). Its verdicts are never sent: the draft
 * has no replies.
 */
export function judgeDraftRun(args: readonly Uint8Array[]): RunVerdict {
  return argvOf(args, args);
}

/** The verdict on `run` for a guest of these features: the line's own arguments, or the draft's `arg`s. */
export function judgeRunLine(
  words: readonly Uint8Array[],
  features: Features,
  draftArgs: readonly Uint8Array[],
  limits: GuestLimits,
): RunVerdict {
  return features.draft ? judgeDraftRun(draftArgs) : judgeRun(words, limits);
}

function argvOf(decoded: readonly Uint8Array[], raw: readonly Uint8Array[]): RunVerdict {
  const args: string[] = [];
  for (let i = 0; i < decoded.length; i++) {
    const d = decoded[i]!;
    const nul = d.indexOf(0);
    const bytes = nul >= 0 ? d.subarray(0, nul) : d;
    try {
      args.push(strictUtf8.decode(bytes));
    } catch {
      return { kind: 'error', reply: `ERROR: Argument is not valid UTF-8 "${latin1(raw[i]!)}"` };
    }
  }
  return { kind: 'run', args };
}

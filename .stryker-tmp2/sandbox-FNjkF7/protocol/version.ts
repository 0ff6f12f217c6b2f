/**
 * Version ordering as SystemTap's host uses it: glibc `strverscmp(3)`.
 *
 * Digit runs compare as numbers ("2.10" > "2.9"), except that a run with
 * leading zeros is a fractional part and sorts before any integer run, with
 * more leading zeros sorting first ("1.010" < "1.09", and
 * "000" < "00" < "01" < "010" < "09" < "0" < "1" < "9" < "10").
 * Everything else compares byte by byte, so "4.8-rc1" > "4.8" ('-' > end).
 *
 * Restated from the documented behaviour as a small state machine and
 * checked against glibc 2.36 on a large random sample; strings are compared
 * by UTF-16 code unit, which is byte order for the ASCII (and latin1)
 * strings the protocol carries. As in C, a NUL char ends a string.
 */
// @ts-nocheck


/** What the scanner knows about the equal prefix seen so far. */
const enum Scan {
  /** Outside a digit run (or at the start). */
  Text,
  /** Inside a digit run that began with 1..9: an integer. */
  Integer,
  /** Inside a digit run that began with 0 and has had a non-zero digit: a fraction. */
  Fraction,
  /** Inside a digit run made only of zeros so far. */
  Zeros,
}

/** Character classes the rules distinguish. */
const enum Kind {
  Other,
  NonZeroDigit,
  Zero,
}

function kindOf(c: number): Kind {
  if (c === 0x30) return Kind.Zero;
  return c > 0x30 && c <= 0x39 ? Kind.NonZeroDigit : Kind.Other;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** The scan state after an equal character of kind `k` in state `s`. */
function advance(s: Scan, k: Kind): Scan {
  if (k === Kind.Other) return Scan.Text;
  switch (s) {
    case Scan.Text:
      return k === Kind.Zero ? Scan.Zeros : Scan.Integer;
    case Scan.Integer:
      return Scan.Integer;
    case Scan.Fraction:
      return Scan.Fraction;
    case Scan.Zeros:
      return k === Kind.Zero ? Scan.Zeros : Scan.Fraction;
  }
}

/** Char code at `i`, or 0 past the end (C's terminating NUL). */
function at(s: string, i: number): number {
  return i < s.length ? s.charCodeAt(i) : 0;
}

/**
 * Compare two version strings with glibc `strverscmp` semantics.
 * Returns a negative number, zero or a positive number as `a` sorts
 * before, equal to or after `b` (the magnitude carries no meaning).
 */
export function strverscmp(a: string, b: string): number {
  let i = 0;
  let s = Scan.Text;
  // Walk the common prefix, tracking whether we are inside a digit run.
  for (;;) {
    const ca = at(a, i);
    const cb = at(b, i);
    if (ca !== cb) return decide(s, a, b, i, ca, cb);
    if (ca === 0) return 0;
    s = advance(s, kindOf(ca));
    i++;
  }
}

/** The first difference is at `i` (`ca` ≠ `cb`), after a prefix that left the scan in `s`. */
function decide(s: Scan, a: string, b: string, i: number, ca: number, cb: number): number {
  const ka = kindOf(ca);
  const kb = kindOf(cb);
  const bytewise = ca - cb;
  switch (s) {
    case Scan.Text:
      // Two runs start here; only two integers need their lengths compared.
      // A leading zero against 1..9 is fraction against integer: '0' < '1' says it.
      return ka === Kind.NonZeroDigit && kb === Kind.NonZeroDigit ? byLength(a, b, i, bytewise) : bytewise;
    case Scan.Integer:
      // Inside one integer: the longer run is the larger number.
      if (ka === Kind.Other && kb === Kind.Other) return bytewise;
      if (ka === Kind.Other) return -1;
      if (kb === Kind.Other) return 1;
      return byLength(a, b, i, bytewise);
    case Scan.Fraction:
      // Fractions compare digit by digit, like strings.
      return bytewise;
    case Scan.Zeros:
      // Only zeros so far: the run with more leading zeros is the smaller fraction,
      // and a run of zeros that ends ("0") sorts after one that continues ("01").
      if (ka === Kind.Other && kb === Kind.Other) return bytewise;
      if (ka === Kind.Other) return 1;
      if (kb === Kind.Other) return -1;
      return bytewise;
  }
}

/** Integers differing at `i`: the longer digit run wins; equal lengths fall back to the first difference. */
function byLength(a: string, b: string, i: number, bytewise: number): number {
  let j = i + 1;
  for (; isDigit(at(a, j)); j++) {
    if (!isDigit(at(b, j))) return 1;
  }
  return isDigit(at(b, j)) ? -1 : bytewise;
}

/**
 * `strverscmp` reduced to -1, 0 or 1, for `Array.prototype.sort` and for
 * "is this release at least that one" checks.
 */
export function compareRelease(a: string, b: string): -1 | 0 | 1 {
  const d = strverscmp(a, b);
  return d < 0 ? -1 : d > 0 ? 1 : 0;
}

/** True when `release` is `minimum` or newer in `strverscmp` order. */
export function isAtLeast(release: string, minimum: string): boolean {
  return strverscmp(release, minimum) >= 0;
}

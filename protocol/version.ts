/**
 * glibc `strverscmp(3)`: compare version strings so that "2.10" > "2.9".
 * Digit runs compare as numbers, except runs with leading zeros, which are
 * fractional parts: "1.010" < "1.09", and "000" < "00" < "01" < "010" < "09" < "0" < "1".
 */

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** Negative, zero or positive as `a` sorts before, with or after `b`. */
export function strverscmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  for (;;) {
    // Compare the non-digit prefix byte by byte.
    while (i < a.length && j < b.length && !(isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j)))) {
      const d = a.charCodeAt(i) - b.charCodeAt(j);
      if (d !== 0) return d;
      i++;
      j++;
    }
    if (i >= a.length || j >= b.length) return a.length - i - (b.length - j);
    // Both at a digit run.
    let ei = i;
    while (ei < a.length && isDigit(a.charCodeAt(ei))) ei++;
    let ej = j;
    while (ej < b.length && isDigit(b.charCodeAt(ej))) ej++;
    const ra = a.slice(i, ei);
    const rb = b.slice(j, ej);
    const fa = ra.length > 1 && ra[0] === '0' ? true : ra === '0' ? null : false;
    const fb = rb.length > 1 && rb[0] === '0' ? true : rb === '0' ? null : false;
    const d = compareRuns(ra, rb, fa, fb, a.charCodeAt(ei) || 0, b.charCodeAt(ej) || 0);
    if (d !== 0) return d;
    i = ei;
    j = ej;
  }
}

/**
 * Two digit runs. A run with a leading zero is a fraction; fractions sort
 * before integers; among fractions more leading zeros sort first, then the
 * digits compare as strings (glibc's state machine, restated).
 */
function compareRuns(
  a: string,
  b: string,
  fracA: boolean | null,
  fracB: boolean | null,
  afterA: number,
  afterB: number,
): number {
  const zeroLike = (run: string, frac: boolean | null) => frac === true || (frac === null && run === '0');
  const za = zeroLike(a, fracA);
  const zb = zeroLike(b, fracB);
  if (za && zb) {
    // Both start with '0': compare digit by digit; the shorter wins on a common prefix,
    // except a bare "0" which sorts after every longer fraction.
    if (a === '0' && b !== '0') return 1;
    if (b === '0' && a !== '0') return -1;
    const la = leadingZeros(a);
    const lb = leadingZeros(b);
    if (la !== lb) return lb - la;
    for (let k = 0; k < Math.min(a.length, b.length); k++) {
      const d = a.charCodeAt(k) - b.charCodeAt(k);
      if (d !== 0) return d;
    }
    // Fractions compare like strings: on a common prefix the next bytes decide.
    if (a.length === b.length) return 0;
    return a.length < b.length ? afterA - b.charCodeAt(a.length) : a.charCodeAt(b.length) - afterB;
  }
  if (za) return -1;
  if (zb) return 1;
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function leadingZeros(run: string): number {
  let n = 0;
  while (n < run.length && run[n] === '0') n++;
  return n;
}

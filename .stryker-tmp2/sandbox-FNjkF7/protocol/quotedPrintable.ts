/**
 * Quoted-printable as SystemTap uses it for `run` arguments, so that an
 * argument with spaces, newlines or any other byte survives a
 * whitespace-split command line.
 *
 * The host keeps the printable bytes 33..126 except `=` and writes every
 * other byte as `=XX` (uppercase hex); it never writes soft line breaks.
 * The guest reads `=XX` with hex digits in either case and drops soft line
 * breaks (`=\n`, `=\r\n`); anything else after `=` (end of word, a non-hex
 * byte, a single hex digit) makes the whole argument invalid, which the guest
 * reports as `ERROR: Invalid encoding in argument "ARG"`.
 */
// @ts-nocheck
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
const EQUALS = 0x3d;
const LF = 0x0a;
const CR = 0x0d;
const UPPER_HEX = '0123456789ABCDEF';

/** `=XX` for every byte value, built once: the encoder then does one lookup per byte. */
const ESCAPES: readonly string[] = Array.from({
  length: 256
}, (_, b) => `=${UPPER_HEX[b >> 4]!}${UPPER_HEX[b & 15]!}`);

/** True for the bytes the host writes as themselves. */
function isPlain(b: number): boolean {
  return b >= 33 && b <= 126 && b !== EQUALS;
}

/**
 * Encode one `run` argument as the host does. The result is plain ASCII
 * (33..126), never empty for a non-empty argument and never containing a
 * space, so it is one word of the command line.
 */
export function qpEncode(arg: Uint8Array): string {
  let out = '';
  for (let i = 0; i < arg.length; i++) {
    const b = arg[i]!;
    out += isPlain(b) ? String.fromCharCode(b) : ESCAPES[b]!;
  }
  return out;
}

/** The value of a hex digit in either case, or -1 (also past the end of the word). */
function hexValue(c: number | undefined): number {
  if (stryMutAct_9fa48("2") ? c !== undefined : stryMutAct_9fa48("1") ? false : stryMutAct_9fa48("0") ? true : (stryCov_9fa48("0", "1", "2"), c === undefined)) return stryMutAct_9fa48("3") ? +1 : (stryCov_9fa48("3"), -1);
  if (stryMutAct_9fa48("6") ? c >= 0x30 || c <= 0x39 : stryMutAct_9fa48("5") ? false : stryMutAct_9fa48("4") ? true : (stryCov_9fa48("4", "5", "6"), (stryMutAct_9fa48("9") ? c < 0x30 : stryMutAct_9fa48("8") ? c > 0x30 : stryMutAct_9fa48("7") ? true : (stryCov_9fa48("7", "8", "9"), c >= 0x30)) && (stryMutAct_9fa48("12") ? c > 0x39 : stryMutAct_9fa48("11") ? c < 0x39 : stryMutAct_9fa48("10") ? true : (stryCov_9fa48("10", "11", "12"), c <= 0x39)))) return stryMutAct_9fa48("13") ? c + 0x30 : (stryCov_9fa48("13"), c - 0x30);
  const lower = c | 0x20;
  if (stryMutAct_9fa48("16") ? lower >= 0x61 || lower <= 0x66 : stryMutAct_9fa48("15") ? false : stryMutAct_9fa48("14") ? true : (stryCov_9fa48("14", "15", "16"), (stryMutAct_9fa48("19") ? lower < 0x61 : stryMutAct_9fa48("18") ? lower > 0x61 : stryMutAct_9fa48("17") ? true : (stryCov_9fa48("17", "18", "19"), lower >= 0x61)) && (stryMutAct_9fa48("22") ? lower > 0x66 : stryMutAct_9fa48("21") ? lower < 0x66 : stryMutAct_9fa48("20") ? true : (stryCov_9fa48("20", "21", "22"), lower <= 0x66)))) return stryMutAct_9fa48("23") ? lower - 0x61 - 10 : (stryCov_9fa48("23"), (stryMutAct_9fa48("24") ? lower + 0x61 : (stryCov_9fa48("24"), lower - 0x61)) + 10);
  return stryMutAct_9fa48("25") ? +1 : (stryCov_9fa48("25"), -1);
}

/** The result of decoding one argument: its bytes, or a verdict that the encoding is invalid. */
export type QpDecoded = {
  readonly ok: true;
  readonly bytes: Uint8Array;
} | {
  readonly ok: false;
};
const INVALID: QpDecoded = Object.freeze({
  ok: false
});

/** Decode one `run` word as the guest does. Never throws; bad input is `{ ok: false }`. */
export function qpDecode(word: Uint8Array): QpDecoded {
  // Most arguments have no escapes at all: hand back a copy without the byte loop.
  if (word.indexOf(EQUALS) < 0) return {
    ok: true,
    bytes: word.slice()
  };
  const out = new Uint8Array(word.length);
  let n = 0;
  for (let i = 0; i < word.length; i++) {
    const c = word[i]!;
    if (c !== EQUALS) {
      out[n++] = c;
      continue;
    }
    // Soft line breaks: unreachable through a real command line (words end
    // at `\r` and `\n`) but part of the decoder's contract.
    if (word[i + 1] === LF) {
      i += 1;
      continue;
    }
    if (word[i + 1] === CR && word[i + 2] === LF) {
      i += 2;
      continue;
    }
    const hi = hexValue(word[i + 1]);
    const lo = hexValue(word[i + 2]);
    if (hi < 0 || lo < 0) return INVALID;
    out[n++] = hi << 4 | lo;
    i += 2;
  }
  return {
    ok: true,
    bytes: out.slice(0, n)
  };
}
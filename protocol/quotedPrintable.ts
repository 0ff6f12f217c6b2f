/**
 * Quoted-printable as SystemTap uses it for `run` arguments: the host keeps
 * printable bytes 33..126 except `=`, and writes every other byte as `=XX`
 * (uppercase hex); the guest reads `=XX` in either case and drops soft line
 * breaks (`=\n`, `=\r\n`). Anything else after `=` is an encoding error.
 */

const HEX = '0123456789ABCDEF';

/** Encode one argument for a `run` line. */
export function qpEncode(arg: Uint8Array): string {
  let out = '';
  for (const b of arg) {
    if (b >= 33 && b <= 126 && b !== 0x3d) out += String.fromCharCode(b);
    else out += `=${HEX[b >> 4]}${HEX[b & 15]}`;
  }
  return out;
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

export type QpDecoded = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false };

/** Decode one `run` word. */
export function qpDecode(word: Uint8Array): QpDecoded {
  const out = new Uint8Array(word.length);
  let n = 0;
  for (let i = 0; i < word.length; i++) {
    const c = word[i]!;
    if (c !== 0x3d) {
      out[n++] = c;
      continue;
    }
    if (word[i + 1] === 0x0a) {
      i += 1;
      continue;
    }
    if (word[i + 1] === 0x0d && word[i + 2] === 0x0a) {
      i += 2;
      continue;
    }
    const hi = hexValue(word[i + 1]);
    const lo = hexValue(word[i + 2]);
    if (hi < 0 || lo < 0) return { ok: false };
    out[n++] = (hi << 4) | lo;
    i += 2;
  }
  return { ok: true, bytes: out.slice(0, n) };
}

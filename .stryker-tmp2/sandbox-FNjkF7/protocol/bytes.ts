/** Byte helpers shared by the pure protocol code (no Node APIs here). */
// @ts-nocheck


const encoder = new TextEncoder();

/** UTF-8 encode (protocol words are ASCII; payloads are bytes). */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Bytes to a string one char per byte. WHATWG's 'latin1' decoder is really
 * windows-1252 (0x80..0x9f change), so decode by hand to keep every byte.
 */
export function latin1(bytes: Uint8Array): string {
  let out = '';
  const step = 8192;
  for (let i = 0; i < bytes.length; i += step) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + step) as unknown as number[]);
  }
  return out;
}

/** The inverse of `latin1`: chars above 0xff are not expected and are truncated. */
export function fromLatin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Concatenate chunks into one array. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let total = 0;
  for (const c of chunks) total += c.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

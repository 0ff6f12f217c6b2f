/** Splitting byte streams for chunking-invariance tests. */
// @ts-nocheck


/** Split `bytes` at the given offsets (taken modulo length+1, deduplicated, sorted); empty parts kept. */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    parts.push(bytes.subarray(at, p));
    at = p;
  }
  parts.push(bytes.subarray(at));
  return parts;
}

/**
 * The byte buffer under both decoders (host → guest commands, guest → host
 * replies): chunks held by reference, lines found without copying, payload
 * handed out as views. Both directions bound a line by the same constant.
 */
// @ts-nocheck


/**
 * Longest line either decoder holds whole, without its `\n`: far above any
 * real command or reply (SystemTap's guest reads 4095-byte lines; its own
 * replies stay under 4 KiB).
 */
export const MAX_LINE_BYTES = 64 * 1024;

const NL = 0x0a;
const EMPTY = new Uint8Array(0);

export class LineBuffer {
  /**
   * Unconsumed input, oldest first, from `chunks[first]` at offset `head`.
   * Chunks are dropped by advancing `first` (compacted now and then), not by
   * `shift()`, so a line trickling in one byte per chunk costs linear time.
   */
  private chunks: Uint8Array[] = [];
  private first = 0;
  private head = 0;
  private buffered = 0;
  /**
   * Where the search for `\n` resumes in an incomplete line: chunk index,
   * offset in it, and that point's distance from the start of the buffered
   * bytes. Valid until something is dropped.
   */
  private scanIndex = 0;
  private scanAt = 0;
  private scanPos = 0;
  private scanValid = false;

  /** Bytes held. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Add a chunk (kept by reference, not copied). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * Offset of the first `\n` in the buffered bytes, or -1. Resumes where
   * the last unsuccessful search stopped, so each byte is searched once.
   */
  findNewline(): number {
    let i = this.first;
    let at = this.head;
    let pos = 0;
    if (this.scanValid) {
      i = this.scanIndex;
      at = this.scanAt;
      pos = this.scanPos;
    }
    for (; i < this.chunks.length; i++, at = 0) {
      const c = this.chunks[i]!;
      const k = c.indexOf(NL, at);
      if (k >= 0) return pos + (k - at);
      pos += c.length - at;
    }
    this.scanIndex = i;
    this.scanAt = 0;
    this.scanPos = pos;
    this.scanValid = true;
    return -1;
  }

  /**
   * Remove the first `n + skip` buffered bytes and return the first `n`: a
   * view of the pushed chunk when they lie in one, else a copy.
   */
  take(n: number, skip: number): Uint8Array {
    const first = this.chunks[this.first];
    let out: Uint8Array;
    if (first === undefined || n === 0) {
      out = EMPTY;
    } else if (first.length - this.head >= n) {
      out = first.subarray(this.head, this.head + n);
    } else {
      out = new Uint8Array(n);
      let at = 0;
      for (let i = this.first; at < n; i++) {
        const c = this.chunks[i]!;
        const start = i === this.first ? this.head : 0;
        const k = Math.min(n - at, c.length - start);
        out.set(c.subarray(start, start + k), at);
        at += k;
      }
    }
    this.drop(n + skip);
    return out;
  }

  /** Remove and return up to `max` bytes from the oldest chunk (a view, no copy); empty when nothing is held. */
  takeChunk(max: number): Uint8Array {
    const first = this.chunks[this.first];
    if (first === undefined) return EMPTY;
    const n = Math.min(first.length - this.head, max);
    const bytes = this.head === 0 && n === first.length ? first : first.subarray(this.head, this.head + n);
    this.drop(n);
    return bytes;
  }

  /** Discard the first `n` buffered bytes. */
  drop(n: number): void {
    this.buffered -= n;
    this.scanValid = false;
    while (n > 0) {
      const c = this.chunks[this.first]!;
      const left = c.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.first++;
      this.head = 0;
    }
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first >= 64 && this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }

  /** Copy what is held, so the caller may reuse the chunks it pushed. */
  own(): void {
    if (this.first >= this.chunks.length) return;
    const held: Uint8Array[] = [];
    for (let i = this.first; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      held.push(i === this.first ? c.slice(this.head) : c.slice());
    }
    this.chunks = held;
    this.first = 0;
    this.head = 0;
    this.scanValid = false;
  }
}

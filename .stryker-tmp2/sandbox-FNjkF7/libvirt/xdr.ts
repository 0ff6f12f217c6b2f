/**
 * The few XDR (RFC 4506) types libvirt's RPC messages use, hand-written: u32,
 * i32, hyper, bool, strings (length, bytes, zero padding to 4), fixed and
 * variable opaque, optional data (a bool, then the value) and arrays (a
 * count, then the items). Pure: no node:* imports. Every length read is
 * checked against the bytes present and a caller's maximum, so a bad
 * message is an error, never a huge allocation.
 */
// @ts-nocheck


const pad = (n: number): number => (4 - (n % 4)) % 4;

export class XdrError extends Error {
  override readonly name = 'XdrError';
}

export class XdrWriter {
  #parts: Uint8Array[] = [];
  #size = 0;

  #push(b: Uint8Array): this {
    this.#parts.push(b);
    this.#size += b.length;
    return this;
  }

  u32(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new XdrError(`u32 out of range: ${n}`);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, n);
    return this.#push(b);
  }

  i32(n: number): this {
    if (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new XdrError(`i32 out of range: ${n}`);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, n);
    return this.#push(b);
  }

  u64(n: bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, n);
    return this.#push(b);
  }

  bool(v: boolean): this {
    return this.u32(v ? 1 : 0);
  }

  opaqueFixed(bytes: Uint8Array, length: number): this {
    if (bytes.length !== length) throw new XdrError(`fixed opaque of ${length} bytes given ${bytes.length}`);
    this.#push(bytes);
    return this.#push(new Uint8Array(pad(length)));
  }

  opaque(bytes: Uint8Array): this {
    this.u32(bytes.length);
    return this.opaqueFixed(bytes, bytes.length);
  }

  string(s: string): this {
    return this.opaque(new TextEncoder().encode(s));
  }

  /** An optional value: a bool saying whether it follows. */
  optional<T>(v: T | null, write: (w: this, v: T) => void): this {
    this.bool(v !== null);
    if (v !== null) write(this, v);
    return this;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.#size);
    let at = 0;
    for (const p of this.#parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export class XdrReader {
  #view: DataView;
  #at = 0;

  constructor(private readonly buf: Uint8Array) {
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.#at;
  }

  #need(n: number, what: string): void {
    if (this.remaining < n) throw new XdrError(`${what}: needs ${n} bytes, ${this.remaining} left`);
  }

  u32(): number {
    this.#need(4, 'u32');
    const v = this.#view.getUint32(this.#at);
    this.#at += 4;
    return v;
  }

  i32(): number {
    this.#need(4, 'i32');
    const v = this.#view.getInt32(this.#at);
    this.#at += 4;
    return v;
  }

  u64(): bigint {
    this.#need(8, 'hyper');
    const v = this.#view.getBigUint64(this.#at);
    this.#at += 8;
    return v;
  }

  bool(): boolean {
    const v = this.u32();
    if (v > 1) throw new XdrError(`bool: ${v}`);
    return v === 1;
  }

  opaqueFixed(length: number): Uint8Array {
    this.#need(length + pad(length), 'opaque');
    const v = this.buf.slice(this.#at, this.#at + length);
    this.#at += length + pad(length);
    return v;
  }

  opaque(max: number): Uint8Array {
    const n = this.u32();
    if (n > max) throw new XdrError(`opaque of ${n} bytes over its maximum ${max}`);
    return this.opaqueFixed(n);
  }

  string(max = 1024 * 1024): string {
    return new TextDecoder('utf-8', { fatal: false }).decode(this.opaque(max));
  }

  optional<T>(read: (r: this) => T): T | null {
    return this.bool() ? read(this) : null;
  }

  array<T>(max: number, read: (r: this) => T): T[] {
    const n = this.u32();
    if (n > max) throw new XdrError(`array of ${n} items over its maximum ${max}`);
    return Array.from({ length: n }, () => read(this));
  }
}

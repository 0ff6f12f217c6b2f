/**
 * A newc ("070701") cpio archive writer, the format the kernel unpacks as an
 * initramfs. Pure: entries in, bytes out. Written here rather than shelling
 * out to `cpio` so the image is the same wherever it is built (no host
 * uid/gid, mtime or inode numbers leak in) and no extra tool is needed.
 */
// @ts-nocheck


import { concatBytes } from '../protocol/bytes.js';

export type CpioEntry =
  | { readonly kind: 'dir'; readonly path: string; readonly mode?: number }
  | { readonly kind: 'file'; readonly path: string; readonly data: Uint8Array; readonly mode?: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | { readonly kind: 'chardev'; readonly path: string; readonly major: number; readonly minor: number; readonly mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const hex8 = (n: number): string => {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`cpio: field out of range: ${n}`);
  return n.toString(16).padStart(8, '0');
};

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/** The archive for `entries`, in order, ending with the `TRAILER!!!` record. */
export function newcArchive(entries: readonly CpioEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array) => {
    parts.push(b);
    size += b.length;
    const p = pad4(size);
    if (p > 0) {
      parts.push(new Uint8Array(p));
      size += p;
    }
  };
  let ino = 1;
  const record = (name: string, mode: number, body: Uint8Array, rdev: [number, number] = [0, 0]) => {
    const nameBytes = enc.encode(`${name}\0`);
    const header =
      '070701' +
      [ino++, mode, 0, 0, mode & S_IFDIR ? 2 : 1, 0, body.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0].map(hex8).join('');
    const head = new Uint8Array(header.length + nameBytes.length);
    head.set(enc.encode(header));
    head.set(nameBytes, header.length);
    push(head);
    if (body.length > 0) push(body);
  };
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, '');
    if (path === '' || path.split('/').includes('..')) throw new Error(`cpio: bad path ${JSON.stringify(e.path)}`);
    switch (e.kind) {
      case 'dir':
        record(path, S_IFDIR | (e.mode ?? 0o755), new Uint8Array(0));
        break;
      case 'file':
        record(path, S_IFREG | (e.mode ?? 0o644), e.data);
        break;
      case 'symlink':
        record(path, S_IFLNK | 0o777, enc.encode(e.target));
        break;
      case 'chardev':
        record(path, S_IFCHR | (e.mode ?? 0o600), new Uint8Array(0), [e.major, e.minor]);
        break;
    }
  }
  record('TRAILER!!!', 0, new Uint8Array(0));
  return concatBytes(parts);
}

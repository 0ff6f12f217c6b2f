/**
 * The guest's private temp dir: `$TMPDIR/stapsh.XXXXXX`, mode 0700, the only
 * place it writes. File names were already checked by the guest (alnum,
 * `.`, `_`, first char alnum), so no name can leave the dir; O_NOFOLLOW and
 * O_EXCL-free truncation guard against a planted symlink all the same.
 */
// @ts-nocheck


import { chmodSync, closeSync, constants, mkdtempSync, openSync, promises as fs, rmSync, writevSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Workspace {
  readonly dir: string;
  writeFile(name: string, chunks: readonly Uint8Array[]): Promise<void>;
  /** Remove the dir and all in it; safe to call more than once. */
  remove(): Promise<void>;
  /** The same, synchronously, for exit paths that cannot wait. */
  removeSync(): void;
}

/** Dirs not yet removed: removed synchronously if the process exits first. */
const live = new Set<string>();
let exitHook = false;
function removeAtExit(dir: string): void {
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const d of live) rmSync(d, { recursive: true, force: true });
    });
  }
  live.add(dir);
}

/** Files up to this size are written synchronously: a few µs, where the thread pool's round trips cost ~0.5 ms a session. */
const SYNC_WRITE_MAX = 1024 * 1024;

/** What is left to write of `pending` after a writev of its first 1024 chunks wrote `written` bytes. */
function afterWritev(pending: readonly Uint8Array[], written: number): Uint8Array[] {
  const batch = pending.slice(0, 1024);
  const rest: Uint8Array[] = [];
  for (const c of batch) {
    if (written >= c.length) written -= c.length;
    else {
      rest.push(c.subarray(written));
      written = 0;
    }
  }
  return [...rest, ...pending.slice(batch.length)];
}

/** Write all of `chunks` with writev, resuming after short writes. */
function writeAllSync(fd: number, chunks: readonly Uint8Array[]): void {
  let pending = chunks.filter((c) => c.length > 0);
  while (pending.length > 0) pending = afterWritev(pending, writevSync(fd, pending.slice(0, 1024)));
}

export async function createWorkspace(parent: string = tmpdir()): Promise<Workspace> {
  // Synchronous: two syscalls, cheaper than two trips through the thread pool per session.
  const dir = mkdtempSync(join(parent, 'stapsh.'));
  chmodSync(dir, 0o700);
  removeAtExit(dir);
  let removed = false;
  return {
    dir,
    async writeFile(name, chunks) {
      if (name.includes('/') || name === '.' || name === '..') throw new Error(`Refusing file name ${name}`);
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
      const total = chunks.reduce((n, c) => n + c.length, 0);
      if (total <= SYNC_WRITE_MAX) {
        const fd = openSync(join(dir, name), flags, 0o600);
        try {
          writeAllSync(fd, chunks);
        } finally {
          closeSync(fd);
        }
        return;
      }
      const handle = await fs.open(join(dir, name), flags, 0o600);
      try {
        // One writev per batch rather than a write per 64 KiB chunk.
        let pending = chunks.filter((c) => c.length > 0);
        while (pending.length > 0) pending = afterWritev(pending, (await handle.writev(pending.slice(0, 1024))).bytesWritten);
      } finally {
        await handle.close();
      }
    },
    async remove() {
      if (removed) return;
      removed = true;
      await fs.rm(dir, { recursive: true, force: true });
      live.delete(dir);
    },
    removeSync() {
      if (removed) return;
      removed = true;
      rmSync(dir, { recursive: true, force: true });
      live.delete(dir);
    },
  };
}

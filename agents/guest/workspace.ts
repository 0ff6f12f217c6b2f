/**
 * The guest's private temp dir: `$TMPDIR/stapsh.XXXXXX`, mode 0700, the only
 * place it writes. File names were already checked by the guest (alnum,
 * `.`, `_`, first char alnum), so no name can leave the dir; O_NOFOLLOW and
 * O_EXCL-free truncation guard against a planted symlink all the same.
 */

import { constants, promises as fs, rmSync } from 'node:fs';
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

export async function createWorkspace(parent: string = tmpdir()): Promise<Workspace> {
  const dir = await fs.mkdtemp(join(parent, 'stapsh.'));
  await fs.chmod(dir, 0o700);
  removeAtExit(dir);
  let removed = false;
  return {
    dir,
    async writeFile(name, chunks) {
      if (name.includes('/') || name === '.' || name === '..') throw new Error(`Refusing file name ${name}`);
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
      const handle = await fs.open(join(dir, name), flags, 0o600);
      try {
        // One writev per batch rather than a write per 64 KiB chunk.
        let pending = chunks.filter((c) => c.length > 0);
        while (pending.length > 0) {
          const batch = pending.slice(0, 1024);
          let { bytesWritten } = await handle.writev(batch);
          const rest: Uint8Array[] = [];
          for (const c of batch) {
            if (bytesWritten >= c.length) bytesWritten -= c.length;
            else {
              rest.push(c.subarray(bytesWritten));
              bytesWritten = 0;
            }
          }
          pending = [...rest, ...pending.slice(batch.length)];
        }
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

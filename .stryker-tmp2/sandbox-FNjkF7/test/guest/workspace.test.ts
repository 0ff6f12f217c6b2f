/** The guest's private temp dir, against the real file system: modes, a planted symlink, both write paths, removal. */
// @ts-nocheck

import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkspace } from '../../guest/workspace.js';

const parent = mkdtempSync(join(tmpdir(), 'stapflow-ws-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe('the guest workspace', () => {
  it('is a 0700 stapsh.XXXXXX dir; files are 0600 and byte-exact, small (sync) and large (async) alike', async () => {
    const ws = await createWorkspace(parent);
    expect(ws.dir.startsWith(join(parent, 'stapsh.'))).toBe(true);
    expect(statSync(ws.dir).mode & 0o777).toBe(0o700);
    const small = [new Uint8Array([1, 2]), new Uint8Array(0), new Uint8Array([3])];
    await ws.writeFile('small.ko', small);
    expect([...readFileSync(join(ws.dir, 'small.ko'))]).toEqual([1, 2, 3]);
    const big = Array.from({ length: 40 }, (_, i) => new Uint8Array(64 * 1024).fill(i));
    await ws.writeFile('big.ko', big);
    const got = readFileSync(join(ws.dir, 'big.ko'));
    expect(got.length).toBe(40 * 64 * 1024);
    expect(got[65 * 1024]).toBe(1);
    for (const f of ['small.ko', 'big.ko']) expect(statSync(join(ws.dir, f)).mode & 0o777).toBe(0o600);
    await ws.remove();
    expect(existsSync(ws.dir)).toBe(false);
  });

  it('never writes through a planted symlink (O_NOFOLLOW), on either path', async () => {
    const ws = await createWorkspace(parent);
    const target = join(parent, 'outside');
    writeFileSync(target, 'untouched');
    symlinkSync(target, join(ws.dir, 'evil.ko'));
    await expect(ws.writeFile('evil.ko', [new Uint8Array([1])])).rejects.toMatchObject({ code: 'ELOOP' });
    await expect(ws.writeFile('evil.ko', [new Uint8Array(2 * 1024 * 1024)])).rejects.toMatchObject({ code: 'ELOOP' });
    expect(readFileSync(target, 'utf8')).toBe('untouched');
    expect(lstatSync(join(ws.dir, 'evil.ko')).isSymbolicLink()).toBe(true);
    await expect(ws.writeFile('../escape', [new Uint8Array([1])])).rejects.toThrow(/Refusing file name/);
    ws.removeSync();
    expect(existsSync(ws.dir)).toBe(false);
  });
});

/** The trace's size cap holds under a guest that prints 1 GiB. */
// @ts-nocheck

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedBindir } from '../support/realPeers.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-rotate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trace rotation', () => {
  it('stapsh --trace with a 64 KiB cap: a child printing 1 GiB leaves at most 4 files of at most 64 KiB', async () => {
    // Bursts of data frames are one event per MiB at most (coalesced): some 1,000 events of
    // ~450 bytes, several times the cap.
    const bindir = scriptedBindir(dir, '#!/bin/sh\nexec yes "$(printf "%099d" 0)" | head -c 1073741824\n');
    const trace = join(dir, 'guest.jsonl');
    const guest = spawn(process.execPath, [join(ROOT, 'bin/stapsh.js'), '--bindir', bindir, '--trace', trace, '--trace-max-bytes', '65536'], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, TMPDIR: dir },
    });
    let bytes = 0;
    guest.stdout.on('data', (b: Buffer) => (bytes += b.length));
    // stdin stays open: EOF would end the session (and hang up the child) at once.
    guest.stdin.write('stap 4.8\noption data\nrun\n');
    const code = await new Promise<number | null>((res, rej) => {
      const t = setTimeout(() => {
        guest.kill('SIGKILL');
        rej(new Error(`the guest did not end within 180 s (${bytes} bytes read)`));
      }, 180_000);
      guest.once('exit', (c) => {
        clearTimeout(t);
        res(c);
      });
    });
    guest.stdin.destroy();
    expect(code).toBe(0);
    // All of the gibibyte went through (plus frame headers and replies).
    expect(bytes).toBeGreaterThan(1073741824);
    const files = readdirSync(dir).filter((f) => f.startsWith('guest.jsonl')).sort();
    expect(files).toEqual(['guest.jsonl', 'guest.jsonl.1', 'guest.jsonl.2', 'guest.jsonl.3']);
    for (const f of files) expect(statSync(join(dir, f)).size, f).toBeLessThanOrEqual(65536);
  }, 200_000);
});

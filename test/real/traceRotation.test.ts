/** The trace's size cap holds under a guest that prints 1 GiB. */
import { spawnSync } from 'node:child_process';
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
  it('stapsh --trace with a 64 KiB cap: a child printing 1 GiB leaves at most 4 files of at most 64 KiB', () => {
    // Bursts of data frames are one event per MiB at most (coalesced): some 1,000 events of
    // ~450 bytes, several times the cap.
    const bindir = scriptedBindir(dir, '#!/bin/sh\nexec yes "$(printf "%099d" 0)" | head -c 1073741824\n');
    const trace = join(dir, 'guest.jsonl');
    const r = spawnSync(
      'sh',
      ['-c', `printf 'stap 4.8\\noption data\\nrun\\n' | "${process.execPath}" "${join(ROOT, 'bin/stapsh.js')}" --bindir "${bindir}" --trace "${trace}" --trace-max-bytes 65536 | wc -c`],
      { encoding: 'utf8', timeout: 180_000, env: { ...process.env, TMPDIR: dir } },
    );
    // All of the gibibyte went through (plus frame headers and replies).
    expect(Number(r.stdout.trim())).toBeGreaterThan(1073741824);
    const files = readdirSync(dir).filter((f) => f.startsWith('guest.jsonl')).sort();
    expect(files).toEqual(['guest.jsonl', 'guest.jsonl.1', 'guest.jsonl.2', 'guest.jsonl.3']);
    for (const f of files) expect(statSync(join(dir, f)).size, f).toBeLessThanOrEqual(65536);
  }, 200_000);
});

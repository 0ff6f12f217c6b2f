/** --trace on stapsh and stap-remote, --timeline on stap-remote: real sessions that render. */
// @ts-nocheck

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptedBindir } from '../support/realPeers.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;
let bindir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-tracecli-'));
  bindir = scriptedBindir(dir, '#!/bin/sh\necho "args: $*"\necho oops >&2\nsleep 0.1\nexit 2\n');
  writeFileSync(join(dir, 'm.ko'), 'ELF');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('traces from the CLIs', () => {
  it('stap-remote --trace/--timeline and stapsh --trace record the same session from both ends', () => {
    const hostTrace = join(dir, 'host.jsonl');
    const guestTrace = join(dir, 'guest.jsonl');
    const stapsh = `${process.execPath} ${join(ROOT, 'bin/stapsh.js')} --bindir ${bindir} --trace ${guestTrace}`;
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin/stap-remote.js'), '--remote=stapsh:', '--stapsh', stapsh, '--trace', hostTrace, '--timeline', join(dir, 'm.ko')],
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, TMPDIR: dir } },
    );
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('args: -R -r 0:stapsh: ./m.ko\n');
    // The live timeline went to stderr with the child's stderr.
    expect(r.stderr).toMatch(/host → guest\s+run -R -r 0:stapsh: \.\/m\.ko/);
    expect(r.stderr).toContain('oops\n');
    for (const [file, actor] of [
      [hostTrace, 'host'],
      [guestTrace, 'guest'],
    ] as const) {
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines[0]).toMatchObject({ type: 'header', version: 1 });
      expect(lines.some((l) => l.kind === 'state' && l.actor === actor)).toBe(true);
      const rendered = spawnSync(process.execPath, [join(ROOT, 'bin/stapsh-trace.js'), 'render', file, '--format', 'text'], { encoding: 'utf8' });
      expect(rendered.status).toBe(0);
      expect(rendered.stdout).toMatch(/host → guest\s+file 3 m\.ko/);
      expect(rendered.stdout).toMatch(/guest → host\s+OK/);
    }
    expect(readFileSync(guestTrace, 'utf8')).toContain('"kind":"child"');
  });
});

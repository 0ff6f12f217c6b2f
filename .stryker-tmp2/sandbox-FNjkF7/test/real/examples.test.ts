/** The README's runnable examples and `npm start` keep working. */
// @ts-nocheck

import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

describe('examples', () => {
  it('examples/host-library.mjs runs a module through our guest and exits with the child status', () => {
    const r = spawnSync(process.execPath, [resolve(ROOT, 'examples/host-library.mjs')], { encoding: 'latin1', timeout: 30_000 });
    expect(r.stdout).toMatch(/^begin: module example\.ko \(1024 bytes\), args: -R -r 0:stapsh: \.\/example\.ko ticks=3 interval=50 status=5\ntick 0\ntick 1\ntick 2\nend: done\n$/);
    expect(r.stderr).toContain('done; child exit {"code":5,"signal":null}');
    expect(r.status).toBe(5);
  });

  it('examples/slow-consumer.mjs reads every chunk with awaits in between', () => {
    const r = spawnSync(process.execPath, [resolve(ROOT, 'examples/slow-consumer.mjs')], { encoding: 'latin1', timeout: 30_000 });
    expect(r.status).toBe(0);
    const ticks = Array.from({ length: 40 }, (_, i) => `tick ${i}\n`).join('');
    expect(r.stdout).toMatch(new RegExp(`^begin: module slow\\.ko \\(64 bytes\\), args: [^\\n]*\\n${ticks}end: done\\n$`));
    const m = /^consumed (\d+) bytes \(the tap saw (\d+)\); done$/m.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(Number(m![1])).toBe(r.stdout.length);
    expect(Number(m![2])).toBe(r.stdout.length);
  });

  it('npm start (the demo) runs a whole session and ends by itself', () => {
    const r = spawnSync(process.execPath, [resolve(ROOT, 'bin/demo.js')], { encoding: 'latin1', timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^begin: module stapflow_demo\.ko \(4096 bytes\)/);
    expect(r.stdout).toMatch(/end: SIGHUP after \d+ ticks\n$/);
    expect(r.stderr).toContain('session finished (the guest said quit)');
    expect(r.stderr).toContain('guest stopped, temp dirs removed');
    // It says where the trace and its renderings are; they exist and show the session.
    const tracePath = /trace: (\S+session\.trace\.jsonl)/.exec(r.stderr)?.[1];
    expect(tracePath).toBeDefined();
    const dir = dirname(tracePath!);
    try {
      expect(readFileSync(tracePath!, 'utf8').split('\n')[0]).toContain('"type":"header"');
      expect(readFileSync(join(dir, 'session.timeline.txt'), 'utf8')).toMatch(/host → guest\s+run -R -r 0:unix:\S+ \.\/stapflow_demo\.ko/);
      expect(readFileSync(join(dir, 'session.sequence.mmd'), 'utf8')).toMatch(/^sequenceDiagram/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

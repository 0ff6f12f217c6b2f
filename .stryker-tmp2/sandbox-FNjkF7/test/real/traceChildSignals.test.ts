/**
 * Child lifecycle in a real guest's trace: our stapsh (real processes, real
 * signals) hangs up a child that ignores SIGHUP, kills it after the grace
 * period, and `--trace` records spawn, both signals and the exit, in order.
 */
// @ts-nocheck

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseTraceLine, type TraceEvent } from '../../trace/format.js';
import { renderText } from '../../trace/render.js';
import { killAll, spawnTracked } from '../support/procs.js';
import { scriptedBindir } from '../support/realPeers.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-childsig-'));
});
afterEach(() => killAll());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function events(path: string): TraceEvent[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map(parseTraceLine)
    .filter((l): l is TraceEvent => 'kind' in l);
}

describe('child events in a guest trace', () => {
  it('records spawn, SIGHUP, SIGKILL after the grace period, and the exit (128+9)', async () => {
    const bindir = scriptedBindir(join(dir, 'stubborn'), "#!/bin/sh\ntrap '' HUP\necho started\nwhile :; do sleep 0.05; done\n");
    const trace = join(dir, 'guest.jsonl');
    const guest = spawnTracked([process.execPath, join(ROOT, 'bin/stapsh.js'), '--bindir', bindir, '--grace', '300', '--trace', trace], {
      env: { ...process.env, TMPDIR: dir },
    });
    guest.child.stdin!.write('option data\nrun\n');
    await guest.waitFor('data stdout 8\nstarted\n', 10_000, 'stdout');
    guest.child.stdin!.end('quit\n');
    const exit = await guest.wait(10_000);
    expect(exit.code).toBe(137);
    expect(guest.stdout().endsWith('quit\n')).toBe(true);

    const child = events(trace).filter((e) => e.kind === 'child');
    expect(child.map((e) => (e.what === 'signal' ? `signal ${e.signal}` : e.what))).toEqual(['spawned', 'signal SIGHUP', 'signal SIGKILL', 'exited']);
    expect(child.at(-1)).toMatchObject({ actor: 'child', signal: 'SIGKILL', status: 137 });
    // The grace period separates the two signals.
    const [hup, kill] = child.filter((e) => e.what === 'signal');
    expect(kill!.t - hup!.t).toBeGreaterThanOrEqual(0.25);

    const text = renderText(events(trace));
    expect(text).toMatch(/signal SIGHUP[\s\S]*signal SIGKILL[\s\S]*killed by SIGKILL \(status 137\)/);
  });
});

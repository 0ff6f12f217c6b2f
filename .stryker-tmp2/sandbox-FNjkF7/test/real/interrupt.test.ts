/**
 * Interrupting `npm test` (SIGINT to vitest's process group, as Ctrl-C
 * sends it) leaves nothing behind: a nested vitest, with the suite's global
 * setup and worker cleanup, runs a fixture that starts our guest, socat,
 * sshd, SystemTap's stapsh and a process spawned without the helpers, each in
 * a process group of its own, and makes temp dirs; after the interrupt no
 * process carrying the nested run's mark is alive and its temp root is gone.
 */
// @ts-nocheck


import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { eventually, pidAlive, within } from '../support/procs.js';
import { itReal } from '../support/realPeers.js';
import { SSH_NEEDS } from '../support/sshd.js';
import { requireNeeds } from '../support/needs.js';

const REPO = resolve(import.meta.dirname, '../..');

/** Live processes whose environment holds `entry`. */
function marked(entry: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (!readFileSync(`/proc/${e}/environ`, 'latin1').split('\0').includes(entry)) continue;
      if (!pidAlive(Number(e))) continue;
      out.push({ pid: Number(e), cmd: readFileSync(`/proc/${e}/cmdline`, 'latin1').replace(/\0/g, ' ') });
    } catch {
      // gone
    }
  }
  return out;
}

itReal('SIGINT to a running vitest leaves no stapsh, socat, sshd or temp dir behind', async (ctx) => {
  requireNeeds(ctx, SSH_NEEDS, 'the interrupt test');
  const tmp = mkdtempSync(join(tmpdir(), 'si-'));
  try {
    const probe = `STAPFLOW_INTERRUPT_PROBE=${randomBytes(8).toString('hex')}`;
    const ready = join(tmp, 'ready.json');
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: join(tmp, 't'), STAPFLOW_INTERRUPT_READY: ready, [probe.split('=')[0]!]: probe.split('=')[1]! };
    delete env.STAPFLOW_TEST_ROOT;
    rmSync(env.TMPDIR!, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(env.TMPDIR!);
    const vitest = spawn(process.execPath, [join(REPO, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/real/fixtures/interrupt/vitest.config.ts'], {
      cwd: REPO,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    vitest.stdout.on('data', (b: Buffer) => (output += b.toString()));
    vitest.stderr.on('data', (b: Buffer) => (output += b.toString()));
    let over = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      vitest.once('close', (code, signal) => {
        over = true;
        r({ code, signal });
      }),
    );
    try {
      // Unix socket paths are short (108 bytes): the nested root sits under ours.
      await eventually(() => over || (existsSync(ready) && readFileSync(ready, 'utf8').endsWith('}')), 120_000, 'the fixture\'s processes').catch((e: unknown) => {
        throw new Error(`${String(e)}\n${output}`);
      });
      expect(over, `vitest ended before the fixture was ready:\n${output}`).toBe(false);
      const started = JSON.parse(readFileSync(ready, 'utf8')) as { pids: number[]; dir: string; tmp: string };
      expect(started.tmp).toMatch(new RegExp(`^${env.TMPDIR}/stapflow-test-\\d+$`));
      expect(started.pids.every(pidAlive)).toBe(true);
      expect(marked(probe).length).toBeGreaterThan(started.pids.length);

      process.kill(-vitest.pid!, 'SIGINT');
      const exit = await within(exited, 60_000, `vitest's exit after SIGINT\n${output}`);
      expect(exit.code === 0, output).toBe(false);

      const left = marked(probe);
      expect(left, output).toEqual([]);
      expect(started.pids.filter(pidAlive)).toEqual([]);
      expect(existsSync(started.dir)).toBe(false);
      expect(readdirSync(env.TMPDIR!), output).toEqual([]);
    } finally {
      try {
        process.kill(-vitest.pid!, 'SIGKILL');
      } catch {
        // gone
      }
      for (const p of marked(probe)) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}, 240_000);

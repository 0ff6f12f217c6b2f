/** `stapsh-trace follow FILE`: a live tail of a growing trace (needs `npm run build`). */
// @ts-nocheck

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHeader, serializeTraceLine, type TraceEvent } from '../../trace/format.js';
import { eventually } from '../support/procs.js';

const ROOT = resolve(import.meta.dirname, '../..');
let dir: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-follow-'));
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const frame = (t: number, summary: string, direction: 'host->guest' | 'guest->host' = 'host->guest'): TraceEvent => ({
  t,
  session: 's',
  actor: 'host',
  kind: 'frame',
  direction,
  frame: direction === 'host->guest' ? 'command' : 'reply',
  summary,
  bytes: summary.length + 1,
});

/** Start `follow`; `waitFor(re)` resolves once stdout matches (bounded), `exit()` once it exits. */
function startFollow(file: string) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/stapsh-trace.js'), 'follow', file, '--interval', '50']);
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return {
    child,
    out: () => stdout,
    err: () => stderr,
    waitFor: async (re: RegExp, ms = 10_000) => {
      const until = Date.now() + ms;
      while (!re.test(stdout)) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${re}; stdout:\n${stdout}\nstderr:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    exit: (ms = 10_000) =>
      Promise.race([exited, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('follow did not exit')), ms))]),
  };
}

/** Bytes process `pid` has read so far (rchar: every read(2)). */
function bytesRead(pid: number): number {
  return Number(/^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
}

describe('stapsh-trace follow', () => {
  it('prints events as they are appended, reopens a rotated file, and stops on SIGINT', async () => {
    const file = join(dir, 'live.jsonl');
    const f = startFollow(file); // the file does not exist yet: follow waits for it
    // Not a synchronisation (the test holds either way): give follow time to start polling for the missing file.
    await new Promise((r) => setTimeout(r, 150));
    writeFileSync(file, serializeTraceLine(makeHeader({ started: new Date(0), source: 'follow test' })) + serializeTraceLine(frame(0.001, 'stap 4.8')));
    await f.waitFor(/host → guest\s+stap 4\.8/);
    expect(f.out()).toContain('# stapflow trace v1, started 1970-01-01T00:00:00.000Z, follow test');

    // A line written in two pieces is printed once, when complete.
    const line = serializeTraceLine(frame(0.002, 'OK', 'guest->host'));
    const before = bytesRead(f.child.pid!);
    appendFileSync(file, line.slice(0, 20));
    // follow has read the first piece (its rchar grew by it) and printed nothing for it...
    await eventually(() => bytesRead(f.child.pid!) >= before + 20, 10_000, 'follow reading the first piece');
    appendFileSync(file, line.slice(20));
    await f.waitFor(/guest → host\s+OK/);
    // ...so the event shows exactly once, whole, and nothing was reported about a broken line.
    expect(f.out().match(/guest → host/g)).toHaveLength(1);
    expect(f.err()).toBe('');
    appendFileSync(file, serializeTraceLine(frame(0.5, 'run ./m.ko')));
    await f.waitFor(/run \.\/m\.ko/);

    // Rotation: the file moves to live.jsonl.1 and a new, shorter one starts.
    renameSync(file, `${file}.1`);
    writeFileSync(file, serializeTraceLine(makeHeader({ started: new Date(0) })) + serializeTraceLine(frame(0.7, 'quit')));
    await f.waitFor(/host → guest\s+quit/);
    await expect.poll(() => f.err(), { timeout: 5000 }).toMatch(/reading it from the start/);

    // Truncation in place.
    writeFileSync(file, serializeTraceLine(frame(0.8, 'option data')));
    await f.waitFor(/option data/);

    f.child.kill('SIGINT');
    expect(await f.exit()).toBe(0);
    expect(f.out().match(/stap 4\.8/g)).toHaveLength(1);
  });

  it('follows a byte-exact transcript too', async () => {
    const file = join(dir, 'transcript.jsonl');
    writeFileSync(file, `${JSON.stringify({ t: 0.0005, dir: 'host->guest', bytes: 9, text: 'stap 4.8\n' })}\n`);
    const f = startFollow(file);
    await f.waitFor(/host → guest\s+stap 4\.8/);
    appendFileSync(file, `${JSON.stringify({ t: 0.0018, dir: 'guest->host', bytes: 11, text: 'stapsh 4.8\n' })}\nnot json\n`);
    await f.waitFor(/guest → host\s+stapsh 4\.8/);
    await expect.poll(() => f.err(), { timeout: 5000 }).toMatch(/transcript\.jsonl:3: .*line skipped/);
    f.child.kill('SIGINT');
    expect(await f.exit()).toBe(0);
  });
});

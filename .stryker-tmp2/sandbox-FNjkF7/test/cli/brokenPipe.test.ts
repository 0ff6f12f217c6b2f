/**
 * A reader that goes away (`| head -c 100`) ends our filters quietly, as
 * SIGPIPE ends a C filter but cleanly: no message, no stack trace, status
 * 141 (cli/common/launch.ts). Real pipes into a real `head`; dist/ built.
 */
// @ts-nocheck


import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeHeader, serializeTrace, serializeTraceLine, type TraceEvent } from '../../trace/format.js';

const ROOT = resolve(import.meta.dirname, '../..');
const BROKEN_PIPE_STATUS = 141;
let dir: string;
const live = new Set<ChildProcess>();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-epipe-'));
});
afterEach(() => {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const frame = (t: number, summary: string): TraceEvent => ({
  t,
  session: 's',
  actor: 'host',
  kind: 'frame',
  direction: 'host->guest',
  frame: 'command',
  summary,
  bytes: summary.length + 1,
});

function exited(child: ChildProcess, what: string, ms = 20_000): Promise<{ status: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${what} did not exit within ${ms} ms`)), ms);
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      live.delete(child);
      done({ status, signal });
    });
  });
}

/**
 * `node bin/BIN.js ARGS | head -c BYTES`: the writer's stdout is the write
 * end of the pipe `head` reads (we keep no copy of it), its stderr ours.
 */
function pipeIntoHead(bin: string, args: readonly string[], bytes: number, env: NodeJS.ProcessEnv = process.env) {
  const head = spawn('head', ['-c', String(bytes)], { stdio: ['pipe', 'pipe', 'inherit'] });
  live.add(head);
  const writer = spawn(process.execPath, [join(ROOT, 'bin', `${bin}.js`), ...args], { stdio: ['pipe', head.stdin, 'pipe'], env });
  live.add(writer);
  head.stdin.destroy();
  let read = '';
  let stderr = '';
  head.stdout.setEncoding('latin1').on('data', (s: string) => (read += s));
  writer.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  writer.stdin!.on('error', () => undefined);
  return {
    stdin: writer.stdin!,
    headExit: exited(head, 'head'),
    writerExit: exited(writer, bin),
    read: () => read,
    stderr: () => stderr,
  };
}

describe('a closed stdout ends a program quietly, status 141', () => {
  it('stapsh-trace render FILE | head -c 100', async () => {
    const file = join(dir, 'big.jsonl');
    // Far more than a pipe holds (64 KiB), so the writer is still writing when head leaves.
    const events = Array.from({ length: 20_000 }, (_, i) => frame(i / 1000, `option verbose ${i}`));
    writeFileSync(file, serializeTrace(makeHeader({ started: new Date(0) }), events));
    const p = pipeIntoHead('stapsh-trace', ['render', file], 100);
    expect(await p.headExit).toEqual({ status: 0, signal: null });
    expect(p.read()).toHaveLength(100);
    expect(await p.writerExit).toEqual({ status: BROKEN_PIPE_STATUS, signal: null });
    expect(p.stderr()).toBe('');
  });

  it('stapsh-trace follow FILE | head -c 100: stops at the next event after head left', async () => {
    const file = join(dir, 'live.jsonl');
    const header = makeHeader({ started: new Date(0) });
    writeFileSync(file, serializeTrace(header, Array.from({ length: 10 }, (_, i) => frame(i, `option verbose ${i}`))));
    const p = pipeIntoHead('stapsh-trace', ['follow', file, '--interval', '20'], 100);
    expect(await p.headExit).toEqual({ status: 0, signal: null });
    // Nobody reads any more: the next line follow prints meets a closed pipe.
    appendFileSync(file, serializeTraceLine(frame(11, 'option verbose 11')));
    expect(await p.writerExit).toEqual({ status: BROKEN_PIPE_STATUS, signal: null });
    expect(p.stderr()).toBe('');
  });

  it('stapsh-conformance --json | head -c 0 (the reader left before the report)', async () => {
    const bindir = join(dir, 'bin');
    const guest = `${process.execPath} ${join(ROOT, 'bin', 'stapsh.js')} --bindir ${bindir}`;
    const p = pipeIntoHead('stapsh-conformance', ['--guest', guest, '--filter', '^handshake/hello$', '--json'], 0);
    expect(await p.headExit).toEqual({ status: 0, signal: null });
    expect(await p.writerExit).toEqual({ status: BROKEN_PIPE_STATUS, signal: null });
    expect(p.stderr()).toBe('');
  });

  it('stapsh on stdio: a host that stops reading ends the session at once (stdin still open), status 0, temp dir gone', async () => {
    const tmp = mkdtempSync(join(dir, 'guest-tmp-'));
    const p = pipeIntoHead('stapsh', ['--bindir', join(dir, 'bin')], 0, { ...process.env, TMPDIR: tmp });
    expect(await p.headExit).toEqual({ status: 0, signal: null });
    p.stdin.write('stap 4.8\n'); // its hello meets a closed pipe; stdin stays open
    // The guest's rule, not a filter's: SIGPIPE ends the session like SIGHUP, with the child's status (none ran: 0).
    expect(await p.writerExit).toEqual({ status: 0, signal: null });
    expect(p.stderr()).toBe('');
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('the same programs with a reader that takes everything: status 0, all bytes', async () => {
    const file = join(dir, 'small.jsonl');
    writeFileSync(file, serializeTrace(makeHeader({ started: new Date(0) }), Array.from({ length: 3_000 }, (_, i) => frame(i, `option verbose ${i}`))));
    const whole = pipeIntoHead('stapsh-trace', ['render', file], 1 << 30);
    const [writer] = await Promise.all([whole.writerExit, whole.headExit]);
    expect(writer).toEqual({ status: 0, signal: null });
    expect(whole.read().split('\n').filter((l) => l.includes('option verbose'))).toHaveLength(3_000);
  });
});

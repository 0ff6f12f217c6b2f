/** The shared transcripts convert to traces and render as a timeline and a Mermaid diagram; the CLI does the same. */
// @ts-nocheck

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeHeader, serializeTrace, type TraceEvent } from '../../trace/format.js';
import { detectFormat, readAnyTrace, renderMermaid, renderText, transcriptToTrace } from '../../trace/render.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const transcripts = resolve(repoRoot, '../shared/protocol/transcripts');
const CLI = resolve(repoRoot, 'bin/stapsh-trace.js');

const cases = [
  { file: 'stap-4.8-unix-natural-exit.jsonl', module: 'stap_4599.bo', frames: 12, payload: 114 },
  { file: 'stap-4.8-unix-sigint.jsonl', module: 'stap_4664.bo', frames: 6, payload: 79 },
] as const;

describe.each(cases)('transcript $file', ({ file, module, frames, payload }) => {
  const text = readFileSync(join(transcripts, file), 'utf8');
  const trace = transcriptToTrace(text, { source: file });

  it('converts without errors into frame and transport events', () => {
    expect(detectFormat(text)).toBe('transcript');
    expect(trace.errors).toEqual([]);
    const summaries = trace.events.flatMap((e) => (e.kind === 'frame' ? [`${e.direction} ${e.frame} ${e.summary}`] : []));
    expect(summaries.slice(0, 9)).toEqual([
      'host->guest command stap 4.8',
      'guest->host reply stapsh 4.8 x86_64 6.18.44-fc-v769',
      'host->guest command option data',
      'guest->host reply OK',
      `host->guest command file 1904 ${module}`,
      `host->guest payload 1904 bytes of ${module}`,
      'guest->host reply OK',
      `host->guest command run ./${module}`,
      'guest->host reply OK',
    ]);
    const data = trace.events.filter((e) => e.kind === 'frame' && e.frame === 'data');
    expect(data).toHaveLength(frames);
    expect(data.reduce((n, e) => n + (e.kind === 'frame' ? (e.size ?? 0) : 0), 0)).toBe(payload);
    expect(summaries).toContain('guest->host reply quit');
    expect(trace.events.filter((e) => e.kind === 'transport').map((e) => (e.kind === 'transport' ? e.what : ''))).toEqual(['eof', 'eof']);
    expect(trace.events.every((e) => e.actor === 'proxy')).toBe(true);
  });

  it('renders a text timeline', () => {
    const out = renderText(trace.events, trace.header);
    expect(out).toMatch(/^ +0\.000\d {2}host → guest {2}stap 4\.8 {2}\(9 B\)$/m);
    expect(out).toMatch(/guest → host {2}stapsh 4\.8 x86_64/);
    expect(out).toContain('host → guest  option data');
    expect(out).toContain(`host → guest  file 1904 ${module}  (23 B)`);
    expect(out).toContain(`host → guest  payload 1904 bytes of ${module}  "\\x7fELF\\x02`);
    expect(out).toContain(`host → guest  run ./${module}  (19 B)`);
    expect(out).toMatch(/guest → host {2}data stdout \d+ {2}"fake-staprun args: /);
    expect(out).toContain('guest → host  data stderr 10  "to stderr\\n"  (25 B)');
    expect(out).toContain('guest → host  quit  (5 B)');
    expect(out).toContain('[proxy] EOF host → guest');
  });

  it('renders a Mermaid sequence diagram with data frames collapsed', () => {
    const out = renderMermaid(trace.events);
    const lines = out.trimEnd().split('\n');
    expect(lines.slice(0, 4)).toEqual(['sequenceDiagram', '  participant host', '  participant guest', '  participant child']);
    expect(lines).toContain('  host->>guest: stap 4.8');
    expect(lines).toContain('  host->>guest: option data');
    expect(lines).toContain(`  host->>guest: file 1904 ${module}`);
    expect(lines).toContain(`  host->>guest: payload 1904 bytes of ${module}`);
    expect(lines).toContain(`  host->>guest: run ./${module}`);
    expect(lines).toContain(`  guest-->>host: ${frames} data frames, ${payload} bytes`);
    expect(lines).toContain('  guest-->>host: quit');
    expect(lines.filter((l) => l.includes('data stdout'))).toEqual([]);
    expect(lines.filter((l) => l.startsWith('  Note over host,guest: EOF'))).toHaveLength(2);
  });
});

describe('renderers on recorded events', () => {
  const events: TraceEvent[] = [
    { t: 0, session: 'h', actor: 'host', kind: 'state', machine: 'hostSession', from: null, to: 'hello' },
    { t: 0.1, session: 'g', actor: 'guest', kind: 'state', machine: 'guestStapsh', from: 'ready', to: 'running.child', event: 'CHILD.SPAWNED' },
    { t: 0.2, session: 'g', actor: 'child', kind: 'child', what: 'spawned', pid: 9, argv: ['staprun', 'a.ko'] },
    { t: 0.3, session: 'g', actor: 'guest', kind: 'frame', direction: 'guest->host', frame: 'data', stream: 'stdout', size: 2, summary: 'data stdout 2', bytes: 16, preview: 'a;' },
    { t: 0.4, session: 'g', actor: 'child', kind: 'child', what: 'exited', code: 3, signal: null, status: 3 },
  ];

  it('interleaves state changes and child events in the timeline, with a session column', () => {
    const out = renderText(events);
    expect(out).toContain('0.1000  g  [guest] guestStapsh: ready → running.child (CHILD.SPAWNED)');
    expect(out).toContain('0.0000  h  [host] hostSession: → hello');
    expect(out).toContain('[child] spawned pid 9: staprun a.ko');
    expect(out).toContain('[child] exited 3');
  });

  it('puts notes over the actor, child arrows, and escapes Mermaid syntax', () => {
    const out = renderMermaid(events);
    expect(out).toContain('  Note over guest: [g] guestStapsh: ready → running.child (CHILD.SPAWNED)');
    expect(out).toContain('  guest->>child: [g] spawned pid 9: staprun a.ko');
    expect(out).toContain('  guest-->>host: [g] data stdout 2  "a#59;"');
    expect(out).toContain('  child-->>guest: [g] exited 3');
  });
});

describe('stapsh-trace CLI', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'stapsh-trace-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });

  it('renders a transcript as text and as mermaid (to a file)', () => {
    const file = join(transcripts, 'stap-4.8-unix-natural-exit.jsonl');
    const text = run('render', file);
    expect(text.status).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toContain('host → guest  file 1904 stap_4599.bo');
    const out = join(tmp, 'out.mmd');
    const mermaid = run('render', file, '--format', 'mermaid', '-o', out);
    expect(mermaid.status).toBe(0);
    expect(mermaid.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toContain('guest-->>host: 12 data frames, 114 bytes');
  });

  it('renders our own trace format, skipping a bad line with its number', () => {
    const file = join(tmp, 'trace.jsonl');
    const events: TraceEvent[] = [
      { t: 0, session: 's', actor: 'host', kind: 'frame', direction: 'host->guest', frame: 'command', command: 'stap', summary: 'stap 4.8', bytes: 9 },
    ];
    writeFileSync(file, `${serializeTrace(makeHeader({ started: new Date(0) }), events)}{"t": oops\n`);
    expect(readAnyTrace(readFileSync(file, 'utf8'))?.format).toBe('trace');
    const r = run('render', file);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('host → guest  stap 4.8  (9 B)');
    expect(r.stderr).toMatch(new RegExp(`stapsh-trace: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: not JSON .*\\(line skipped\\)`));
  });

  it('names a missing or garbled file, and rejects an unknown format', () => {
    const missing = join(tmp, 'nope.jsonl');
    const r1 = run('render', missing);
    expect(r1.status).toBe(1);
    expect(r1.stderr).toContain(`cannot read ${missing}: no such file`);
    const garbled = join(tmp, 'garbled.jsonl');
    writeFileSync(garbled, 'this is not json\n\u0000\u0001\n');
    const r2 = run('render', garbled);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain(`${garbled} is neither a stapflow trace nor a transcript`);
    const r3 = run('render', garbled, '--format', 'png');
    expect(r3.status).toBe(2);
    expect(r3.stderr).toContain("must be 'text', 'mermaid', 'svg' or 'html'");
  });

  it('has --help', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('render [options] <FILE>');
    const r2 = run('render', '--help');
    expect(r2.status).toBe(0);
    expect(r2.stdout).toContain('--format <FORMAT>');
  });
});

/** renderSvg / renderHtml: offline, self-contained pictures of traces and the shared transcripts. */
// @ts-nocheck

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../trace/format.js';
import { renderHtml, renderSvg, stateLanes } from '../../trace/html.js';
import { readAnyTrace } from '../../trace/render.js';

const root = resolve(import.meta.dirname, '../..');
const TRANSCRIPTS = resolve(root, '../shared/protocol/transcripts');
const transcripts = readdirSync(TRANSCRIPTS).filter((f) => f.endsWith('.jsonl')).sort();

/** Every tag opened is closed, in order (self-closing tags aside): enough to catch broken markup. */
function balanced(xml: string): boolean {
  const stack: string[] = [];
  const body = xml.replace(/<\?xml[^>]*\?>/g, '').replace(/<!--[\s\S]*?-->/g, '');
  for (const m of body.matchAll(/<(\/?)([A-Za-z][\w:-]*)([^>]*?)(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self === '/') continue;
    if (close === '/') {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  return stack.length === 0;
}

describe('renderSvg and renderHtml on the shared transcripts', () => {
  it('finds both transcripts', () => {
    expect(transcripts.length).toBeGreaterThanOrEqual(2);
  });

  for (const name of transcripts) {
    const parsed = readAnyTrace(readFileSync(join(TRANSCRIPTS, name), 'utf8'), { source: name })!;

    it(`${name}: an SVG sequence diagram with the participants and the handshake`, () => {
      expect(parsed.errors).toEqual([]);
      const svg = renderSvg(parsed.events);
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(balanced(svg)).toBe(true);
      for (const p of ['host', 'guest', 'child']) expect(svg).toContain(`font-weight="bold">${p}</text>`);
      expect(svg).toContain('stap 4.8');
      expect(svg).toMatch(/\d+ data frames, \d+ bytes/);
      // No references out of the document but the namespace itself.
      expect(svg.replace('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:|@import|url\((?!#)/);
      expect(renderSvg(parsed.events)).toBe(svg);
    });

    it(`${name}: one self-contained HTML page`, () => {
      const html = renderHtml(parsed.events, parsed.header);
      expect(html).toMatch(/^<!DOCTYPE html>/);
      expect(html).not.toMatch(/https?:\/\//);
      expect(html).not.toMatch(/<script[^>]*\bsrc\b/i);
      expect(html).not.toMatch(/<link\b/i);
      expect(html).not.toMatch(/@import|url\((?!#)/);
      expect(html).toContain('stap 4.8');
      expect(html).toContain('<svg class="seq"');
      expect(html).toContain('<svg class="timeline"');
      for (const lane of ['host', 'guest', 'child']) expect(html).toContain(`data-lane="${lane}"`);
      for (const filter of ['dir', 'actor', 'kind']) expect(html).toContain(`id="filter-${filter}"`);
      // One table row per event, each with its filter keys.
      expect(html.match(/<tr class="\w+" data-dir=/g)?.length).toBe(parsed.events.length);
      expect(balanced(html.replace(/<!DOCTYPE[^>]*>/, '').replace(/<(meta|input)\b[^>]*>/g, ''))).toBe(true);
    });
  }
});

describe('state lanes', () => {
  const base = { session: 's' } as const;
  it('use recorded state changes and child lifecycle when there are some', () => {
    const events: TraceEvent[] = [
      { ...base, t: 0, actor: 'host', kind: 'state', machine: 'hostSession', from: null, to: 'connecting' },
      { ...base, t: 0.1, actor: 'host', kind: 'state', machine: 'hostSession', from: 'connecting', to: 'running' },
      { ...base, t: 0.2, actor: 'guest', kind: 'state', machine: 'guestStapsh', from: null, to: 'ready' },
      { ...base, t: 0.3, actor: 'child', kind: 'child', what: 'spawned', pid: 42, argv: ['staprun', 'm.ko'] },
      { ...base, t: 0.9, actor: 'child', kind: 'child', what: 'exited', code: 0, signal: null, status: 0 },
      { ...base, t: 1, actor: 'host', kind: 'state', machine: 'hostSession', from: 'running', to: 'done', status: 'done' },
    ];
    const lanes = stateLanes(events);
    expect(lanes.map((l) => [l.actor, l.inferred])).toEqual([
      ['host', false],
      ['guest', false],
      ['child', false],
    ]);
    expect(lanes[0]!.segments).toEqual([
      { from: 0, to: 0.1, state: 'connecting' },
      { from: 0.1, to: 1, state: 'running' },
      { from: 1, to: 1, state: 'done [done]' },
    ]);
    expect(lanes[2]!.segments.map((s) => s.state)).toEqual(['running (pid 42)', 'exited 0']);
    const html = renderHtml(events, null);
    expect(html).toContain('running (pid 42)');
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('read phases off the wire for a transcript', () => {
    const parsed = readAnyTrace(readFileSync(join(TRANSCRIPTS, transcripts[0]!), 'utf8'))!;
    const lanes = stateLanes(parsed.events);
    expect(lanes.every((l) => l.inferred)).toBe(true);
    expect(lanes[0]!.segments.map((s) => s.state)).toEqual(expect.arrayContaining(['handshake', 'uploading', 'running', 'closed']));
    expect(lanes[2]!.segments.map((s) => s.state)).toContain('running');
  });

  it('escape what they draw', () => {
    const events: TraceEvent[] = [{ ...base, t: 0, actor: 'guest', kind: 'state', machine: 'm', from: null, to: '<b>&"x"' }];
    expect(renderHtml(events)).not.toContain('<b>&"x"');
    expect(renderSvg(events)).toContain('&lt;b&gt;&amp;&quot;x&quot;');
  });
});

describe('stapsh-trace render --format svg|html (needs `npm run build`)', () => {
  it('writes the same SVG and HTML as the library', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'stapflow-svghtml-'));
    try {
      const file = join(TRANSCRIPTS, transcripts[0]!);
      const parsed = readAnyTrace(readFileSync(file, 'utf8'), { source: file })!;
      for (const format of ['svg', 'html'] as const) {
        const out = join(tmp, `t.${format}`);
        const r = spawnSync(process.execPath, [join(root, 'bin/stapsh-trace.js'), 'render', file, '--format', format, '-o', out], { encoding: 'utf8', timeout: 30_000 });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(readFileSync(out, 'utf8')).toBe(format === 'svg' ? renderSvg(parsed.events) : renderHtml(parsed.events, parsed.header));
      }
      const r = spawnSync(process.execPath, [join(root, 'bin/stapsh-trace.js'), 'render', file, '--format', 'svg'], { encoding: 'utf8', timeout: 30_000 });
      expect(r.stdout).toContain('stap 4.8');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

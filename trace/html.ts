/**
 * Traces drawn as pictures, offline: a sequence diagram as SVG (drawn here,
 * no layout engine, no fonts to fetch) and one self-contained HTML page
 * with that diagram inline, a per-actor state timeline and filters. Pure:
 * no Node APIs, nothing loaded from the network (inline CSS and JS only).
 */

import type { TraceDirection, TraceEvent, TraceFrameEvent, TraceHeader } from './format.js';
import { ms, pairCommands, pairText, sessionPhases, type Phase } from './analysis.js';
import { decodeRunLine, frameBytes, hexDump } from './bytes.js';
import { alignmentText } from './merge.js';
import { ARROW, childText, frameText, stateText, transportText } from './render.js';

// ---------------------------------------------------------------------------
// Helpers

/** Text safe in XML/HTML text and double-quoted attributes. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** At most `max` characters, with `…` when cut. */
const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`);

/** The filter keys of an event: its direction (`none` for non-frames), actor and kind. */
function keys(e: TraceEvent): { dir: string; actor: string; kind: string } {
  return { dir: e.kind === 'frame' ? e.direction : 'none', actor: e.actor, kind: e.kind };
}

const dataAttrs = (e: TraceEvent) => {
  const k = keys(e);
  return `data-dir="${escapeXml(k.dir)}" data-actor="${escapeXml(k.actor)}" data-kind="${escapeXml(k.kind)}"`;
};

/** An event in words (as in the text timeline, without time and direction). */
export function eventText(e: TraceEvent): string {
  switch (e.kind) {
    case 'frame':
      return `${frameText(e, 64)}  (${e.bytes} B)`;
    case 'state':
      return stateText(e);
    case 'child':
      return childText(e);
    case 'transport':
      return transportText(e);
  }
}

// ---------------------------------------------------------------------------
// Sequence diagram

const COLLAPSIBLE = new Set(['data', 'raw', 'stderr']);

/** One row of the diagram: an event, or a run of data frames in one direction. */
interface Row {
  readonly first: TraceEvent;
  readonly count: number;
  readonly label: string;
  /** Full text (a tooltip). */
  readonly title: string;
}

function rows(events: readonly TraceEvent[]): Row[] {
  const withSession = new Set(events.map((e) => e.session)).size > 1;
  const tag = (e: TraceEvent) => (withSession ? `[${e.session}] ` : '');
  const out: Row[] = [];
  let run: TraceFrameEvent[] = [];
  const flush = () => {
    const first = run[0];
    if (first === undefined) return;
    if (run.length === 1) {
      out.push({ first, count: 1, label: tag(first) + frameText(first, 40), title: `${first.t.toFixed(4)}s ${eventText(first)}` });
    } else {
      const payload = run.reduce((n, e) => n + (e.frame === 'data' ? (e.size ?? 0) : e.bytes), 0);
      const count = run.reduce((n, e) => n + (e.frames ?? 1), 0);
      const noun = first.frame === 'data' ? 'data frames' : first.frame === 'raw' ? 'stdout chunks' : 'stderr chunks';
      const label = `${tag(first)}${count} ${noun}, ${payload} bytes`;
      out.push({ first, count, label, title: `${first.t.toFixed(4)}s–${run.at(-1)!.t.toFixed(4)}s ${label}` });
    }
    run = [];
  };
  for (const e of events) {
    if (e.kind === 'frame' && COLLAPSIBLE.has(e.frame)) {
      const first = run[0];
      if (first !== undefined && (first.direction !== e.direction || first.frame !== e.frame || first.session !== e.session)) flush();
      run.push(e);
      continue;
    }
    flush();
    const label = tag(e) + (e.kind === 'frame' ? frameText(e, e.frame === 'payload' ? 0 : 40) : eventText(e));
    out.push({ first: e, count: 1, label, title: `${e.t.toFixed(4)}s ${eventText(e)}` });
  }
  flush();
  return out;
}

const PARTICIPANTS = ['host', 'guest', 'child'] as const;
const X: Record<(typeof PARTICIPANTS)[number], number> = { host: 150, guest: 610, child: 870 };
const SEQ_WIDTH = 980;
const ROW_H = 30;
const TOP = 70;
/** Characters per pixel of the 12px monospace labels (about 7.2 px a character). */
const CHAR_W = 7.2;

interface SvgOptions {
  /** Leave out the `xmlns` (inline in HTML, where the parser supplies it). */
  readonly inline?: boolean;
}

/**
 * A sequence diagram of the trace as a standalone SVG: lifelines for host,
 * guest and child; commands as solid arrows, replies dashed; state changes
 * as notes over their actor; runs of data frames collapsed into one arrow
 * (as in `renderMermaid`). Every arrow or note is a `<g class="ev">` with
 * `data-dir`, `data-actor`, `data-kind` (what the HTML page filters on) and
 * a `<title>` with the full text. Nothing in it refers to the network
 * except the SVG namespace (left out with `inline`).
 */
export function renderSvg(events: readonly TraceEvent[], options: SvgOptions = {}): string {
  const list = rows(events);
  const height = TOP + list.length * ROW_H + 60;
  const o: string[] = [];
  const ns = options.inline ? '' : ' xmlns="http://www.w3.org/2000/svg"';
  o.push(
    `<svg${ns} class="seq" viewBox="0 0 ${SEQ_WIDTH} ${height}" width="${SEQ_WIDTH}" height="${height}" font-family="ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace" font-size="12">`,
  );
  o.push(
    '<defs>',
    '<marker id="seq-arrow" markerWidth="10" markerHeight="7" refX="10" refY="3.5" orient="auto"><polygon points="0 0, 10 3.5, 0 7" fill="#333"/></marker>',
    '</defs>',
    `<rect x="0" y="0" width="${SEQ_WIDTH}" height="${height}" fill="#fff"/>`,
  );
  const box = (name: string, y: number) =>
    `<g class="participant"><rect x="${X[name as keyof typeof X] - 50}" y="${y}" width="100" height="30" rx="4" fill="#eef2f7" stroke="#567"/><text x="${X[name as keyof typeof X]}" y="${y + 20}" text-anchor="middle" font-weight="bold">${name}</text></g>`;
  for (const p of PARTICIPANTS) {
    o.push(box(p, 20));
    o.push(`<line x1="${X[p]}" y1="50" x2="${X[p]}" y2="${height - 40}" stroke="#aab" stroke-dasharray="4 3"/>`);
    o.push(box(p, height - 40));
  }
  list.forEach((row, i) => {
    const e = row.first;
    const y = TOP + i * ROW_H + ROW_H / 2;
    const g = `<g class="ev" ${dataAttrs(e)} data-row="${i}"><title>${escapeXml(row.title)}</title>`;
    const time = `<text x="8" y="${y + 4}" fill="#889" font-size="10">${e.t.toFixed(3)}</text>`;
    const arrow = (from: number, to: number, dashed: boolean, label: string) => {
      const room = Math.floor((Math.abs(to - from) - 16) / CHAR_W);
      const mid = (from + to) / 2;
      return (
        `<line x1="${from}" y1="${y + 6}" x2="${to}" y2="${y + 6}" stroke="#333" stroke-width="1.3"${dashed ? ' stroke-dasharray="6 4"' : ''} marker-end="url(#seq-arrow)"/>` +
        `<text x="${mid}" y="${y}" text-anchor="middle">${escapeXml(clip(label, room))}</text>`
      );
    };
    const note = (from: number, to: number, label: string, fill: string) => {
      // A note over one actor grows with its label (up to 300 px) instead of cutting it.
      const width = from === to ? Math.min(300, Math.max(120, label.length * CHAR_W + 12)) : Math.abs(to - from) + 120;
      const left = from === to ? Math.max(4, Math.min(SEQ_WIDTH - width - 4, from - width / 2)) : Math.min(from, to) - 60;
      const room = Math.floor((width - 12) / CHAR_W);
      return (
        `<rect x="${left}" y="${y - 10}" width="${width}" height="22" rx="3" fill="${fill}" stroke="#bb9"/>` +
        `<text x="${left + width / 2}" y="${y + 5}" text-anchor="middle">${escapeXml(clip(label, room))}</text>`
      );
    };
    let body: string;
    switch (e.kind) {
      case 'frame': {
        const [from, to] = e.direction === 'host->guest' ? [X.host, X.guest] : [X.guest, X.host];
        body = arrow(from, to, e.direction === 'guest->host', row.label);
        break;
      }
      case 'state': {
        const at = e.actor === 'proxy' ? [X.host, X.guest] : [X[e.actor], X[e.actor]];
        body = note(at[0]!, at[1]!, row.label, '#fff8d6');
        break;
      }
      case 'child':
        body = e.what === 'exited' ? arrow(X.child, X.guest, true, row.label) : arrow(X.guest, X.child, false, row.label);
        break;
      case 'transport':
        body = note(X.host, X.guest, row.label, '#fde8e8');
        break;
    }
    o.push(`${g}${time}${body}</g>`);
  });
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}

// ---------------------------------------------------------------------------
// State timeline

/** One stretch of time an actor spent in one state. */
export interface LaneSegment {
  readonly from: number;
  readonly to: number;
  readonly state: string;
}

/** A lane of the timeline: an actor and its states over time; `inferred` when read off the wire. */
export interface Lane {
  readonly actor: 'host' | 'guest' | 'child';
  readonly inferred: boolean;
  readonly segments: readonly LaneSegment[];
}

const HOST_PHASE: Record<string, string> = { stap: 'handshake', option: 'options', file: 'uploading', run: 'running', quit: 'quitting' };

/**
 * Per-actor states over time. A lane uses the recorded state changes of its
 * actor (and, for the child, its spawn/signal/exit events); a trace without
 * them (a proxy's, or a converted transcript) gets phases read off the
 * frames instead (`inferred`): the host's last command, the guest's last
 * reply or what it was sent, the child running from `run` to the end.
 */
export function stateLanes(events: readonly TraceEvent[]): Lane[] {
  const end = events.length === 0 ? 0 : Math.max(...events.map((e) => e.t));
  const lane = (actor: Lane['actor'], changes: readonly { t: number; state: string }[], inferred: boolean): Lane => {
    const segments: LaneSegment[] = [];
    for (let i = 0; i < changes.length; i++) {
      const c = changes[i]!;
      const prev = segments.at(-1);
      if (prev !== undefined && prev.state === c.state) continue;
      const next = changes.slice(i + 1).find((n) => n.state !== c.state);
      segments.push({ from: c.t, to: next?.t ?? end, state: c.state });
    }
    return { actor, inferred, segments };
  };
  const recorded = (actor: 'host' | 'guest' | 'child') => {
    const out: { t: number; state: string }[] = [];
    for (const e of events) {
      if (e.kind === 'state' && e.actor === actor) out.push({ t: e.t, state: e.status === undefined ? e.to : `${e.to} [${e.status}]` });
      if (actor === 'child' && e.kind === 'child') {
        out.push({ t: e.t, state: e.what === 'spawned' ? `running (pid ${e.pid})` : e.what === 'signal' ? `signalled ${e.signal}` : childText(e) });
      }
    }
    return out;
  };
  const inferred = (actor: 'host' | 'guest' | 'child') => {
    const out: { t: number; state: string }[] = [];
    for (const e of events) {
      if (e.kind === 'transport' && e.what === 'eof') {
        if (actor === 'host' && e.direction === 'host->guest') out.push({ t: e.t, state: 'closed' });
        if (actor === 'guest' && e.direction === 'guest->host') out.push({ t: e.t, state: 'closed' });
        if (actor === 'child' && e.direction === 'guest->host' && out.length > 0) out.push({ t: e.t, state: 'gone' });
        continue;
      }
      if (e.kind !== 'frame') continue;
      if (actor === 'host' && e.frame === 'command') out.push({ t: e.t, state: HOST_PHASE[e.command ?? ''] ?? 'sending' });
      if (actor === 'guest') {
        // An OK to `run` means the child started: the guest stays running.
        const running = out.at(-1)?.state === 'running';
        if (e.frame === 'reply' && !(running && e.reply === 'ok')) out.push({ t: e.t, state: e.reply === 'hello' || e.reply === 'ok' ? 'ready' : (e.reply ?? 'reply') });
        else if (e.frame === 'command' && e.command === 'file') out.push({ t: e.t, state: 'receiving' });
        else if (e.frame === 'command' && e.command === 'run') out.push({ t: e.t, state: 'running' });
        else if (e.frame === 'command' && e.command === 'quit') out.push({ t: e.t, state: 'quitting' });
      }
      if (actor === 'child' && e.frame === 'command' && e.command === 'run') out.push({ t: e.t, state: 'running' });
    }
    return out;
  };
  return (['host', 'guest', 'child'] as const).map((actor) => {
    const r = recorded(actor);
    return r.length > 0 ? lane(actor, r, false) : lane(actor, inferred(actor), true);
  });
}

const PALETTE = ['#cfe3ff', '#d6f5d6', '#ffe3c2', '#f2d4f7', '#fff3b0', '#d2f1f0', '#f9d0d0', '#e2e2f9'];
function colour(state: string): string {
  let h = 0;
  for (const c of state) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}

/** The lanes as an SVG (inline in the HTML page: no `xmlns`). */
function timelineSvg(lanes: readonly Lane[], times: readonly number[]): string {
  const width = 980;
  const left = 110;
  const laneH = 34;
  const height = 30 + lanes.length * laneH + 24;
  // Half linear time, half event order: a burst of quick steps stays readable next to long waits.
  const ts = [...new Set([0, ...times])].sort((p, q) => p - q);
  const end = ts.at(-1)!;
  const rank = (t: number) => {
    if (ts.length < 2) return 0;
    let i = 0;
    while (i < ts.length - 2 && ts[i + 1]! <= t) i++;
    const a = ts[i]!;
    const b = ts[i + 1]!;
    return (i + (b > a ? Math.min(1, Math.max(0, (t - a) / (b - a))) : 0)) / (ts.length - 1);
  };
  const x = (t: number) => left + (width - left - 20) * (end > 0 ? 0.5 * (t / end) + 0.5 * rank(t) : 0);
  const o: string[] = [`<svg class="timeline" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="ui-monospace, 'DejaVu Sans Mono', monospace" font-size="11">`];
  o.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`);
  lanes.forEach((lane, i) => {
    const y = 20 + i * laneH;
    o.push(`<g class="lane" data-lane="${lane.actor}">`);
    o.push(`<text x="8" y="${y + 18}" font-weight="bold">${lane.actor}${lane.inferred ? '*' : ''}</text>`);
    o.push(`<line x1="${left}" y1="${y + 13}" x2="${width - 20}" y2="${y + 13}" stroke="#ddd"/>`);
    for (const s of lane.segments) {
      const x0 = x(s.from);
      const w = Math.max(3, x(s.to) - x0);
      const room = Math.floor((w - 6) / 6.6);
      o.push(
        `<g class="seg"><title>${escapeXml(`${lane.actor}: ${s.state} (${s.from.toFixed(4)}s – ${s.to.toFixed(4)}s)`)}</title>` +
          `<rect x="${x0.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="26" rx="3" fill="${colour(s.state)}" stroke="#789"/>` +
          (room >= 3 ? `<text x="${(x0 + 3).toFixed(2)}" y="${y + 17}">${escapeXml(clip(s.state, room))}</text>` : '') +
          '</g>',
      );
    }
    o.push('</g>');
  });
  const axisY = 20 + lanes.length * laneH + 14;
  const ticks = ts.length <= 6 ? ts : [0, 1, 2, 3, 4, 5].map((k) => ts[Math.round((k * (ts.length - 1)) / 5)]!);
  for (const t of ticks) {
    o.push(`<text x="${x(t).toFixed(2)}" y="${axisY}" text-anchor="middle" fill="#667">${t.toFixed(3)}s</text><line x1="${x(t).toFixed(2)}" y1="${axisY - 12}" x2="${x(t).toFixed(2)}" y2="${axisY - 9}" stroke="#667"/>`);
  }
  o.push('</svg>');
  return o.join('\n');
}

// ---------------------------------------------------------------------------
// The page

const CSS = `
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
h1 { font-size: 1.3em; margin: 0 0 .3em; }
h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
h3 { font-size: 1em; margin: .2em 0; }
.meta { color: #666; margin-bottom: 1em; }
.panel { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .6em; overflow-x: auto; }
#filters fieldset { display: inline-block; border: 1px solid #ccc; border-radius: 4px; margin: 0 .8em .5em 0; padding: .2em .7em .4em; }
#filters label { margin-right: .8em; white-space: nowrap; }
#search { font: 13px ui-monospace, monospace; width: 24em; padding: 2px 4px; }
table { border-collapse: collapse; font: 12px ui-monospace, 'DejaVu Sans Mono', monospace; width: 100%; }
th, td { text-align: left; padding: 2px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f0f2f5; position: sticky; top: 0; }
td.what { white-space: pre-wrap; word-break: break-all; }
td.num { text-align: right; white-space: nowrap; }
tr.frame td.dir { color: #246; }
#events tbody tr { cursor: pointer; }
#events tbody tr.selected { background: #fff0b3; }
.hidden { display: none; }
.note { color: #777; font-size: 12px; }
#inspector { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: .8em; }
#tablewrap { max-height: 55vh; overflow: auto; }
pre { font: 12px ui-monospace, 'DejaVu Sans Mono', monospace; margin: .3em 0; white-space: pre-wrap; word-break: break-all; }
pre.hex { white-space: pre; overflow-x: auto; }
.charts { display: flex; flex-wrap: wrap; gap: .8em; }
.chart { flex: 1 1 420px; min-width: 0; }
.chart .svg svg { width: 100%; height: auto; max-height: 62vh; }
.chart .svg g.node.active path, .chart .svg g.node.active polygon, .chart .svg g.node.active ellipse { fill: #ffd54f; stroke: #e65100; stroke-width: 2.5; }
.chart .svg g.cluster.active path, .chart .svg g.cluster.active polygon { fill: #fff8e1; stroke: #e65100; stroke-width: 2; }
.ctx { background: #f6f8fa; padding: .3em; max-height: 12em; overflow: auto; }
.wf { font: 12px ui-monospace, monospace; }
.wf-row { display: grid; grid-template-columns: 6em minmax(0, 1fr) 7em; align-items: center; gap: .5em; }
.wf-track { position: relative; height: 12px; background: #f0f2f5; }
.wf-bar { position: absolute; top: 0; height: 12px; background: #6a9fd8; min-width: 2px; }
button { font-size: 12px; }
`;

const JS = `
(function () {
  var data = JSON.parse(document.getElementById('trace-data').textContent);
  var boxes = document.querySelectorAll('#filters input[type=checkbox]');
  var search = document.getElementById('search');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#events tbody tr'));
  var selected = -1;
  function apply() {
    var off = { dir: {}, actor: {}, kind: {} };
    boxes.forEach(function (b) { if (!b.checked) off[b.dataset.filter][b.value] = true; });
    var q = search.value.toLowerCase();
    var shown = 0;
    document.querySelectorAll('[data-kind]').forEach(function (el) {
      var hide = off.dir[el.dataset.dir] || off.actor[el.dataset.actor] || off.kind[el.dataset.kind];
      if (!hide && q !== '' && el.tagName === 'TR') hide = el.dataset.text.indexOf(q) < 0;
      el.classList.toggle('hidden', !!hide);
      if (!hide && el.tagName === 'TR') shown++;
    });
    document.getElementById('shown').textContent = String(shown);
  }
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  // Enter in the search box must not submit the form (a navigation).
  document.getElementById('filters').addEventListener('submit', function (e) { e.preventDefault(); });
  search.addEventListener('input', apply);
  function text(el, s) { el.textContent = s; }
  function nodeId(s) { return s.replace(/[^A-Za-z0-9_]/g, '_'); }
  function showCharts(i) {
    var ev = data.events[i];
    document.querySelectorAll('.chart').forEach(function (chart) {
      var m = chart.dataset.machine;
      var last = null, any = null;
      for (var k = 0; k < data.states.length && data.states[k].i <= i; k++) {
        var st = data.states[k];
        if (st.m !== m) continue;
        any = st;
        if (st.s === ev.s) last = st;
      }
      var st2 = last || any;
      chart.querySelectorAll('g.active').forEach(function (g) { g.classList.remove('active'); });
      var label = chart.querySelector('.at');
      var ctx = chart.querySelector('.ctx');
      if (!st2) { text(label, 'not started yet at this event'); text(ctx, ''); return; }
      var names = {};
      st2.to.split(', ').forEach(function (path) {
        var parts = path.split('.');
        for (var p = 1; p <= parts.length; p++) names[nodeId(m + '.' + parts.slice(0, p).join('.'))] = p === parts.length ? 'leaf' : 'parent';
      });
      chart.querySelectorAll('g.node, g.cluster').forEach(function (g) {
        var t = g.querySelector('title');
        if (!t) return;
        var id = t.textContent.replace(/^cluster_/, '');
        if (names[id]) g.classList.add('active');
      });
      text(label, st2.to + (st2.status ? ' [' + st2.status + ']' : '') + ' (since ' + st2.t.toFixed(4) + ' s' + (st2.s !== ev.s ? ', session ' + st2.s : '') + ')');
      text(ctx, st2.ctx ? JSON.stringify(st2.ctx, null, 1) : 'the trace recorded no context for this machine');
    });
  }
  function select(i) {
    if (selected >= 0) rows[selected].classList.remove('selected');
    selected = i;
    var row = rows[i];
    row.classList.add('selected');
    row.scrollIntoView({ block: 'nearest' });
    var ev = data.events[i];
    text(document.getElementById('sel-what'), row.querySelector('td.what').textContent);
    var f = data.frames[String(i)];
    var hex = document.getElementById('hex');
    var note = document.getElementById('bytes-note');
    var run = document.getElementById('run');
    if (f) {
      text(hex, f.hex || '(no bytes recorded)');
      text(note, f.note || 'all ' + f.total + ' bytes recorded');
      document.getElementById('bytes').classList.remove('hidden');
    } else {
      document.getElementById('bytes').classList.add('hidden');
    }
    if (f && f.run) {
      run.classList.remove('hidden');
      text(document.getElementById('run-decoded'), f.run.decoded);
      text(document.getElementById('run-raw'), f.run.raw);
    } else run.classList.add('hidden');
    showCharts(i);
  }
  rows.forEach(function (row, i) { row.addEventListener('click', function () { select(i); }); });
  document.addEventListener('keydown', function (e) {
    if (e.target === search) return;
    var step = e.key === 'ArrowDown' || e.key === 'ArrowRight' || e.key === 'j' ? 1 : e.key === 'ArrowUp' || e.key === 'ArrowLeft' || e.key === 'k' ? -1 : 0;
    if (step === 0) return;
    e.preventDefault();
    for (var i = selected + step; i >= 0 && i < rows.length; i += step) {
      if (!rows[i].classList.contains('hidden')) { select(i); return; }
    }
  });
  document.querySelectorAll('button[data-follow]').forEach(function (b) {
    b.addEventListener('click', function () {
      var dir = b.dataset.follow;
      var session = selected >= 0 ? data.events[selected].s : (data.events[0] || {}).s;
      var actor = selected >= 0 && data.frames[String(selected)] ? data.events[selected].a : null;
      var out = '';
      for (var k = 0; k < data.events.length; k++) {
        var f = data.frames[String(k)];
        var ev = data.events[k];
        if (!f || ev.d !== dir || ev.s !== session || (actor !== null && ev.a !== actor)) continue;
        out += f.text;
        if (f.missing > 0) out += '[… ' + f.missing + ' bytes not recorded]';
      }
      text(document.getElementById('stream-title'), 'stream ' + dir + ', session ' + session + (actor ? ', as ' + actor + ' recorded it' : ''));
      text(document.getElementById('stream'), out);
    });
  });
  apply();
  if (rows.length > 0) select(0);
})();
`;

function checkboxes(name: string, legend: string, values: readonly string[]): string {
  const items = values.map((v) => `<label><input type="checkbox" data-filter="${name}" value="${escapeXml(v)}" checked> ${escapeXml(v === 'none' ? '(none)' : v)}</label>`);
  return `<fieldset id="filter-${name}"><legend>${legend}</legend>${items.join('')}</fieldset>`;
}

/** Bytes as readable text for "follow stream": printable ASCII and newlines as they are, others `\xHH`. */
function streamText(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b === 0x0a || b === 0x09 || (b >= 0x20 && b < 0x7f) ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return s;
}

/** JSON safe inside a `<script>` element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** A Graphviz SVG made fit for inlining: no XML prolog, doctype or comments, scaled by CSS. */
export function inlineStatechart(svg: string): string {
  const at = svg.indexOf('<svg');
  if (at < 0) return '';
  return svg
    .slice(at)
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/^<svg width="[^"]*" height="[^"]*"/, '<svg');
}

/** Options of {@link renderHtml}. */
export interface HtmlOptions {
  /**
   * Statecharts by machine id (the SVGs of diagrams/, as `npm run diagrams`
   * writes them): shown with the active state highlighted at the selected
   * event. Machines without one are left out.
   */
  readonly statecharts?: Readonly<Record<string, string>>;
}

function waterfallHtml(phases: readonly Phase[]): string {
  const out: string[] = [];
  for (const session of [...new Set(phases.map((p) => p.session))]) {
    const ps = phases.filter((p) => p.session === session);
    const t0 = Math.min(...ps.map((p) => p.from));
    const t1 = Math.max(...ps.map((p) => p.to));
    const span = t1 - t0 || 1;
    out.push(`<h3>session ${escapeXml(session)} <span class="note">(${escapeXml(ps[0]!.actor)}'s clock)</span></h3>`);
    for (const p of ps) {
      const left = ((p.from - t0) / span) * 100;
      const width = ((p.to - p.from) / span) * 100;
      out.push(
        `<div class="wf-row" data-phase="${p.name}"><span>${p.name}</span><div class="wf-track"><div class="wf-bar" style="left:${left.toFixed(2)}%;width:${width.toFixed(2)}%" title="${p.from.toFixed(4)} s – ${p.to.toFixed(4)} s"></div></div><span class="num">${ms(p.to - p.from)}</span></div>`,
      );
    }
  }
  return out.join('\n');
}

/**
 * One self-contained HTML page for a trace: the event table (Δt, each
 * command's reply and latency), a waterfall of each session's phases, a
 * frame inspector (full recorded bytes as hex and text, `run` arguments
 * decoded with the raw line one click away, "follow stream" per
 * direction), the machines' statecharts with the active state at the
 * selected event and its context, the state timeline and the sequence
 * diagram. Checkboxes by direction, actor and kind and a search over
 * summaries and payload text hide and show rows (and the diagram's arrows);
 * arrow keys step through the shown events. Inline CSS and JS only: the
 * page makes no request of any kind.
 */
export function renderHtml(events: readonly TraceEvent[], header?: TraceHeader | null, options: HtmlOptions = {}): string {
  const title = `stapflow trace${header?.source ? ` — ${header.source}` : ''}`;
  const end = events.length === 0 ? 0 : Math.max(...events.map((e) => e.t));
  const uniq = (f: (e: TraceEvent) => string, order: readonly string[]) => {
    const present = new Set(events.map(f));
    return [...order.filter((v) => present.has(v)), ...[...present].filter((v) => !order.includes(v)).sort()];
  };
  const dirs = uniq((e) => keys(e).dir, ['host->guest', 'guest->host', 'none']);
  const actors = uniq((e) => e.actor, ['host', 'guest', 'child', 'proxy']);
  const kinds = uniq((e) => e.kind, ['frame', 'state', 'child', 'transport']);
  const withSession = new Set(events.map((e) => e.session)).size > 1;
  const dirText = (e: TraceEvent) => (e.kind === 'frame' ? ARROW[e.direction as TraceDirection] : '');
  const pairs = pairCommands(events);
  const byCommand = new Map(pairs.map((p) => [p.command, p]));
  const byReply = new Map(pairs.flatMap((p) => (p.reply === null ? [] : [[p.reply, p] as const])));
  const frames: Record<string, unknown> = {};
  const states: unknown[] = [];
  const tableRows = events.map((e, i) => {
    let what = eventText(e);
    let search = what;
    let reply = '';
    if (e.kind === 'frame') {
      const fb = frameBytes(e);
      const run = e.frame === 'command' && e.command === 'run' ? decodeRunLine(e.summary) : null;
      if (run?.changed) what = `${run.decoded}  (${e.bytes} B)`;
      search = `${what} ${e.summary} ${e.preview ?? ''} ${streamText(fb.bytes)}`;
      frames[i] = {
        hex: hexDump(fb.bytes),
        total: fb.total,
        text: streamText(fb.bytes),
        missing: Math.max(0, fb.total - fb.bytes.length),
        ...(fb.note === undefined ? {} : { note: `${fb.bytes.length} of ${fb.total} bytes: ${fb.note}` }),
        ...(run?.changed ? { run: { decoded: run.decoded, raw: e.summary } } : {}),
      };
      const p = byCommand.get(i);
      if (p !== undefined) reply = pairText(events, p);
      const r = byReply.get(i);
      if (r !== undefined) reply = `answers ${(events[r.command] as TraceFrameEvent).command ?? 'command'}, ${ms(r.latency ?? 0)}`;
    }
    if (e.kind === 'state') states.push({ i, m: e.machine, s: e.session, t: e.t, to: e.to, ...(e.status === undefined ? {} : { status: e.status }), ...(e.context === undefined ? {} : { ctx: e.context }) });
    const dt = i === 0 ? 0 : e.t - events[i - 1]!.t;
    return (
      `<tr class="${e.kind}" ${dataAttrs(e)} data-i="${i}" data-text="${escapeXml(search.toLowerCase())}"><td class="num">${i + 1}</td><td class="num">${e.t.toFixed(4)}</td><td class="num">+${dt.toFixed(4)}</td>${withSession ? `<td>${escapeXml(e.session)}</td>` : ''}` +
      `<td>${e.actor}</td><td class="dir">${dirText(e)}</td><td>${e.kind}${e.kind === 'frame' ? ` (${e.frame})` : ''}</td><td class="what">${escapeXml(what)}</td><td>${escapeXml(reply)}</td></tr>`
    );
  });
  const data = { events: events.map((e) => ({ s: e.session, a: e.actor, d: e.kind === 'frame' ? e.direction : null })), frames, states };
  const machines = [...new Set(events.flatMap((e) => (e.kind === 'state' ? [e.machine] : [])))];
  const charts = machines
    .filter((m) => options.statecharts?.[m] !== undefined)
    .map(
      (m) =>
        `<div class="chart panel" data-machine="${escapeXml(m)}"><h3>${escapeXml(m)}: <span class="at"></span></h3><div class="svg">${inlineStatechart(options.statecharts![m]!)}</div><pre class="ctx"></pre></div>`,
    );
  const missingCharts = machines.filter((m) => options.statecharts?.[m] === undefined);
  const phases = sessionPhases(events, pairs);
  const lanes = stateLanes(events);
  const meta = header
    ? `format v${header.version}, started ${escapeXml(header.started)}${header.source ? `, ${escapeXml(header.source)}` : ''}; `
    : '';
  const alignment = header?.merged ? `<h2>Alignment</h2>\n<div class="panel"><pre id="alignment">${escapeXml(alignmentText(header.merged))}</pre></div>` : '';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${escapeXml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<div class="meta">${meta}${events.length} events, ${end.toFixed(4)} s. Click an event (or use ↑ ↓) to open its bytes and see the machines' states at that moment.</div>
${alignment}
<form id="filters">
${checkboxes('dir', 'direction', dirs)}
${checkboxes('actor', 'actor', actors)}
${checkboxes('kind', 'kind', kinds)}
<fieldset><legend>search (summaries and payload text)</legend><input id="search" type="search" placeholder="e.g. tick, ERROR, option"></fieldset>
</form>
<h2>Events (<span id="shown">${events.length}</span> shown)</h2>
<div class="panel" id="tablewrap">
<table id="events">
<thead><tr><th>#</th><th>t (s)</th><th>Δt (s)</th>${withSession ? '<th>session</th>' : ''}<th>actor</th><th>direction</th><th>kind</th><th>what</th><th>reply</th></tr></thead>
<tbody>
${tableRows.join('\n')}
</tbody>
</table>
</div>
<div id="inspector">
<div class="panel" id="detail">
<h3>Selected: <span id="sel-what"></span></h3>
<div id="bytes" class="hidden"><div class="note" id="bytes-note"></div><pre class="hex" id="hex"></pre></div>
<div id="run" class="hidden">run, arguments decoded from quoted-printable: <pre id="run-decoded"></pre><details><summary>raw (as sent)</summary><pre id="run-raw"></pre></details></div>
<div><button type="button" data-follow="host->guest">follow stream host → guest</button> <button type="button" data-follow="guest->host">follow stream guest → host</button> <span class="note" id="stream-title"></span></div>
<pre id="stream"></pre>
</div>
<div class="panel" id="phases">
<h3>Phases</h3>
<div class="wf">${waterfallHtml(phases) || '<span class="note">no phases: no commands in this trace</span>'}</div>
</div>
</div>
<h2>Statecharts</h2>
<div class="charts" id="charts">
${charts.join('\n') || '<div class="note">no state changes recorded (the trace holds only wire frames)</div>'}
</div>
${missingCharts.length > 0 ? `<div class="note">no statechart for: ${escapeXml(missingCharts.join(', '))}</div>` : ''}
<h2>State timeline</h2>
<div class="panel" id="timeline">
${timelineSvg(lanes, events.map((e) => e.t))}
<div class="note">time axis: half linear, half by event order${lanes.some((l) => l.inferred) ? '; * no recorded state changes for this actor: phases read off the wire' : ''}</div>
</div>
<h2>Sequence diagram</h2>
<div class="panel" id="diagram">
${renderSvg(events, { inline: true })}
</div>
<script type="application/json" id="trace-data">${scriptJson(data)}</script>
<script>${JS}</script>
</body>
</html>
`;
}

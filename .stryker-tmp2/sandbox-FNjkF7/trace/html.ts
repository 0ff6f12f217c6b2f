/**
 * Traces drawn as pictures, offline: a sequence diagram as SVG (drawn here,
 * no layout engine, no fonts to fetch) and one self-contained HTML page
 * with that diagram inline, a per-actor state timeline and filters. Pure:
 * no Node APIs, nothing loaded from the network (inline CSS and JS only).
 */
// @ts-nocheck


import type { TraceDirection, TraceEvent, TraceFrameEvent, TraceHeader } from './format.js';
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
      const left = Math.min(from, to) - 60;
      const width = Math.abs(to - from) + 120;
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
.meta { color: #666; margin-bottom: 1em; }
.panel { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .6em; overflow-x: auto; }
#filters fieldset { display: inline-block; border: 1px solid #ccc; border-radius: 4px; margin: 0 .8em .5em 0; padding: .2em .7em .4em; }
#filters label { margin-right: .8em; white-space: nowrap; }
table { border-collapse: collapse; font: 12px ui-monospace, 'DejaVu Sans Mono', monospace; width: 100%; }
th, td { text-align: left; padding: 2px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
th { background: #f0f2f5; position: sticky; top: 0; }
td.what { white-space: pre-wrap; word-break: break-all; }
tr.frame td.dir { color: #246; }
.hidden { display: none; }
.note { color: #777; font-size: 12px; }
`;

const JS = `
(function () {
  var boxes = document.querySelectorAll('#filters input[type=checkbox]');
  function apply() {
    var off = { dir: {}, actor: {}, kind: {} };
    boxes.forEach(function (b) { if (!b.checked) off[b.dataset.filter][b.value] = true; });
    var shown = 0;
    document.querySelectorAll('[data-kind]').forEach(function (el) {
      var hide = off.dir[el.dataset.dir] || off.actor[el.dataset.actor] || off.kind[el.dataset.kind];
      el.classList.toggle('hidden', !!hide);
      if (!hide && el.tagName === 'TR') shown++;
    });
    document.getElementById('shown').textContent = String(shown);
  }
  boxes.forEach(function (b) { b.addEventListener('change', apply); });
  apply();
})();
`;

function checkboxes(name: string, legend: string, values: readonly string[]): string {
  const items = values.map((v) => `<label><input type="checkbox" data-filter="${name}" value="${escapeXml(v)}" checked> ${escapeXml(v === 'none' ? '(none)' : v)}</label>`);
  return `<fieldset id="filter-${name}"><legend>${legend}</legend>${items.join('')}</fieldset>`;
}

/**
 * One self-contained HTML page for a trace: the sequence diagram (inline
 * SVG), a state timeline with host, guest and child lanes, and an event
 * table; checkboxes by direction, actor and kind hide and show table rows
 * and diagram arrows together. Inline CSS and JS only: the page makes no
 * request of any kind.
 */
export function renderHtml(events: readonly TraceEvent[], header?: TraceHeader | null): string {
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
  const tableRows = events.map(
    (e, i) =>
      `<tr class="${e.kind}" ${dataAttrs(e)} data-i="${i}"><td>${e.t.toFixed(4)}</td>${withSession ? `<td>${escapeXml(e.session)}</td>` : ''}` +
      `<td>${e.actor}</td><td class="dir">${dirText(e)}</td><td>${e.kind}${e.kind === 'frame' ? ` (${e.frame})` : ''}</td><td class="what">${escapeXml(eventText(e))}</td></tr>`,
  );
  const lanes = stateLanes(events);
  const meta = header
    ? `format v${header.version}, started ${escapeXml(header.started)}${header.source ? `, ${escapeXml(header.source)}` : ''}; `
    : '';
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
<div class="meta">${meta}${events.length} events, ${end.toFixed(4)} s</div>
<form id="filters">
${checkboxes('dir', 'direction', dirs)}
${checkboxes('actor', 'actor', actors)}
${checkboxes('kind', 'kind', kinds)}
</form>
<h2>State timeline</h2>
<div class="panel" id="timeline">
${timelineSvg(lanes, events.map((e) => e.t))}
<div class="note">time axis: half linear, half by event order${lanes.some((l) => l.inferred) ? '; * no recorded state changes for this actor: phases read off the wire' : ''}</div>
</div>
<h2>Sequence diagram</h2>
<div class="panel" id="diagram">
${renderSvg(events, { inline: true })}
</div>
<h2>Events (<span id="shown">${events.length}</span> shown)</h2>
<div class="panel">
<table id="events">
<thead><tr><th>t (s)</th>${withSession ? '<th>session</th>' : ''}<th>actor</th><th>direction</th><th>kind</th><th>what</th></tr></thead>
<tbody>
${tableRows.join('\n')}
</tbody>
</table>
</div>
<script>${JS}</script>
</body>
</html>
`;
}

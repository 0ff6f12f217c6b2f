/**
 * Several traces of the same sessions, recorded by different processes
 * (our host, `stapsh-proxy`, our guest), put on one timeline. Pure: no Node
 * APIs.
 *
 * - **Sessions** are matched by the hello nonce (`stap V nonce=TOKEN`) where
 *   there is one, else by content (the host's command lines) and order (the
 *   n-th such session of one trace goes with the n-th of another).
 * - **Frames** are numbered per session and direction (`seq`: a burst of
 *   `frames` data frames covers `seq … seq+frames-1`), so one frame has the
 *   same number on every side that recorded it.
 * - **Clocks**: a frame recorded by its sender is recorded by its receiver
 *   no earlier. Frames going one way bound the offset between two sides from
 *   below, frames going the other way from above; the offset is the middle
 *   of that interval and the error its half width (as NTP does with one
 *   exchange). Sides are chained host ← proxy ← guest. With frames one way
 *   only, the wall clocks of the headers are kept, moved just enough to
 *   respect causality, and the error is unknown.
 */

import type { MergeMember, TraceActor, TraceDirection, TraceEvent, TraceFrameEvent, TraceHeader } from './format.js';

/** One input trace. */
export interface MergeInput {
  /** A name for it (its file name). */
  readonly name: string;
  readonly header: TraceHeader | null;
  readonly events: readonly TraceEvent[];
}

export type { MergeMember };

export interface MergedTrace {
  readonly header: TraceHeader;
  readonly events: TraceEvent[];
  readonly members: readonly MergeMember[];
}

/** Where a side sits on the path host → proxy → guest. */
const POSITION: Record<string, number> = { host: 0, proxy: 1, guest: 2 };

interface Member {
  readonly input: number;
  readonly session: string;
  readonly actor: TraceActor;
  readonly events: TraceEvent[];
  /** Wall-clock second of its `t = 0`. */
  readonly base: number;
  readonly key: string;
  readonly by: 'nonce' | 'content';
  /** Frames by `direction seq`. */
  readonly seqs: Map<string, TraceFrameEvent>;
}

const NONCE = /(?:^|\s)nonce=(\S+)/;

/** Frames that both ends of a hop see the same: not the guest's separate stderr. */
const counted = (e: TraceFrameEvent) => e.frame !== 'stderr';

/**
 * Number the frames of one session per direction (see the module comment).
 * Returns the events with `seq` added to the counted frames.
 */
export function numberFrames(events: readonly TraceEvent[]): TraceEvent[] {
  const next = new Map<string, number>();
  return events.map((e) => {
    if (e.kind !== 'frame' || !counted(e)) return e;
    const key = `${e.session}\u0000${e.actor}\u0000${e.direction}`;
    const seq = next.get(key) ?? 0;
    next.set(key, seq + (e.frame === 'data' ? (e.frames ?? 1) : 1));
    return { ...e, seq };
  });
}

/** The interval the offset `d` (added to B's clock) lies in, from frames both A and B recorded. */
export interface OffsetBounds {
  /** Largest lower bound (−Infinity without one). */
  readonly lower: number;
  /** Smallest upper bound (Infinity without one). */
  readonly upper: number;
  readonly frames: number;
}

/**
 * Bounds on `d` such that every frame is received no earlier than sent:
 * for a frame A sent at `a` and B received at `b`, `d ≥ a − b`; for one B
 * sent at `b` and A received at `a`, `d ≤ a − b`.
 */
export function offsetBounds(pairs: readonly { readonly a: number; readonly b: number; readonly aSends: boolean }[]): OffsetBounds {
  let lower = -Infinity;
  let upper = Infinity;
  for (const p of pairs) {
    if (p.aSends) lower = Math.max(lower, p.a - p.b);
    else upper = Math.min(upper, p.a - p.b);
  }
  return { lower, upper, frames: pairs.length };
}

/** An offset and its error from bounds: the middle and half width; one-sided: as close to `prior` as the bound allows, error unknown. */
export function estimateOffset(bounds: OffsetBounds, prior = 0): { offset: number; error: number | null; inconsistent: boolean } {
  const { lower, upper } = bounds;
  if (Number.isFinite(lower) && Number.isFinite(upper)) {
    // Below a nanosecond (traces keep microseconds) a crossing is rounding, not a contradiction.
    return { offset: (lower + upper) / 2, error: Math.abs(upper - lower) / 2, inconsistent: lower - upper > 1e-9 };
  }
  if (Number.isFinite(lower)) return { offset: Math.max(prior, lower), error: null, inconsistent: false };
  if (Number.isFinite(upper)) return { offset: Math.min(prior, upper), error: null, inconsistent: false };
  return { offset: prior, error: null, inconsistent: false };
}

function membersOf(input: MergeInput, index: number): Member[] {
  const base = input.header === null ? 0 : Date.parse(input.header.started) / 1000;
  const sessions = new Map<string, TraceEvent[]>();
  for (const e of numberFrames(input.events)) {
    let list = sessions.get(e.session);
    if (list === undefined) sessions.set(e.session, (list = []));
    list.push(e);
  }
  const out: Member[] = [];
  for (const [session, events] of sessions) {
    const frames = events.filter((e): e is TraceFrameEvent => e.kind === 'frame');
    const actor = frames[0]?.actor ?? events[0]!.actor;
    let nonce: string | null = null;
    for (const f of frames) {
      const m = (f.frame === 'command' && f.command === 'stap') || (f.frame === 'reply' && f.reply === 'hello') ? NONCE.exec(f.summary) : null;
      if (m) {
        nonce = m[1]!;
        break;
      }
    }
    const content = frames
      .filter((f) => f.direction === 'host->guest' && f.frame === 'command')
      .map((f) => f.summary)
      .join('\n');
    const seqs = new Map<string, TraceFrameEvent>();
    for (const f of frames) if (f.seq !== undefined) seqs.set(`${f.direction} ${f.seq}`, f);
    out.push({ input: index, session, actor, events, base, key: nonce === null ? `content:${content}` : `nonce:${nonce}`, by: nonce === null ? 'content' : 'nonce', seqs });
  }
  return out;
}

/** Whether the side at position `a` sends frames going `dir` before the side at position `b` sees them. */
const sendsFirst = (dir: TraceDirection, a: number, b: number) => (dir === 'host->guest' ? a < b : a > b);

function bounds(a: Member, b: Member): OffsetBounds {
  const pa = POSITION[a.actor] ?? 1;
  const pb = POSITION[b.actor] ?? 1;
  const pairs: { a: number; b: number; aSends: boolean }[] = [];
  for (const [key, fa] of a.seqs) {
    const fb = b.seqs.get(key);
    if (fb === undefined) continue;
    pairs.push({ a: a.base + fa.t, b: b.base + fb.t, aSends: sendsFirst(fa.direction, pa, pb) });
  }
  return offsetBounds(pairs);
}

/**
 * Merge traces: match sessions, align clocks, renumber nothing (each side's
 * events are kept as it recorded them, with `origin` naming the side and
 * `seq` numbering frames), and sort everything by aligned time. `t = 0` is
 * the earliest aligned event's start of trace.
 */
export function mergeTraces(inputs: readonly MergeInput[]): MergedTrace {
  const all = inputs.flatMap(membersOf);
  // Group: same key; among equal keys of one input, by order of appearance.
  const groups = new Map<string, Member[][]>();
  const seen = new Map<string, number>();
  for (const m of all) {
    const occurrence = `${m.input}\u0000${m.key}`;
    const n = seen.get(occurrence) ?? 0;
    seen.set(occurrence, n + 1);
    let list = groups.get(m.key);
    if (list === undefined) groups.set(m.key, (list = []));
    (list[n] ??= []).push(m);
  }
  const placed: { member: Member; info: MergeMember }[] = [];
  const names = new Set<string>();
  for (const list of groups.values()) {
    for (const group of list) {
      const ordered = [...group].sort((p, q) => (POSITION[p.actor] ?? 1) - (POSITION[q.actor] ?? 1) || p.input - q.input);
      const reference = ordered[0]!;
      let merged = reference.session;
      for (let k = 2; names.has(merged); k++) merged = `${reference.session}#${k}`;
      names.add(merged);
      const by = group.length === 1 ? ('alone' as const) : reference.by;
      const offsets = new Map<Member, { offset: number; error: number | null }>([[reference, { offset: 0, error: null }]]);
      placed.push({ member: reference, info: { file: inputs[reference.input]!.name, session: reference.session, actor: reference.actor, merged, by, offset: 0, error: null, frames: 0 } });
      // Each other side against the nearest already placed one on the path (host ← proxy ← guest).
      for (const m of ordered.slice(1)) {
        let best: { to: Member; b: OffsetBounds } | null = null;
        // The side with the most frames in common, the nearest on the path on a tie (the guest aligns to the proxy).
        const near = (x: Member) => Math.abs((POSITION[x.actor] ?? 1) - (POSITION[m.actor] ?? 1));
        for (const to of offsets.keys()) {
          const b = bounds(to, m);
          if (best === null || b.frames > best.b.frames || (b.frames === best.b.frames && near(to) < near(best.to))) best = { to, b };
        }
        const to = best!.to;
        const base = offsets.get(to)!;
        // Relative to `to`'s raw clock (prior: the wall clocks agree), then `to`'s own offset added.
        const est = estimateOffset(best!.b, 0);
        const offset = est.offset + base.offset;
        const error = est.error === null ? null : est.error + (base.error ?? 0);
        offsets.set(m, { offset, error });
        placed.push({
          member: m,
          info: {
            file: inputs[m.input]!.name,
            session: m.session,
            actor: m.actor,
            merged,
            by,
            offset,
            error,
            frames: best!.b.frames,
            against: `${inputs[to.input]!.name}#${to.session}`,
            ...(est.inconsistent ? { inconsistent: true as const } : {}),
          },
        });
      }
    }
  }
  const starts = placed.map(({ member, info }) => member.base + info.offset);
  const t0 = starts.length === 0 ? 0 : Math.min(...starts);
  const tagged: { e: TraceEvent; at: number; order: number }[] = [];
  let order = 0;
  for (const { member, info } of placed) {
    for (const e of member.events) {
      const at = member.base + info.offset + e.t - t0;
      tagged.push({ e: { ...e, t: at, session: info.merged, origin: `${info.actor}:${info.file}` }, at, order: order++ });
    }
  }
  tagged.sort((p, q) => p.at - q.at || p.order - q.order);
  const header: TraceHeader = {
    type: 'header',
    version: 1,
    tool: 'stapflow',
    started: new Date(t0 * 1000).toISOString(),
    source: `merged: ${inputs.map((i) => i.name).join(', ')}`,
    merged: placed.map((p) => p.info),
  };
  return { header, events: tagged.map((x) => x.e), members: placed.map((p) => p.info) };
}

/** The alignment in words, one line per side placed against another. */
export function alignmentText(members: readonly MergeMember[]): string {
  const lines: string[] = [];
  for (const m of members) {
    const who = `${m.actor} ${m.file}#${m.session} → ${m.merged}`;
    if (m.against === undefined) {
      lines.push(`# ${who}: reference clock (matched by ${m.by})`);
      continue;
    }
    const err = m.error === null ? 'error unknown (frames seen one way only: wall clocks kept)' : `± ${(m.error * 1000).toFixed(3)} ms`;
    lines.push(`# ${who}: offset ${m.offset >= 0 ? '+' : ''}${(m.offset * 1000).toFixed(3)} ms ${err}, from ${m.frames} frames seen by both it and ${m.against}${m.inconsistent ? ' (INCONSISTENT: the frames contradict each other)' : ''}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * Reading a trace the way a browser's network panel reads requests: each
 * command paired with the reply that answered it (and the latency), and the
 * session's phases (hello, options, upload, run, streaming, quit) as a
 * waterfall. Pure: no Node APIs.
 */

import type { TraceActor, TraceEvent, TraceFrameEvent } from './format.js';

/** A command and the reply that answered it, by index into the event list. */
export interface Pair {
  readonly command: number;
  /** The reply's index, or null when none came. */
  readonly reply: number | null;
  /** Seconds from the command to its reply (null without one). */
  readonly latency: number | null;
}

/** Commands that expect exactly one reply line. */
const ANSWERED = new Set(['stap', 'option', 'file', 'run']);
/** Reply kinds that answer a command (debug lines, `quit` and `status` do not). */
const ANSWERS = new Set(['hello', 'ok', 'error', 'other']);

/**
 * Pair every command with its reply, per session and per recording side
 * (each side's own clock): replies answer the oldest unanswered command, in
 * order, as the protocol does. A `stap` is answered only by a hello or an
 * error (a stale line before the hello is no answer); replies nobody waited
 * for stay unpaired.
 */
export function pairCommands(events: readonly TraceEvent[]): Pair[] {
  const pending = new Map<string, number[]>();
  const pairs = new Map<number, { reply: number | null; latency: number | null }>();
  events.forEach((e, i) => {
    if (e.kind !== 'frame') return;
    const key = `${e.session}\u0000${e.actor}`;
    let queue = pending.get(key);
    if (queue === undefined) pending.set(key, (queue = []));
    if (e.frame === 'command' && e.direction === 'host->guest') {
      if (ANSWERED.has(e.command ?? '')) {
        queue.push(i);
        pairs.set(i, { reply: null, latency: null });
      }
      return;
    }
    if (e.frame !== 'reply' || e.direction !== 'guest->host' || !ANSWERS.has(e.reply ?? '')) return;
    const head = queue[0];
    if (head === undefined) return;
    const command = events[head] as TraceFrameEvent;
    if (command.command === 'stap' && e.reply !== 'hello' && e.reply !== 'error') return;
    queue.shift();
    pairs.set(head, { reply: i, latency: Math.max(0, e.t - command.t) });
  });
  return [...pairs].map(([command, p]) => ({ command, ...p })).sort((a, b) => a.command - b.command);
}

/** Milliseconds as text: `3.1 ms`, `0.042 ms`, `1250 ms`. */
export function ms(seconds: number): string {
  const v = seconds * 1000;
  return `${v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(3)} ms`;
}

/** A pair in words: `run → OK 3.1 ms`, `stap → (no reply)`. */
export function pairText(events: readonly TraceEvent[], pair: Pair): string {
  const c = events[pair.command] as TraceFrameEvent;
  if (pair.reply === null) return `${c.command ?? 'command'} → (no reply)`;
  const r = events[pair.reply] as TraceFrameEvent;
  const word = r.reply === 'hello' ? 'hello' : r.reply === 'ok' ? 'OK' : r.summary;
  return `${c.command ?? 'command'} → ${word} ${ms(pair.latency ?? 0)}`;
}

export type PhaseName = 'hello' | 'options' | 'upload' | 'run' | 'streaming' | 'quit';
export const PHASES: readonly PhaseName[] = ['hello', 'options', 'upload', 'run', 'streaming', 'quit'];

/** A stretch of a session, as one side saw it. */
export interface Phase {
  readonly session: string;
  /** Whose clock and view: the host's if it recorded frames, else the proxy's, else the guest's. */
  readonly actor: TraceActor;
  readonly name: PhaseName;
  readonly from: number;
  readonly to: number;
}

/**
 * The phases of every session: hello (`stap` to its hello), options (first
 * `option` to the last one's reply), upload (first `file` to the last
 * one's reply), run (`run` to its reply), streaming (from that reply to
 * the first `quit` either way, or the last frame), quit (from there to the
 * session's last event on that side). Read off one side's frames per session.
 */
export function sessionPhases(events: readonly TraceEvent[], pairs: readonly Pair[] = pairCommands(events)): Phase[] {
  const out: Phase[] = [];
  const byCommand = new Map(pairs.map((p) => [p.command, p]));
  const sessions = [...new Set(events.map((e) => e.session))];
  for (const session of sessions) {
    const framesOf = (a: TraceActor) => events.some((e) => e.session === session && e.kind === 'frame' && e.actor === a);
    const actor = (['host', 'proxy', 'guest'] as const).find(framesOf);
    if (actor === undefined) continue;
    const idx = events.map((e, i) => [e, i] as const).filter(([e]) => e.session === session && (e.actor === actor || (e.kind === 'transport' && e.actor === actor)));
    const last = idx.at(-1)?.[0].t ?? 0;
    const span = (name: PhaseName, commands: readonly number[]) => {
      if (commands.length === 0) return;
      const from = events[commands[0]!]!.t;
      const ends = commands.map((c) => {
        const p = byCommand.get(c);
        return p?.reply == null ? events[c]!.t : events[p.reply]!.t;
      });
      out.push({ session, actor, name, from, to: Math.max(from, ...ends) });
    };
    const commandsOf = (word: string) => idx.filter(([e]) => e.kind === 'frame' && e.frame === 'command' && e.command === word).map(([, i]) => i);
    span('hello', commandsOf('stap').slice(0, 1));
    span('options', commandsOf('option'));
    span('upload', commandsOf('file'));
    const run = commandsOf('run')[0];
    if (run !== undefined) {
      span('run', [run]);
      const reply = byCommand.get(run)?.reply;
      if (reply != null) {
        const start = events[reply]!.t;
        const quit = idx.find(([e, i]) => i > reply && e.kind === 'frame' && ((e.frame === 'command' && e.command === 'quit') || (e.frame === 'reply' && e.reply === 'quit')));
        const lastFrame = [...idx].reverse().find(([e]) => e.kind === 'frame')?.[0].t ?? start;
        const end = quit?.[0].t ?? lastFrame;
        out.push({ session, actor, name: 'streaming', from: start, to: Math.max(start, end) });
        if (quit !== undefined) out.push({ session, actor, name: 'quit', from: quit[0].t, to: Math.max(quit[0].t, last) });
      }
    } else {
      const quit = idx.find(([e]) => e.kind === 'frame' && e.frame === 'command' && e.command === 'quit');
      if (quit !== undefined) out.push({ session, actor, name: 'quit', from: quit[0].t, to: Math.max(quit[0].t, last) });
    }
  }
  return out;
}

/** The phases as a text waterfall, one line each, bars on a shared `width`-column axis per session. */
export function renderWaterfall(phases: readonly Phase[], width = 40): string {
  const lines: string[] = [];
  for (const session of [...new Set(phases.map((p) => p.session))]) {
    const ps = phases.filter((p) => p.session === session);
    const t0 = Math.min(...ps.map((p) => p.from));
    const t1 = Math.max(...ps.map((p) => p.to));
    const scale = t1 > t0 ? width / (t1 - t0) : 0;
    lines.push(`phases of session ${session} (${ps[0]!.actor}'s clock)`);
    for (const p of ps) {
      const a = Math.min(width - 1, Math.floor((p.from - t0) * scale));
      const b = Math.max(a + 1, Math.min(width, Math.ceil((p.to - t0) * scale)));
      lines.push(`  ${p.name.padEnd(9)} ${p.from.toFixed(4).padStart(10)}  ${ms(p.to - p.from).padStart(10)}  |${' '.repeat(a)}${'#'.repeat(b - a)}${' '.repeat(width - b)}|`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

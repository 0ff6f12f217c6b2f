/**
 * Statecharts drawn from the machine definitions themselves: XState's
 * serialised machine (states, transitions with guards, actions and delays,
 * invocations) to Mermaid `stateDiagram-v2` source and to Graphviz DOT
 * (rendered to SVG offline by @hpcc-js/wasm-graphviz). No converter for
 * XState 5 is maintained, and this one is small.
 */
// @ts-nocheck


import type { AnyStateMachine } from 'xstate';

interface JsonTransition {
  readonly target?: readonly string[];
  readonly eventType: string | null;
  readonly guard?: unknown;
  readonly actions?: readonly unknown[];
  readonly delay?: unknown;
}

interface JsonState {
  readonly id: string;
  readonly key: string;
  readonly type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  readonly initial?: { readonly target: readonly string[] };
  readonly states: Record<string, JsonState>;
  readonly transitions: readonly JsonTransition[];
  readonly entry?: readonly unknown[];
  readonly invoke?: readonly { readonly src: unknown; readonly id: string }[];
  readonly tags?: readonly string[];
}

const nodeId = (id: string) => id.replace(/^#/, '').replace(/[^A-Za-z0-9_]/g, '_');

function nameOf(x: unknown): string {
  if (typeof x === 'string') return x;
  if (x && typeof x === 'object' && 'type' in x && typeof (x as { type: unknown }).type === 'string') {
    return (x as { type: string }).type;
  }
  return 'inline';
}

function eventLabel(t: JsonTransition): string {
  if (t.delay !== undefined) return `after ${nameOf(t.delay)}`;
  if (t.eventType === '' || t.eventType === null) return 'always';
  if (t.eventType.startsWith('xstate.done.actor.')) return 'done';
  if (t.eventType.startsWith('xstate.error.actor.')) return 'error';
  return t.eventType;
}

/**
 * The actions worth drawing: XState implements `after` with raise/cancel
 * entry and exit actions, which the `after` edge already shows.
 */
function drawn(actions: readonly unknown[] | undefined): string[] {
  return (actions ?? []).map(nameOf).filter((a) => a !== 'xstate.raise' && a !== 'xstate.cancel');
}

/** A guard's name; `and([...])`, `or([...])`, `not(...)` (functions, lost in the JSON form) spelled out from their parts. */
function guardName(g: unknown): string {
  if (typeof g === 'function' && Array.isArray((g as { guards?: unknown }).guards)) {
    const parts = ((g as unknown as { guards: unknown[] }).guards).map(guardName);
    if (g.name === 'not') return `!${parts[0]}`;
    return parts.join(g.name === 'or' ? ' | ' : ' & ');
  }
  return nameOf(g);
}

function label(t: JsonTransition): string {
  let s = eventLabel(t);
  if (t.guard !== undefined) s += ` [${guardName(t.guard)}]`;
  const actions = drawn(t.actions);
  if (actions.length > 0) s += ` / ${actions.join(', ')}`;
  // Mermaid ends a label at ':' on some renderers and has trouble with ';'.
  return s.replace(/[:;]/g, ' ');
}

/** Tags, entry actions and invocations of a state, one line each. */
function stateNotes(state: JsonState): string[] {
  const notes: string[] = [];
  if (state.tags && state.tags.length > 0) notes.push(`tags: ${state.tags.join(', ')}`);
  const entry = drawn(state.entry);
  if (entry.length > 0) notes.push(`entry / ${entry.join(', ')}`);
  for (const inv of state.invoke ?? []) notes.push(`invoke ${nameOf(inv.src)}`);
  return notes;
}

/**
 * A state's transitions from the serialised form, with the guards taken from
 * the live node: combined guards (`and`, `not`) are functions the JSON form drops.
 */
function transitionsOf(machine: AnyStateMachine, state: JsonState): JsonTransition[] {
  const node = machine.getStateNodeById(state.id) as unknown as { transitions: Map<string, readonly { guard?: unknown }[]> };
  const seen = new Map<string, number>();
  return state.transitions.map((t) => {
    const key = t.eventType ?? '';
    const i = seen.get(key) ?? 0;
    seen.set(key, i + 1);
    const guard = node.transitions.get(key)?.[i]?.guard;
    return guard === undefined ? t : { ...t, guard };
  });
}

/** Eventless (`always`) transitions are not in the serialised form: read them off the live node. */
function alwaysOf(machine: AnyStateMachine, state: JsonState): JsonTransition[] {
  const node = machine.getStateNodeById(state.id) as unknown as {
    always?: readonly { target?: readonly { id: string }[]; guard?: unknown; actions?: readonly unknown[] }[];
  };
  return (node.always ?? []).map((t) => ({
    eventType: '',
    ...(t.target ? { target: t.target.map((x) => `#${x.id}`) } : {}),
    ...(t.guard !== undefined ? { guard: t.guard } : {}),
    actions: t.actions ?? [],
  }));
}

/** Mermaid stateDiagram-v2 source for a machine. */
export function toMermaid(machine: AnyStateMachine): string {
  const root = JSON.parse(JSON.stringify(machine)) as JsonState;
  const lines: string[] = ['stateDiagram-v2', `  %% generated from machine '${root.id}' by cli/diagrams; do not edit`];
  const walk = (state: JsonState, indent: string) => {
    const children = Object.values(state.states);
    const initial = state.initial?.target[0];
    if (initial) lines.push(`${indent}[*] --> ${nodeId(initial)}`);
    for (const child of children) {
      const id = nodeId(child.id);
      const notes = stateNotes(child);
      if (Object.keys(child.states).length > 0) {
        lines.push(`${indent}state "${child.key}" as ${id} {`);
        walk(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}state "${child.key}" as ${id}`);
      }
      for (const n of notes) lines.push(`${indent}${id} : ${n.replace(/[:;]/g, ' ')}`);
      if (child.type === 'final') lines.push(`${indent}${id} --> [*]`);
      const always = alwaysOf(machine, child);
      for (const t of [...transitionsOf(machine, child), ...always]) {
        const target = t.target?.[0];
        if (target) lines.push(`${indent}${id} --> ${nodeId(target)} : ${label(t)}`);
        else lines.push(`${indent}${id} : on ${label(t)}`);
      }
    }
  };
  walk(root, '  ');
  return `${lines.join('\n')}\n`;
}

/** Text safe inside a DOT double-quoted string. */
const dotString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/** Widest label line, in characters: keeps the chart readable on a laptop screen. */
const LABEL_WIDTH = 24;

/** Words joined by `sep` into lines of at most LABEL_WIDTH characters (a longer word stays whole). */
function wrap(words: readonly string[], sep: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line !== '' && line.length + sep.length + w.length > LABEL_WIDTH) {
      lines.push(`${line}${sep.trimEnd()}`);
      line = `${indent}${w}`;
    } else line = line === '' ? w : `${line}${sep}${w}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** A targetless transition listed inside its state: `on EVENT [guard]`, then its actions wrapped. */
function noteLines(t: JsonTransition): string[] {
  const head = `on ${eventLabel(t)}${t.guard === undefined ? '' : ` [${guardName(t.guard)}]`}`;
  const actions = drawn(t.actions);
  return actions.length === 0 ? [head] : [head, ...wrap([`  / ${actions[0]}`, ...actions.slice(1)], ', ', '    ')];
}

/**
 * A transition's DOT label, one part a line: `EVENT`, `[guard]`,
 * `/ actions` (wrapped). DOT quotes anything.
 */
function dotLabel(t: JsonTransition): string {
  const lines = [eventLabel(t)];
  if (t.guard !== undefined) lines.push(`[${guardName(t.guard)}]`);
  const actions = drawn(t.actions);
  if (actions.length > 0) lines.push(...wrap([`/ ${actions[0]}`, ...actions.slice(1)], ', ', '  '));
  return lines.join('\n');
}

/**
 * Graphviz DOT source for a machine, from the same serialised data as
 * {@link toMermaid}: compound states are clusters (`compound=true`; an edge
 * to or from a compound state attaches to its cluster through an invisible
 * anchor node with `lhead`/`ltail`), atomic states are rounded boxes whose
 * label lists tags, entry actions and invocations, final states are double
 * boxes, each level's initial state has a filled start dot, and edges are
 * labelled `EVENT [guard] / actions`. Deterministic: output depends only on
 * the machine.
 */
export function toDot(machine: AnyStateMachine): string {
  const root = JSON.parse(JSON.stringify(machine)) as JsonState;
  const compound = new Set<string>();
  const collect = (s: JsonState) => {
    for (const c of Object.values(s.states)) {
      if (Object.keys(c.states).length > 0) compound.add(nodeId(c.id));
      collect(c);
    }
  };
  collect(root);
  const anchor = (id: string) => (compound.has(id) ? `${id}__anchor` : id);
  const clusterOf = (id: string) => `cluster_${id}`;
  const lines: string[] = [
    `digraph ${dotString(root.id)} {`,
    `  // generated from machine '${root.id}' by cli/diagrams; do not edit`,
    '  graph [compound=true, rankdir=TB, fontname="Helvetica", fontsize=12, nodesep=0.15, ranksep=0.35, newrank=true];',
    '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  const edges: string[] = [];
  let starts = 0;
  const walk = (state: JsonState, indent: string) => {
    const initial = state.initial?.target[0];
    if (initial) {
      const start = `__start${starts++}`;
      lines.push(`${indent}${start} [shape=point, width=0.15, label=""];`);
      const to = nodeId(initial);
      edges.push(`  ${start} -> ${anchor(to)}${compound.has(to) ? ` [lhead=${clusterOf(to)}]` : ''};`);
    }
    for (const child of Object.values(state.states)) {
      const id = nodeId(child.id);
      const notes = stateNotes(child);
      const always = alwaysOf(machine, child);
      // Targetless transitions are listed inside the state.
      for (const t of [...transitionsOf(machine, child), ...always]) if (!t.target?.[0]) notes.push(...noteLines(t));
      const text = [child.key, ...notes].join('\n');
      if (compound.has(id)) {
        lines.push(`${indent}subgraph ${clusterOf(id)} {`);
        lines.push(`${indent}  label=${dotString(text)}; style="rounded"; labeljust=l;`);
        lines.push(`${indent}  ${anchor(id)} [shape=point, style=invis, width=0.01, label=""];`);
        walk(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        const shape = child.type === 'final' ? ', peripheries=2' : '';
        lines.push(`${indent}${id} [label=${dotString(text)}${shape}];`);
      }
      for (const t of [...transitionsOf(machine, child), ...always]) {
        const target = t.target?.[0];
        if (!target) continue;
        const to = nodeId(target);
        const raw = target.replace(/^#/, '');
        const attrs = [`label=${dotString(dotLabel(t))}`];
        // Clip at a cluster's border only when the other end is outside it.
        if (compound.has(id) && !raw.startsWith(`${child.id}.`) && raw !== child.id) attrs.push(`ltail=${clusterOf(id)}`);
        if (compound.has(to) && !child.id.startsWith(`${raw}.`) && raw !== child.id) attrs.push(`lhead=${clusterOf(to)}`);
        edges.push(`  ${anchor(id)} -> ${anchor(to)} [${attrs.join(', ')}];`);
      }
    }
  };
  walk(root, '  ');
  return `${[...lines, ...edges, '}'].join('\n')}\n`;
}

/** Render DOT source to SVG with Graphviz compiled to WebAssembly (offline, deterministic). */
export async function dotToSvg(dot: string): Promise<string> {
  const { Graphviz } = await import('@hpcc-js/wasm-graphviz');
  const graphviz = await Graphviz.load();
  return graphviz.dot(dot);
}

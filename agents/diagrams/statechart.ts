/**
 * Statecharts drawn from the machine definitions themselves: XState's
 * serialised machine (states, transitions with guards, actions and delays,
 * invocations) to Mermaid `stateDiagram-v2` source. No converter for
 * XState 5 is maintained, and this one is small.
 */

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

function label(t: JsonTransition): string {
  let s = eventLabel(t);
  if (t.guard !== undefined) s += ` [${nameOf(t.guard)}]`;
  const actions = (t.actions ?? []).map(nameOf);
  if (actions.length > 0) s += ` / ${actions.join(', ')}`;
  // Mermaid ends a label at ':' on some renderers and has trouble with ';'.
  return s.replace(/[:;]/g, ' ');
}

/** Mermaid stateDiagram-v2 source for a machine. */
export function toMermaid(machine: AnyStateMachine): string {
  const root = JSON.parse(JSON.stringify(machine)) as JsonState;
  const lines: string[] = ['stateDiagram-v2', `  %% generated from machine '${root.id}' by agents/diagrams; do not edit`];
  const walk = (state: JsonState, indent: string) => {
    const children = Object.values(state.states);
    const initial = state.initial?.target[0];
    if (initial) lines.push(`${indent}[*] --> ${nodeId(initial)}`);
    for (const child of children) {
      const id = nodeId(child.id);
      const notes: string[] = [];
      if (child.tags && child.tags.length > 0) notes.push(`tags: ${child.tags.join(', ')}`);
      if (child.entry && child.entry.length > 0) notes.push(`entry / ${child.entry.map(nameOf).join(', ')}`);
      for (const inv of child.invoke ?? []) notes.push(`invoke ${nameOf(inv.src)}`);
      if (Object.keys(child.states).length > 0) {
        lines.push(`${indent}state "${child.key}" as ${id} {`);
        walk(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}state "${child.key}" as ${id}`);
      }
      for (const n of notes) lines.push(`${indent}${id} : ${n.replace(/[:;]/g, ' ')}`);
      if (child.type === 'final') lines.push(`${indent}${id} --> [*]`);
      // Eventless (`always`) transitions are not in the serialised form: read them off the node.
      const node = machine.getStateNodeById(child.id) as unknown as {
        always?: readonly { target?: readonly { id: string }[]; guard?: unknown; actions?: readonly unknown[] }[];
      };
      const always: JsonTransition[] = (node.always ?? []).map((t) => ({
        eventType: '',
        ...(t.target ? { target: t.target.map((x) => `#${x.id}`) } : {}),
        ...(t.guard !== undefined ? { guard: t.guard } : {}),
        actions: t.actions ?? [],
      }));
      for (const t of [...child.transitions, ...always]) {
        const target = t.target?.[0];
        if (target) lines.push(`${indent}${id} --> ${nodeId(target)} : ${label(t)}`);
        else lines.push(`${indent}${id} : on ${label(t)}`);
      }
    }
  };
  walk(root, '  ');
  return `${lines.join('\n')}\n`;
}

/**
 * Model-based testing support on top of `xstate/graph` (XState 5.33).
 *
 * A model is a machine plus a small, explicit "environment" (what the
 * machine cannot know but a replay must respect: is the child process
 * spawned yet, was a timer armed...). It is wrapped as an ActorLogic whose
 * snapshot is `{ machine, env }`, so `getAdjacencyMap` / `getShortestPaths`
 * traverse it with abstract state keys (`serialize`) and per-state event
 * lists (`events`).
 *
 * Paths: one shortest path to every abstract state, plus, for every edge of
 * the adjacency map, the shortest path to its source followed by that edge
 * (so self-loops and action-only transitions are in some path too); paths
 * that are a prefix of another are dropped.
 *
 * Each model step is computed with a private actor scope that records the
 * transitions XState selected (`@xstate.microstep` inspection events) and
 * the events the machine emitted (`emit`), so coverage is measured against
 * the machine definition and replays can be compared with what the model
 * said would be written.
 */
// @ts-nocheck


import { createEmptyActor, type AnyEventObject, type AnyStateMachine } from 'xstate';
import { getAdjacencyMap, getShortestPaths, getStateNodes } from 'xstate/graph';
import { expect } from 'vitest';
import { mulberry32 } from '../../protocol/random.js';

type AnySnapshot = any;
type AnyTransition = any;

/** A readable, stable key for one transition definition (source, event, branch, guard, targets). */
export function transitionKey(t: AnyTransition): string {
  const source = t.source.id as string;
  const event = (t.eventType as string) === '' ? 'always' : (t.eventType as string);
  const list: AnyTransition[] = event === 'always' ? t.source.always ?? [] : t.source.transitions.get(t.eventType) ?? [];
  const index = list.indexOf(t);
  const g = t.guard;
  const guard = g === undefined ? '' : typeof g === 'string' ? g : typeof g === 'object' && g !== null && 'type' in g ? String(g.type) : typeof g === 'function' ? g.name || 'inline' : '?';
  const targets = t.target ? (t.target as any[]).map((n) => n.id).join(',') : '(no target)';
  return `${source} ${event}#${index}${guard ? ` [${guard}]` : ''} -> ${targets}${t.reenter ? ' (reenter)' : ''}`;
}

/** Every nested state node id of the machine (the root excluded). */
export function definedStates(machine: AnyStateMachine): string[] {
  return getStateNodes(machine.root).map((n) => n.id);
}

/** Every transition definition of the machine: `on`, `after`, invoke done/error, `always`, on every node and the root. */
export function definedTransitions(machine: AnyStateMachine): string[] {
  const keys: string[] = [];
  for (const node of [machine.root, ...getStateNodes(machine.root)] as any[]) {
    for (const defs of node.transitions.values() as Iterable<AnyTransition[]>) for (const t of defs) keys.push(transitionKey(t));
    for (const t of (node.always ?? []) as AnyTransition[]) keys.push(transitionKey(t));
  }
  return keys;
}

/** One step of the model: what the machine did for one event. */
export interface Traced {
  readonly snapshot: AnySnapshot;
  readonly emitted: AnyEventObject[];
  /** Events the step sends (`sendTo`, `sendParent`), resolved but not delivered: `to` is `#parent` or the child's id. */
  readonly sent: { to: string; event: AnyEventObject }[];
  readonly transitions: string[];
  /** State nodes active during the step (transient ones included) and after it. */
  readonly states: string[];
}

const activeStates = (snapshot: AnySnapshot): string[] => (snapshot._nodes as any[]).filter((n) => n.parent).map((n) => n.id);

function privateScope() {
  const self: any = createEmptyActor();
  // `sendParent` only needs a parent to resolve; nothing is delivered (actions are not executed).
  self._parent = createEmptyActor();
  const emitted: AnyEventObject[] = [];
  const sent: { to: string; event: AnyEventObject }[] = [];
  const transitions: string[] = [];
  const states = new Set<string>();
  self.system.inspect((e: any) => {
    if (e.type !== '@xstate.microstep') return;
    for (const t of e._transitions as AnyTransition[]) {
      transitions.push(transitionKey(t));
      // A transition's source was active, also a transient initial state (its snapshot is never inspected).
      states.add(t.source.id);
    }
    // Transient states (left at once by `always`) are active only between microsteps.
    for (const id of activeStates(e.snapshot)) states.add(id);
  });
  const scope = {
    self,
    logger: () => undefined,
    id: '',
    sessionId: 'model',
    defer: (fn: () => void) => fn(),
    system: self.system,
    stopChild: () => undefined,
    emit: (e: AnyEventObject) => emitted.push(e),
    // Only `emit` is executed (collected); sends, spawns and timers stay unexecuted.
    actionExecutor: (a: any) => {
      if (a.type === 'xstate.emit' && a.exec) a.exec(a.info, a.params);
      if (a.type === 'xstate.sendTo' && a.params && a.params.delay === undefined) {
        sent.push({ to: a.params.to === self._parent ? '#parent' : String(a.params.targetId ?? a.params.to?.id ?? '?'), event: a.params.event });
      }
    },
  };
  return { scope, emitted, sent, transitions, states };
}

export function traceInitial(machine: AnyStateMachine, input: unknown): Traced {
  const { scope, emitted, sent, transitions, states } = privateScope();
  const snapshot = machine.getInitialSnapshot(scope as any, input);
  return { snapshot, emitted, sent, transitions, states: [...new Set([...states, ...activeStates(snapshot)])] };
}

export function traceStep(machine: AnyStateMachine, snapshot: AnySnapshot, event: AnyEventObject): Traced {
  const { scope, emitted, sent, transitions, states } = privateScope();
  const next = machine.transition(snapshot, event, scope as any);
  return { snapshot: next, emitted, sent, transitions, states: [...new Set([...states, ...activeStates(next)])] };
}

export interface ModelSnapshot<E> {
  readonly machine: AnySnapshot;
  readonly env: E;
  /** For the traversal's status checks. */
  readonly status: string;
  readonly output: unknown;
  readonly error: unknown;
}

export interface ModelSpec<E> {
  readonly machine: AnyStateMachine;
  readonly input: unknown;
  readonly env: E;
  /** The events that make sense in this state and environment. */
  readonly events: (snapshot: AnySnapshot, env: E) => AnyEventObject[];
  /** The environment after `event` took the machine from `before` to `after`. */
  readonly nextEnv?: (env: E, event: AnyEventObject, before: AnySnapshot, after: AnySnapshot) => E;
  /** The abstract state: what distinguishes states for the traversal (the state value is always part of it). */
  readonly abstract: (snapshot: AnySnapshot, env: E) => unknown;
}

export function modelLogic<E>(spec: ModelSpec<E>) {
  const wrap = (machine: AnySnapshot, env: E): ModelSnapshot<E> => ({ machine, env, status: machine.status, output: machine.output, error: machine.error });
  return {
    config: {},
    transition: (s: ModelSnapshot<E>, event: AnyEventObject) => {
      const next = traceStep(spec.machine, s.machine, event).snapshot;
      return wrap(next, spec.nextEnv ? spec.nextEnv(s.env, event, s.machine, next) : s.env);
    },
    start: () => undefined,
    getInitialSnapshot: () => wrap(traceInitial(spec.machine, spec.input).snapshot, spec.env),
    getPersistedSnapshot: (s: ModelSnapshot<E>) => s,
  };
}

export function serializeModel<E>(spec: ModelSpec<E>, s: ModelSnapshot<E>): string {
  return JSON.stringify({ value: s.machine.value, status: s.machine.status, a: spec.abstract(s.machine, s.env) });
}

export interface ModelPath<E> {
  readonly events: AnyEventObject[];
  /** The model's steps: initial first, then one per event. */
  readonly steps: (Traced & { env: E })[];
  readonly key: string;
}

const eventKey = (e: AnyEventObject) => JSON.stringify(e, (_k, v) => (v instanceof Uint8Array ? `bytes:${Buffer.from(v).toString('latin1')}` : v));

/** Replay a list of events through the model, step by step. */
export function walk<E>(spec: ModelSpec<E>, events: readonly AnyEventObject[]): ModelPath<E> {
  const first = traceInitial(spec.machine, spec.input);
  const steps: (Traced & { env: E })[] = [{ ...first, env: spec.env }];
  for (const e of events) {
    const prev = steps[steps.length - 1]!;
    const t = traceStep(spec.machine, prev.snapshot, e);
    steps.push({ ...t, env: spec.nextEnv ? spec.nextEnv(prev.env, e, prev.snapshot, t.snapshot) : prev.env });
  }
  return { events: [...events], steps, key: events.map(eventKey).join(' ') };
}

export interface Generated<E> {
  readonly paths: ModelPath<E>[];
  readonly abstractStates: number;
  readonly edges: number;
}

/** Shortest paths to every abstract state and through every adjacency edge, prefix-deduplicated. */
export function generatePaths<E>(spec: ModelSpec<E>): Generated<E> {
  const logic = modelLogic(spec) as any;
  const options = {
    serializeState: (s: ModelSnapshot<E>) => serializeModel(spec, s),
    serializeEvent: eventKey,
    events: (s: ModelSnapshot<E>) => (s.machine.status === 'active' ? spec.events(s.machine, s.env) : []),
    limit: 100_000,
  } as any;
  const adjacency = getAdjacencyMap(logic, options) as unknown as Record<string, { state: ModelSnapshot<E>; transitions: Record<string, { event: AnyEventObject }> }>;
  const shortest = getShortestPaths(logic, options) as { state: ModelSnapshot<E>; steps: { event: AnyEventObject }[] }[];
  const toState = new Map<string, AnyEventObject[]>();
  for (const p of shortest) {
    // `steps[0]` is the synthetic xstate.init step.
    toState.set(serializeModel(spec, p.state), p.steps.slice(1).map((s) => s.event));
  }
  const candidates: AnyEventObject[][] = [...toState.values()];
  let edges = 0;
  for (const [key, value] of Object.entries(adjacency)) {
    const head = toState.get(key);
    if (head === undefined) continue;
    for (const t of Object.values(value.transitions)) {
      edges += 1;
      candidates.push([...head, t.event]);
    }
  }
  const keyed = candidates.map((events) => ({ events, key: events.map(eventKey) }));
  keyed.sort((a, b) => b.key.length - a.key.length);
  const kept: typeof keyed = [];
  outer: for (const c of keyed) {
    for (const k of kept) if (c.key.every((e, i) => k.key[i] === e)) continue outer;
    kept.push(c);
  }
  kept.reverse();
  return { paths: kept.map((k) => walk(spec, k.events)), abstractStates: Object.keys(adjacency).length, edges };
}

export interface Coverage {
  readonly states: { covered: string[]; missing: string[]; total: number };
  readonly transitions: { covered: string[]; missing: string[]; total: number };
}

/** States and transitions of the definition visited by these model paths (or by recorded replays). */
export function coverage(machine: AnyStateMachine, visited: { states: Iterable<string>; transitions: Iterable<string> }): Coverage {
  const allStates = definedStates(machine);
  const allTransitions = definedTransitions(machine);
  const vs = new Set(visited.states);
  const vt = new Set(visited.transitions);
  return {
    states: { covered: allStates.filter((s) => vs.has(s)), missing: allStates.filter((s) => !vs.has(s)), total: allStates.length },
    transitions: { covered: allTransitions.filter((t) => vt.has(t)), missing: allTransitions.filter((t) => !vt.has(t)), total: allTransitions.length },
  };
}

export function visitedBy<E>(paths: readonly ModelPath<E>[]): { states: Set<string>; transitions: Set<string> } {
  const states = new Set<string>();
  const transitions = new Set<string>();
  for (const p of paths)
    for (const s of p.steps) {
      s.states.forEach((x) => states.add(x));
      s.transitions.forEach((x) => transitions.add(x));
    }
  return { states, transitions };
}

/** One generated path set, as the model tests print it. */
export interface PathGroup<E> {
  readonly name: string;
  readonly paths: readonly ModelPath<E>[];
  readonly abstractStates: number;
  readonly edges: number;
}

/**
 * The coverage check every machine's model test makes: the groups' paths
 * together visit every state and every transition but those declared
 * unreachable (with a reason), and no declared one is in fact taken.
 */
export function expectFullCoverage<E>(name: string, machine: AnyStateMachine, groups: readonly PathGroup<E>[], unreachable: Readonly<Record<string, string>>): void {
  const visited = { states: new Set<string>(), transitions: new Set<string>() };
  for (const g of groups) {
    const v = visitedBy(g.paths);
    v.states.forEach((s) => visited.states.add(s));
    v.transitions.forEach((t) => visited.transitions.add(t));
    console.log(`${name} [${g.name}]: ${g.paths.length} paths over ${g.abstractStates} abstract states, ${g.edges} edges; ${coverageLine(name, coverage(machine, v))}`);
  }
  const c = coverage(machine, visited);
  console.log(coverageLine(name, c));
  expect(c.states.missing).toEqual([]);
  expect(c.transitions.missing.filter((t) => !(t in unreachable))).toEqual([]);
  // An "unreachable" transition that some path does take is a stale entry.
  expect(Object.keys(unreachable).filter((t) => c.transitions.covered.includes(t))).toEqual([]);
}

export function coverageLine(name: string, c: Coverage): string {
  return `${name}: states ${c.states.covered.length}/${c.states.total}, transitions ${c.transitions.covered.length}/${c.transitions.total}`;
}

/** The project's seeded PRNG, for sampling paths with a fixed seed. */
export const seededRandom = mulberry32;

/** Events the machine emitted on this step, as written bytes per stream (latin1). */
export function wireOf(emitted: readonly AnyEventObject[]): { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  for (const e of emitted) {
    if (e.type !== 'wire') continue;
    const text = Buffer.from(e.bytes as Uint8Array).toString('latin1');
    if (e.stream === 'stdout') stdout += text;
    else stderr += text;
  }
  return { stdout, stderr };
}

/** Events of delayed transitions (`after`) and invoked actors' completions the active states handle. */
export function internalEvents(snapshot: AnySnapshot, filter: (type: string) => boolean = () => true): AnyEventObject[] {
  const types = new Set<string>();
  for (const node of snapshot._nodes as any[]) {
    for (const type of node.transitions.keys() as Iterable<string>) {
      if ((type.startsWith('xstate.after.') || type.startsWith('xstate.done.actor.') || type.startsWith('xstate.error.actor.')) && filter(type)) types.add(type);
    }
  }
  return [...types].map((type) => (type.startsWith('xstate.error.') ? { type, error: new Error('failed') } : { type }));
}

/** A manual clock for `createActor(..., { clock })`: the replay fires the timers a model step names. */
export function manualClock() {
  let next = 1;
  const timers = new Map<number, { fn: () => void; ms: number }>();
  return {
    clock: {
      setTimeout: (fn: (...args: any[]) => void, ms: number) => {
        const id = next++;
        timers.set(id, { fn, ms });
        return id as any;
      },
      clearTimeout: (id: any) => void timers.delete(id as number),
    },
    /** Fire the oldest pending timer whose delay matches; false when there is none. */
    fire(match: (ms: number) => boolean): boolean {
      for (const [id, t] of timers) {
        if (!match(t.ms)) continue;
        timers.delete(id);
        t.fn();
        return true;
      }
      return false;
    },
    pending: () => [...timers.values()].map((t) => t.ms),
  };
}

export const settle = async (): Promise<void> => {
  for (let i = 0; i < 6; i++) await new Promise((r) => setImmediate(r));
};

/** Emitted events, comparable (bytes as latin1 text). */
export function describeEmitted(events: readonly AnyEventObject[]): string[] {
  return events.map((e) => JSON.stringify(e, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)));
}

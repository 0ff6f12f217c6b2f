/**
 * Toxics for `stapsh-proxy`, modelled on Toxiproxy's: parsing (`parseToxic`,
 * `parseToxicsJson`), a seeded PRNG, and the pure per-direction pipeline that
 * turns each received chunk into timed pieces. Nothing here does I/O, so the
 * whole effect of a toxic set on a byte stream can be computed in memory.
 *
 * Directions: `upstream` is host→guest (the client's bytes towards the
 * guest), `downstream` guest→host.
 */
// @ts-nocheck


import { mulberry32 } from '../protocol/random.js';

export type ToxicDirection = 'upstream' | 'downstream' | 'both';
export type FlowDirection = 'upstream' | 'downstream';

interface ToxicBase {
  /** The spec it was parsed from (for messages). */
  readonly spec: string;
  readonly direction: ToxicDirection;
  /** Probability (0..1) that the toxic applies to a given connection. */
  readonly toxicity: number;
}

/** Each chunk is forwarded `ms ± jitter` after it arrived. */
export interface LatencyToxic extends ToxicBase { readonly name: 'latency'; readonly ms: number; readonly jitter: number }
/** At most `rate` KB/s (1 KB = 1024 bytes): each piece is delayed by its transmission time. */
export interface BandwidthToxic extends ToxicBase { readonly name: 'bandwidth'; readonly rate: number }
/** Chunks split into pieces of `avg ± var` bytes, `delayUs` µs apart. */
export interface SlicerToxic extends ToxicBase { readonly name: 'slicer'; readonly avg: number; readonly var: number; readonly delayUs: number }
/** Forward exactly `bytes` bytes in that direction, then close both sides. */
export interface LimitDataToxic extends ToxicBase { readonly name: 'limit_data'; readonly bytes: number }
/** Forward no data in that direction; close both sides after `ms` (never when 0). */
export interface TimeoutToxic extends ToxicBase { readonly name: 'timeout'; readonly ms: number }
/** After `ms`, destroy both sockets abruptly. */
export interface ResetPeerToxic extends ToxicBase { readonly name: 'reset_peer'; readonly ms: number }
/** Delay forwarding an end (EOF or error) in that direction by `ms`. */
export interface SlowCloseToxic extends ToxicBase { readonly name: 'slow_close'; readonly ms: number }
/** Refuse: close the client at once, without connecting upstream. */
export interface DownToxic extends ToxicBase { readonly name: 'down' }

export type Toxic =
  | LatencyToxic
  | BandwidthToxic
  | SlicerToxic
  | LimitDataToxic
  | TimeoutToxic
  | ResetPeerToxic
  | SlowCloseToxic
  | DownToxic;
export type ToxicName = Toxic['name'];

export const TOXIC_NAMES: readonly ToxicName[] = ['latency', 'bandwidth', 'slicer', 'limit_data', 'timeout', 'reset_peer', 'slow_close', 'down'];
const DIRECTIONS: readonly ToxicDirection[] = ['upstream', 'downstream', 'both'];

/** Attribute names per toxic; the first of each group is the canonical one, the rest Toxiproxy's aliases. */
const ATTRIBUTES: Record<ToxicName, Record<string, readonly string[]>> = {
  latency: { ms: ['ms', 'latency'], jitter: ['jitter'] },
  bandwidth: { rate: ['rate'] },
  slicer: { avg: ['avg', 'average_size'], var: ['var', 'size_variation'], delayUs: ['delay_us', 'delay'] },
  limit_data: { bytes: ['bytes'] },
  timeout: { ms: ['ms', 'timeout'] },
  reset_peer: { ms: ['ms', 'timeout'] },
  slow_close: { ms: ['ms', 'delay'] },
  down: {},
};

export class ToxicSpecError extends Error {
  constructor(spec: string, reason: string) {
    super(`bad toxic '${spec}': ${reason}`);
    this.name = 'ToxicSpecError';
  }
}

function isToxicName(s: string): s is ToxicName {
  return (TOXIC_NAMES as readonly string[]).includes(s);
}

/** Build a toxic from its parts; throws `ToxicSpecError` naming `spec`. */
export function makeToxic(spec: string, name: string, direction: string, toxicity: number | undefined, attributes: Readonly<Record<string, unknown>>): Toxic {
  const fail = (reason: string): never => {
    throw new ToxicSpecError(spec, reason);
  };
  if (!isToxicName(name)) fail(`unknown toxic '${name}' (one of ${TOXIC_NAMES.join(', ')})`);
  const kind = name as ToxicName;
  if (!(DIRECTIONS as readonly string[]).includes(direction)) fail(`direction must be upstream, downstream or both, not '${direction}'`);
  const tox = toxicity ?? 1;
  if (typeof tox !== 'number' || !Number.isFinite(tox) || tox < 0 || tox > 1) fail(`toxicity must be a number in 0..1, not '${String(toxicity)}'`);

  const groups = ATTRIBUTES[kind];
  const values: Record<string, number> = {};
  for (const [key, raw] of Object.entries(attributes)) {
    const canonical = Object.entries(groups).find(([, names]) => names.includes(key))?.[0];
    if (canonical === undefined) {
      const known = Object.values(groups).map((n) => n[0]);
      fail(`unknown attribute '${key}' for ${kind}${known.length > 0 ? ` (known: ${known.join(', ')})` : ' (it takes none)'}`);
    }
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (!Number.isFinite(n) || n < 0) fail(`${key} must be a non-negative number, not '${String(raw)}'`);
    if (values[canonical!] !== undefined) fail(`attribute ${key} given twice`);
    values[canonical!] = n;
  }
  const get = (key: string, dflt: number | null, integer = false): number => {
    const v = values[key] ?? dflt;
    if (v === null) fail(`${kind} needs ${groups[key]![0]}=`);
    if (integer && !Number.isInteger(v)) fail(`${groups[key]![0]} must be an integer, not ${v}`);
    return v!;
  };
  const base = { spec, direction: direction as ToxicDirection, toxicity: tox };
  switch (kind) {
    case 'latency':
      return { ...base, name: kind, ms: get('ms', null), jitter: get('jitter', 0) };
    case 'bandwidth': {
      const rate = get('rate', null);
      if (rate <= 0) fail('rate must be above 0 KB/s');
      return { ...base, name: kind, rate };
    }
    case 'slicer': {
      const avg = get('avg', null, true);
      const v = get('var', 0, true);
      if (avg < 1) fail('avg must be at least 1 byte');
      if (v >= avg && v !== 0) fail(`var (${v}) must be below avg (${avg})`);
      return { ...base, name: kind, avg, var: v, delayUs: get('delayUs', 0) };
    }
    case 'limit_data':
      return { ...base, name: kind, bytes: get('bytes', null, true) };
    case 'timeout':
      return { ...base, name: kind, ms: get('ms', 0) };
    case 'reset_peer':
      return { ...base, name: kind, ms: get('ms', 0) };
    case 'slow_close':
      return { ...base, name: kind, ms: get('ms', null) };
    case 'down':
      return { ...base, name: kind };
  }
}

/** Parse `NAME:DIRECTION[:key=value,...]` (`toxicity=P` among the keys). */
export function parseToxic(spec: string): Toxic {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3) throw new ToxicSpecError(spec, 'expected NAME:DIRECTION[:key=value,...]');
  const [name, direction, rest] = parts as [string, string, string | undefined];
  const attributes: Record<string, string> = {};
  let toxicity: number | undefined;
  if (rest !== undefined && rest !== '') {
    for (const pair of rest.split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new ToxicSpecError(spec, `expected key=value, not '${pair}'`);
      const key = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (key === 'toxicity') {
        toxicity = value.trim() === '' ? NaN : Number(value);
        if (!Number.isFinite(toxicity)) throw new ToxicSpecError(spec, `toxicity must be a number in 0..1, not '${value}'`);
      } else {
        if (key in attributes) throw new ToxicSpecError(spec, `attribute ${key} given twice`);
        attributes[key] = value;
      }
    }
  }
  return makeToxic(spec, name, direction, toxicity, attributes);
}

/** Parse a JSON array of `{name, direction, toxicity?, attributes?}` (Toxiproxy's `type`/`stream` accepted too). */
export function parseToxicsJson(text: string, source = 'toxics file'): Toxic[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!Array.isArray(data)) throw new Error(`${source}: expected a JSON array of toxics`);
  return data.map((item: unknown, i) => {
    const label = `${source}[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new ToxicSpecError(label, 'expected an object');
    const o = item as Record<string, unknown>;
    const name = typeof o.name === 'string' && isToxicName(o.name) ? o.name : o.type ?? o.name;
    const direction = o.direction ?? o.stream;
    if (typeof name !== 'string') throw new ToxicSpecError(label, 'needs a name');
    if (typeof direction !== 'string') throw new ToxicSpecError(label, 'needs a direction');
    if (o.toxicity !== undefined && typeof o.toxicity !== 'number') throw new ToxicSpecError(label, `toxicity must be a number in 0..1, not '${String(o.toxicity)}'`);
    const attrs = o.attributes ?? {};
    if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) throw new ToxicSpecError(label, 'attributes must be an object');
    return makeToxic(`${label} ${name}:${direction}`, name, direction, o.toxicity as number | undefined, attrs as Record<string, unknown>);
  });
}

// ---------------------------------------------------------------------------
// PRNG

export { mulberry32 };

// ---------------------------------------------------------------------------
// Pipeline

/** A piece of a chunk, to be written `delayMs` after the previous piece was written. */
export interface Piece {
  readonly bytes: Uint8Array;
  readonly delayMs: number;
}

/** What to do with one received chunk. */
export interface ChunkPlan {
  /** Forward the first piece no earlier than this long after the chunk arrived. */
  readonly latencyMs: number;
  readonly pieces: readonly Piece[];
  /** A `limit_data` was reached with this chunk: after its pieces, close both sides. */
  readonly limitReached: boolean;
  /** Bytes of this chunk not forwarded (`timeout`, past `limit_data`). */
  readonly dropped: number;
}

/**
 * One direction's data toxics, applied to each chunk in a fixed order:
 * `timeout` (drops everything), `limit_data` (truncates), `slicer` (splits,
 * in the order given when several), `bandwidth` (the lowest rate), `latency`
 * (summed when several). Deterministic for a given `rng`.
 */
export class DirectionPipeline {
  readonly #toxics: readonly Toxic[];
  readonly #rng: () => number;
  #remaining: number | null;
  #limitHit = false;

  constructor(toxics: readonly Toxic[], rng: () => number) {
    this.#toxics = toxics;
    this.#rng = rng;
    const limits = toxics.flatMap((t) => (t.name === 'limit_data' ? [t.bytes] : []));
    this.#remaining = limits.length > 0 ? Math.min(...limits) : null;
  }

  /** Bytes still allowed by `limit_data` (null: unlimited). */
  get remaining(): number | null {
    return this.#remaining;
  }

  /** A plan for the end of the stream: true when `limit_data` is 0 (nothing may pass at all). */
  get limitReachedAtStart(): boolean {
    return this.#remaining === 0;
  }

  push(chunk: Uint8Array): ChunkPlan {
    const toxics = this.#toxics;
    if (this.#limitHit || toxics.some((t) => t.name === 'timeout')) {
      return { latencyMs: 0, pieces: [], limitReached: false, dropped: chunk.length };
    }
    let bytes = chunk;
    let limitReached = false;
    if (this.#remaining !== null) {
      if (bytes.length >= this.#remaining) {
        bytes = bytes.subarray(0, this.#remaining);
        limitReached = true;
        this.#limitHit = true;
      }
      this.#remaining -= bytes.length;
    }
    let pieces: Piece[] = bytes.length > 0 ? [{ bytes, delayMs: 0 }] : [];
    for (const t of toxics) {
      if (t.name !== 'slicer') continue;
      pieces = pieces.flatMap((p) => this.#slice(p.bytes, t, p.delayMs));
    }
    const rates = toxics.flatMap((t) => (t.name === 'bandwidth' ? [t.rate] : []));
    if (rates.length > 0) {
      const bytesPerMs = (Math.min(...rates) * 1024) / 1000;
      pieces = pieces.map((p) => ({ bytes: p.bytes, delayMs: p.delayMs + p.bytes.length / bytesPerMs }));
    }
    let latencyMs = 0;
    for (const t of toxics) {
      if (t.name !== 'latency') continue;
      const j = t.jitter === 0 ? 0 : (this.#rng() * 2 - 1) * t.jitter;
      latencyMs += Math.max(0, t.ms + j);
    }
    return { latencyMs, pieces, limitReached, dropped: chunk.length - bytes.length };
  }

  #slice(bytes: Uint8Array, t: SlicerToxic, firstDelay: number): Piece[] {
    const out: Piece[] = [];
    let at = 0;
    while (at < bytes.length) {
      const size = t.var === 0 ? t.avg : t.avg - t.var + Math.floor(this.#rng() * (2 * t.var + 1));
      const n = Math.max(1, Math.min(size, bytes.length - at));
      out.push({ bytes: bytes.subarray(at, at + n), delayMs: out.length === 0 ? firstDelay : t.delayUs / 1000 });
      at += n;
    }
    return out;
  }
}

/** Which toxics apply to one connection, and their connection-level effects. */
export interface ConnectionPlan {
  /** The toxics that applied (after toxicity) to this connection. */
  readonly active: readonly Toxic[];
  readonly down: boolean;
  readonly upstream: DirectionPipeline;
  readonly downstream: DirectionPipeline;
  /** `reset_peer`: destroy both sockets this long after the connection started (null: never). */
  readonly resetAfterMs: number | null;
  /** `timeout` with ms > 0: close both sides this long after the connection started (null: never). */
  readonly closeAfterMs: number | null;
  /** `slow_close`: delay forwarding an end in each direction. */
  readonly slowCloseMs: Readonly<Record<FlowDirection, number>>;
}

function applies(t: Toxic, d: FlowDirection): boolean {
  return t.direction === 'both' || t.direction === d;
}

function minOrNull(xs: readonly number[]): number | null {
  return xs.length > 0 ? Math.min(...xs) : null;
}

/**
 * Decide a connection's toxics from `seed` and the connection's index (0 for
 * the first accepted): one PRNG draw per toxic for its toxicity, then
 * separate PRNG streams for each direction's pipeline. Same seed, same index,
 * same toxics ⇒ the same plan and the same pieces for the same input chunks.
 */
export function planConnection(toxics: readonly Toxic[], seed: number, index: number): ConnectionPlan {
  const rng = mulberry32((seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0);
  const active = toxics.filter((t) => {
    const r = rng();
    return t.toxicity >= 1 || r < t.toxicity;
  });
  const upSeed = Math.floor(rng() * 2 ** 32);
  const downSeed = Math.floor(rng() * 2 ** 32);
  const sum = (d: FlowDirection) => active.reduce((n, t) => n + (t.name === 'slow_close' && applies(t, d) ? t.ms : 0), 0);
  return {
    active,
    down: active.some((t) => t.name === 'down'),
    upstream: new DirectionPipeline(active.filter((t) => applies(t, 'upstream')), mulberry32(upSeed)),
    downstream: new DirectionPipeline(active.filter((t) => applies(t, 'downstream')), mulberry32(downSeed)),
    resetAfterMs: minOrNull(active.flatMap((t) => (t.name === 'reset_peer' ? [t.ms] : []))),
    closeAfterMs: minOrNull(active.flatMap((t) => (t.name === 'timeout' && t.ms > 0 ? [t.ms] : []))),
    slowCloseMs: { upstream: sum('upstream'), downstream: sum('downstream') },
  };
}

/** Run chunks through a pipeline in memory: every planned piece, in order, with the chunk it came from. */
export function applyToStream(pipeline: DirectionPipeline, chunks: readonly Uint8Array[]): { pieces: Array<Piece & { chunk: number; latencyMs: number }>; limitReached: boolean; dropped: number } {
  const pieces: Array<Piece & { chunk: number; latencyMs: number }> = [];
  let limitReached = false;
  let dropped = 0;
  chunks.forEach((c, chunk) => {
    const plan = pipeline.push(c);
    for (const p of plan.pieces) pieces.push({ ...p, chunk, latencyMs: plan.latencyMs });
    if (plan.limitReached) limitReached = true;
    dropped += plan.dropped;
  });
  return { pieces, limitReached, dropped };
}

/**
 * `stapsh-proxy`'s engine: a man-in-the-middle between any stap-speaking
 * host (the clients of a listening unix socket) and a guest (a unix socket,
 * or a command spawned per client whose stdin/stdout are relayed and whose
 * stderr is merged into the downstream, like socat's `,stderr`). Every
 * received chunk is recorded into an optional trace (actor `proxy`, what each
 * peer sent, before toxics), then shaped by the connection's toxics.
 */
// @ts-nocheck


import { setTimeout as sleepMs } from 'node:timers/promises';
import { merge, type Observable, type Subscription } from 'rxjs';
import { connectUnix, listenUnix, spawnProcess, type Transport, type UnixListener } from '../transports/index.js';
import type { Trace, WireRecorder } from '../trace/recorder.js';
import { planConnection, type ConnectionPlan, type DirectionPipeline, type FlowDirection, type Toxic } from './toxics.js';

export type ProxyUpstream = { readonly kind: 'unix'; readonly path: string } | { readonly kind: 'cmd'; readonly argv: readonly [string, ...string[]] };

export interface ProxyOptions {
  /** Path of the unix socket to listen on (mode 0600 unless `mode`). */
  readonly listen: string;
  readonly mode?: number;
  readonly upstream: ProxyUpstream;
  readonly toxics?: readonly Toxic[];
  /** Seed of the toxics' PRNG (default 0). */
  readonly seed?: number;
  readonly trace?: Trace;
  /** Bound on connecting upstream (default 10 000 ms). */
  readonly connectTimeoutMs?: number;
  /** After one direction ended (its EOF forwarded as a half-close), how long the other may go on before both are closed, like socat's `-t` (default 2 000 ms). */
  readonly halfCloseGraceMs?: number;
  /** Diagnostics (default: none). */
  readonly log?: (message: string) => void;
  /** Environment of `--connect-cmd` children (default: ours). */
  readonly env?: NodeJS.ProcessEnv;
}

export interface Proxy {
  readonly path: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections still open. */
  readonly open: number;
  /** Stop accepting, close every connection (abruptly, bounded), resolve when done. */
  close(): Promise<void>;
}

/** Pause reading a side while more than this many bytes wait to be forwarded. */
const HIGH_WATER = 1 << 20;
const LOW_WATER = 1 << 18;
/** Bound on each transport's close. */
const CLOSE_BOUND_MS = 10_000;

const TO_TRACE: Record<FlowDirection, 'host->guest' | 'guest->host'> = { upstream: 'host->guest', downstream: 'guest->host' };

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  const ac = new AbortController();
  await Promise.race([p.catch(() => undefined), sleepMs(ms, undefined, { signal: ac.signal }).catch(() => undefined)]);
  ac.abort();
}

/** One proxied client. */
class Link {
  readonly #abort = new AbortController();
  readonly #subs: Subscription[] = [];
  readonly #ended = new Set<FlowDirection>();
  #closing: Promise<void> | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  readonly done: Promise<void>;
  #resolveDone!: () => void;

  constructor(
    readonly index: number,
    readonly down: Transport,
    readonly plan: ConnectionPlan,
    readonly options: ProxyOptions,
    readonly rec: WireRecorder | undefined,
    readonly session: string,
  ) {
    this.done = new Promise((r) => (this.#resolveDone = r));
  }

  /** Resolves at teardown. */
  readonly whenClosed = new Promise<void>((r) => this.#abort.signal.addEventListener('abort', () => r(), { once: true }));

  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Sleep `ms`, cut short by teardown. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return sleepMs(ms, undefined, { signal: this.#abort.signal }).catch(() => undefined);
  }

  log(m: string): void {
    this.options.log?.(`connection ${this.index}: ${m}`);
  }

  /** A toxic acting on this connection, or the channel failing, as a trace `transport` event. */
  traceTransport(what: 'fault' | 'error', message: string, dir?: FlowDirection): void {
    const trace = this.options.trace;
    if (trace === undefined) return;
    trace.emit({ t: trace.clock(), session: this.session, actor: 'proxy', kind: 'transport', what, message, ...(dir === undefined ? {} : { direction: TO_TRACE[dir] }) });
  }

  async run(): Promise<void> {
    const { plan } = this;
    for (const t of plan.active) this.traceTransport('fault', `toxic ${t.spec}`, t.direction === 'both' ? undefined : t.direction);
    if (plan.down) {
      this.log('down: refused');
      this.traceTransport('fault', 'down: connection refused');
      await this.teardown('down');
      return;
    }
    let up: Transport;
    try {
      up = await this.openUpstream();
    } catch (e) {
      this.log(`cannot reach the guest: ${message(e)}`);
      this.traceTransport('error', `cannot reach the guest: ${message(e)}`);
      await this.teardown('upstream failed');
      return;
    }
    if (this.closed) {
      await bounded(up.close(), CLOSE_BOUND_MS);
      return;
    }
    this.up = up;
    if (plan.resetAfterMs !== null) this.timer(plan.resetAfterMs, () => this.cut('reset_peer', `reset_peer: both sides reset after ${plan.resetAfterMs} ms`));
    if (plan.closeAfterMs !== null) this.timer(plan.closeAfterMs, () => this.cut('timeout', `timeout: both sides closed after ${plan.closeAfterMs} ms`));
    if (plan.upstream.limitReachedAtStart || plan.downstream.limitReachedAtStart) {
      this.cut('limit_data', 'limit_data: 0 bytes allowed, both sides closed');
      return;
    }
    const fromGuest: Observable<Uint8Array> = up.stderr$ === undefined ? up.incoming$ : merge(up.incoming$, up.stderr$);
    this.pump('upstream', this.down.incoming$, this.down, up, plan.upstream);
    this.pump('downstream', fromGuest, up, this.down, plan.downstream);
  }

  up: Transport | undefined;

  private async openUpstream(): Promise<Transport> {
    const u = this.options.upstream;
    if (u.kind === 'unix') return connectUnix(u.path, { timeoutMs: this.options.connectTimeoutMs ?? 10_000 });
    return spawnProcess(u.argv, { ownProcessGroup: true, ...(this.options.env === undefined ? {} : { env: this.options.env }) });
  }

  /** A toxic ends the connection: trace it, then tear down. */
  private cut(why: string, traced: string, dir?: FlowDirection): void {
    if (this.closed) return;
    this.traceTransport('fault', traced, dir);
    void this.teardown(why);
  }

  private timer(ms: number, f: () => void): void {
    const t = setTimeout(f, ms);
    this.#abort.signal.addEventListener('abort', () => clearTimeout(t), { once: true });
  }

  /** Forward `src$` (read from `from`) into `to` through `pipeline`, in order. */
  private pump(dir: FlowDirection, src$: Observable<Uint8Array>, from: Transport, to: Transport, pipeline: DirectionPipeline): void {
    let chain = Promise.resolve();
    let queued = 0;
    let paused = false;
    const fail = (e: unknown) => {
      if (!this.closed) this.log(`${dir}: ${message(e)}`);
      void this.teardown(`${dir} write failed`);
    };
    const sub = src$.subscribe({
      next: (chunk) => {
        this.rec?.(TO_TRACE[dir], chunk);
        const arrival = performance.now();
        const plan = pipeline.push(chunk);
        queued += chunk.length;
        if (!paused && queued > HIGH_WATER) {
          paused = true;
          from.pause();
        }
        chain = chain
          .then(async () => {
            if (this.closed) return;
            await this.sleep(arrival + plan.latencyMs - performance.now());
            for (const piece of plan.pieces) {
              await this.sleep(piece.delayMs);
              if (this.closed) return;
              await to.write(piece.bytes);
              if (to.needsDrain) await Promise.race([to.drained(), this.whenClosed]);
            }
            queued -= chunk.length;
            if (paused && queued < LOW_WATER) {
              paused = false;
              from.resume();
            }
            if (plan.limitReached) {
              this.log(`${dir}: limit_data reached`);
              await Promise.race([to.drained(), this.sleep(CLOSE_BOUND_MS)]);
              this.cut('limit_data', 'limit_data: byte limit reached, both sides closed', dir);
              await this.teardown('limit_data');
            }
          })
          .catch(fail);
      },
      complete: () => {
        this.rec?.end(TO_TRACE[dir]);
        chain = chain
          .then(async () => {
            await this.sleep(this.plan.slowCloseMs[dir]);
            if (this.closed) return;
            await to.closeWrite().catch(() => undefined);
            this.ended(dir);
          })
          .catch(fail);
      },
      error: (e: unknown) => {
        this.rec?.end(TO_TRACE[dir], message(e));
        chain = chain.then(async () => {
          await this.sleep(this.plan.slowCloseMs[dir]);
          await this.teardown(`${dir}: ${message(e)}`);
        });
      },
    });
    this.#subs.push(sub);
  }

  private ended(dir: FlowDirection): void {
    this.#ended.add(dir);
    if (this.#ended.size === 2) {
      void this.teardown('both ends closed');
    } else if (this.#graceTimer === undefined) {
      const ms = this.options.halfCloseGraceMs ?? 2_000;
      this.#graceTimer = setTimeout(() => void this.teardown(`${dir} ended ${ms} ms ago`), ms);
      this.#abort.signal.addEventListener('abort', () => clearTimeout(this.#graceTimer), { once: true });
    }
  }

  /** Close both sides now (pending writes are dropped: a socket is destroyed). Idempotent. */
  teardown(why: string): Promise<void> {
    this.#closing ??= (async () => {
      this.log(`closing (${why})`);
      this.#abort.abort();
      for (const s of this.#subs) s.unsubscribe();
      await Promise.all([bounded(this.down.close(), CLOSE_BOUND_MS), this.up === undefined ? undefined : bounded(this.up.close(), CLOSE_BOUND_MS)]);
      this.#resolveDone();
    })();
    return this.#closing;
  }
}

/** Start listening; each accepted client gets its own upstream and toxics plan. */
export async function startProxy(options: ProxyOptions): Promise<Proxy> {
  const listener: UnixListener = await listenUnix(options.listen, options.mode === undefined ? {} : { mode: options.mode });
  const links = new Set<Link>();
  let accepted = 0;
  let closing: Promise<void> | undefined;
  const sub = listener.connections$.subscribe({
    next: (down) => {
      const index = accepted++;
      if (closing !== undefined) {
        void down.close();
        return;
      }
      const plan = planConnection(options.toxics ?? [], options.seed ?? 0, index);
      const session = `proxy-${process.pid}-${index}`;
      const rec = options.trace?.recorders(session, 'proxy').onWire;
      const link = new Link(index, down, plan, options, rec, session);
      if (plan.active.length > 0) link.log(`toxics: ${plan.active.map((t) => t.spec).join(' ')}`);
      links.add(link);
      void link.done.then(() => links.delete(link));
      link.run().catch((e: unknown) => {
        link.log(message(e));
        void link.teardown('internal error');
      });
    },
    error: (e: unknown) => options.log?.(`listener failed: ${message(e)}`),
  });
  return {
    path: options.listen,
    get accepted() {
      return accepted;
    },
    get open() {
      return links.size;
    },
    close: () =>
      (closing ??= (async () => {
        await listener.close();
        sub.unsubscribe();
        await Promise.all([...links].map((l) => l.teardown('proxy closing')));
      })()),
  };
}

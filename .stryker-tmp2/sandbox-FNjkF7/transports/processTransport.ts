// @ts-nocheck
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { basename } from 'node:path';
import type { Observable } from 'rxjs';
import { toTransportError } from './errors.js';
import { onSubscribe, ReadableSource, StreamTransport, whenClosed } from './streamTransport.js';
import type { ExitStatus, TransportCapabilities } from './transport.js';

/** Options of `spawnProcess`. */
export interface SpawnOptions {
  /** Defaults to `process:` + the program's base name. */
  readonly name?: string;
  /** The child's whole environment (not merged: pass `{ ...process.env, X: '1' }` to extend). */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /**
   * Default true: SIGKILL the child from a `process.on('exit')` hook if it
   * still runs when this Node process exits. See `spawnProcess`.
   */
  readonly killOnParentExit?: boolean;
  /**
   * Start the child in its own process group, so signals meant for ours (a
   * terminal's Ctrl-C) do not reach it. It is still killed on our exit.
   */
  readonly ownProcessGroup?: boolean;
  /**
   * False when the program relays a channel that outlives it (stapvirt and
   * a VM's virtio-serial port): earlier sessions' bytes may be waiting.
   * Default true (`capabilities.freshPeer`).
   */
  readonly freshPeer?: boolean;
  /** How long `close()` waits after closing stdin before SIGTERM (default 2000 ms). */
  readonly closeGraceMs?: number;
  /** How long `close()` waits after SIGTERM before SIGKILL (default 2000 ms). */
  readonly termGraceMs?: number;
}

const PROCESS_CAPS: TransportCapabilities = { eofVisible: true, separateStderr: true, exitStatus: true };

const liveChildren = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;

function killLeftovers(): void {
  for (const child of liveChildren) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * A spawned process as a `Transport`: its stdin is `write`, its stdout is
 * `incoming$`, its stderr is `stderr$` (kept apart), `exit` its status.
 *
 * `stderr$` starts paused like `incoming$`, but once either stream has a
 * subscriber it reads on and drops chunks nobody subscribes to, so a child
 * that writes much to an unwatched stderr never blocks on a full pipe.
 * Subscribe to both in the same tick to miss nothing.
 */
export class ProcessTransport extends StreamTransport {
  override readonly stderr$: Observable<Uint8Array>;
  override readonly exit: Promise<ExitStatus>;
  /** The child's pid. */
  readonly pid: number;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #stderr: ReadableSource;

  constructor(child: ChildProcessWithoutNullStreams, name: string, options: SpawnOptions) {
    const stderr = new ReadableSource(child.stderr, `${name} (stderr)`, 'drop');
    const exit = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => {
        liveChildren.delete(child);
        resolve(code !== null ? { code, signal: null } : { code: null, signal: signal ?? 'SIGKILL' });
      });
    });
    let self: ProcessTransport | undefined;
    super(child.stdout, child.stdin, {
      name,
      capabilities: options.freshPeer === false ? { ...PROCESS_CAPS, freshPeer: false } : PROCESS_CAPS,
      exit,
      onSubscribe: () => stderr.start(),
      release: () => self!.#escalate(options.closeGraceMs ?? 2000, options.termGraceMs ?? 2000),
    });
    self = this;
    this.#child = child;
    this.#stderr = stderr;
    this.exit = exit;
    this.pid = child.pid!;
    // stderr starts flowing with the first interest in either stream.
    this.stderr$ = onSubscribe(stderr.observable, () => stderr.start());
  }

  /** Stops reading stdout and stderr alike: a slow consumer holds back both. */
  override pause(): void {
    super.pause();
    this.#stderr.pause();
  }

  override resume(): void {
    super.resume();
    this.#stderr.resume();
  }

  /** Send a signal to the child; false if it has already exited. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return false;
    return this.#child.kill(signal);
  }

  /** close stdin → grace → SIGTERM → grace → SIGKILL; then release the pipes. */
  async #escalate(closeGraceMs: number, termGraceMs: number): Promise<void> {
    this.#stderr.end();
    // Keep reading (and dropping) so the child never blocks on a full pipe while it winds down.
    this.source.discard();
    this.#stderr.discard();
    if (!this.#child.stdin.destroyed) this.#child.stdin.end();
    const exitedWithin = (ms: number) =>
      Promise.race([this.exit.then(() => true), sleep(ms).then(() => false)]);
    if (!(await exitedWithin(closeGraceMs))) {
      this.kill('SIGTERM');
      if (!(await exitedWithin(termGraceMs))) {
        this.kill('SIGKILL');
        await this.exit;
      }
    }
    // A grandchild may still hold the pipes open; they are ours to release now.
    this.#child.stdout.destroy();
    this.#child.stderr.destroy();
    this.#child.stdin.destroy();
    await whenClosed(this.#child.stderr);
  }
}

/**
 * Spawn `argv[0]` with arguments `argv[1..]` (no shell) and resolve once it
 * has started; rejects with a `TransportError` (`ENOENT`, `EACCES`…) if it
 * cannot be started.
 *
 * Lifetime: the child is spawned with `detached: false`, so it stays in our
 * process group and a terminal's Ctrl-C reaches it too. With
 * `killOnParentExit` (the default) a `process.on('exit')` hook SIGKILLs
 * every child still running when Node exits normally (end of the event
 * loop, `process.exit()`, an uncaught exception). Node has no
 * `PR_SET_PDEATHSIG`: if the host itself is SIGKILLed, or dies of a signal it
 * has no handler for, the hook cannot run and the child lives on (it then
 * sees EOF on its stdin, which makes a well-behaved helper exit).
 */
export function spawnProcess(argv: readonly [string, ...string[]], options: SpawnOptions = {}): Promise<ProcessTransport> {
  const [file, ...args] = argv;
  const name = options.name ?? `process:${basename(file)}`;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group keeps a terminal's Ctrl-C away from it: the
      // host turns Ctrl-C into `quit`, as SystemTap blocks signals for ssh.
      detached: options.ownProcessGroup ?? false,
      shell: false,
      ...(options.env !== undefined ? { env: options.env } : {}),
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    });
    const onError = (err: Error) => reject(toTransportError(err, name, `cannot start ${file}`));
    child.once('error', onError);
    child.once('spawn', () => {
      child.off('error', onError);
      // Later 'error's (a failed kill) are not the stream's business.
      child.on('error', () => undefined);
      if (options.killOnParentExit ?? true) {
        liveChildren.add(child);
        if (!exitHookInstalled) {
          exitHookInstalled = true;
          process.on('exit', killLeftovers);
        }
      }
      resolve(new ProcessTransport(child, name, options));
    });
  });
}

/**
 * Spawning processes in tests with bounded waits and guaranteed cleanup:
 * each runs in its own process group, and `killAll()` (call it in
 * afterEach) SIGKILLs every group still alive.
 */

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface Proc {
  readonly child: ChildProcess;
  /** Everything read so far (latin1). */
  stdout(): string;
  stderr(): string;
  /** Resolves when the output contains `text`; rejects after `timeoutMs`. */
  waitFor(text: string | RegExp, timeoutMs?: number, stream?: 'stdout' | 'stderr'): Promise<void>;
  /** The exit, or a rejection after `timeoutMs`. */
  wait(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

const live = new Set<ChildProcess>();

export function spawnTracked(argv: readonly string[], options: SpawnOptions = {}): Proc {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...options });
  live.add(child);
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const poke = () => waiters.forEach((w) => w());
  child.stdout?.setEncoding('latin1').on('data', (s: string) => {
    out += s;
    poke();
  });
  child.stderr?.setEncoding('latin1').on('data', (s: string) => {
    err += s;
    poke();
  });
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      live.delete(child);
      poke();
      resolve({ code, signal });
    }),
  );
  const bounded = <T>(p: Promise<T>, ms: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${argv.join(' ')}: ${what} not within ${ms} ms\nstdout: ${out}\nstderr: ${err}`)), ms);
      p.then(
        (v) => {
          clearTimeout(t);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(t);
          reject(e);
        },
      );
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(text, timeoutMs = 10_000, stream) {
      const has = () => {
        const hay = stream === 'stderr' ? err : stream === 'stdout' ? out : out + err;
        return typeof text === 'string' ? hay.includes(text) : text.test(hay);
      };
      return bounded(
        new Promise<void>((resolve) => {
          const check = () => {
            if (has()) {
              waiters.delete(check);
              resolve();
            }
          };
          waiters.add(check);
          check();
        }),
        timeoutMs,
        `output ${String(text)}`,
      );
    },
    wait: (timeoutMs = 10_000) => bounded(exited, timeoutMs, 'exit'),
    kill(signal = 'SIGTERM') {
      try {
        child.kill(signal);
      } catch {
        // gone
      }
    },
  };
}

/** SIGKILL every process group a test started and did not reap. */
export function killAll(): void {
  for (const child of live) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  live.clear();
}

/** Poll until `check()` is true; reject after `timeoutMs`. */
export { eventually } from './realPeers.js';
import { eventually } from './realPeers.js';

/** Wait until a path exists (a socket, a pty link). */
export function waitForPath(path: string, timeoutMs = 5_000): Promise<void> {
  return eventually(() => existsSync(path), timeoutMs, `${path} to appear`);
}

/** Is a process with this pid still alive (not a zombie)? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/**
 * Connect once a listener's socket file exists. A socket file appears at
 * bind(), a moment before listen(); a connect in between is refused, so
 * ECONNREFUSED is retried within the bound.
 */
export async function connectWhenListening(path: string, timeoutMs = 5_000): Promise<import('../../transports/transport.js').Transport> {
  const { connectUnix } = await import('../../transports/unixSocket.js');
  const end = Date.now() + timeoutMs;
  await waitForPath(path, timeoutMs);
  for (;;) {
    try {
      return await connectUnix(path, { timeoutMs });
    } catch (error) {
      if ((error as { code?: string }).code !== 'ECONNREFUSED' || Date.now() > end) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Wait until a unix socket accepts connections (see connectWhenListening). */
export async function waitForListening(path: string, timeoutMs = 5_000): Promise<void> {
  const t = await connectWhenListening(path, timeoutMs);
  await t.close();
}

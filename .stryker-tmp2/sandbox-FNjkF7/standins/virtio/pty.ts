/**
 * The guest side of the virtio stand-in: one pty, linked at the port's path,
 * made by `socat -d -d PTY,link=PORT,raw,echo=0 STDIO` (Node cannot allocate
 * a pty), whose stdin/stdout are the master's two directions.
 *
 * We hold the slave open ourselves (O_RDWR|O_NOCTTY, never read) for the
 * pty's whole life, so a guest closing it (a restart) does not hang it up
 * and its input buffer survives the restart, as a port outlives the guest's
 * `stapsh`. `hangup()` is the host leaving: socat gets EOF on its stdin,
 * hands what it holds to the pty and exits, the master closes, and the
 * guest's reads drain what is left then fail with EIO, its writes at once
 * (the pty's counterpart of a real port's read() = 0 / EAGAIN).
 */
// @ts-nocheck


import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, constants, existsSync, lstatSync, openSync, rmSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';

export interface PtyOptions {
  /** Where the slave is linked: the guest's "virtio port". */
  readonly link: string;
  readonly socat?: string;
  /** Bound on socat creating the pty (default 5 s). */
  readonly startTimeoutMs?: number;
  readonly log?: (message: string) => void;
}

export interface StandinPty {
  /** The slave (`/dev/pts/N`) the link points at. */
  readonly pty: string;
  /** Bytes for the guest. */
  readonly toGuest: Writable;
  /** Bytes from the guest. */
  readonly fromGuest: Readable;
  /** Resolves when socat ended: null after `hangup()`, else socat's complaint. */
  readonly ended: Promise<string | null>;
  /** The host left: deliver what socat holds (bounded by `graceMs`, default 500 ms), then close the master. */
  hangup(graceMs?: number): Promise<void>;
}

export function removeIfThere(path: string): void {
  try {
    lstatSync(path);
  } catch {
    return;
  }
  rmSync(path, { force: true });
}

export async function startPty(options: PtyOptions): Promise<StandinPty> {
  const { link } = options;
  const log = options.log ?? (() => undefined);
  if (existsSync(link) && !lstatSync(link).isSymbolicLink()) throw new Error(`virtio stand-in: ${link} exists and is not a link`);
  removeIfThere(link);
  // -t: how long socat keeps delivering to the pty after our EOF before it exits.
  const socat: ChildProcessWithoutNullStreams = spawn(options.socat ?? 'socat', ['-d', '-d', '-t', '0.5', `PTY,link=${link},raw,echo=0`, 'STDIO'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let hangingUp = false;
  let stderr = '';
  let ptyPath: string | null = null;
  let ptyWaiter: ((path: string | null) => void) | null = null;
  socat.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr = (stderr + s).slice(-4096);
    const m = /PTY is (\S+)/.exec(stderr);
    if (m && ptyPath === null) {
      ptyPath = m[1]!;
      ptyWaiter?.(ptyPath);
    }
    for (const line of s.split('\n')) if (line.trim()) log(`socat: ${line.trim()}`);
  });
  socat.stdin.on('error', () => undefined);
  socat.once('error', (err) => {
    stderr += String(err);
    ptyWaiter?.(null);
  });
  let keepalive: number | null = null;
  const ended = new Promise<string | null>((resolve) =>
    socat.once('close', (code, signal) => {
      ptyWaiter?.(null);
      if (keepalive !== null) {
        closeSync(keepalive);
        keepalive = null;
      }
      resolve(hangingUp ? null : `socat exited (${signal ?? code}) ${stderr.trim()}`);
    }),
  );

  const timeoutMs = options.startTimeoutMs ?? 5_000;
  const pty = await new Promise<string | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), timeoutMs);
    ptyWaiter = (p) => {
      clearTimeout(timer);
      resolve(p);
    };
    if (ptyPath !== null) ptyWaiter(ptyPath);
  });
  ptyWaiter = null;
  const deadline = Date.now() + timeoutMs;
  while (pty !== null && !existsSync(link) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  if (pty === null || !existsSync(link)) {
    hangingUp = true;
    socat.kill('SIGKILL');
    await ended;
    throw new Error(`virtio stand-in: socat did not create the pty: ${stderr.trim() || 'no output'}`);
  }
  keepalive = openSync(pty, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);

  let hanging: Promise<void> | undefined;
  return {
    pty,
    toGuest: socat.stdin,
    fromGuest: socat.stdout,
    ended,
    hangup: (graceMs = 500) =>
      (hanging ??= (async () => {
        hangingUp = true;
        // A guest that does not read must not keep the master open: socat gets -t, we add a bound.
        socat.stdin.end();
        socat.stdout.resume();
        const t = setTimeout(() => socat.kill('SIGKILL'), graceMs + 1_500);
        await ended;
        clearTimeout(t);
      })()),
  };
}

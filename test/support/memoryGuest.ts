/**
 * The guest machine with in-memory actors: a workspace that is a Map, and a
 * scripted child process. Lets tests run whole guest sessions in microseconds.
 */

import { createActor, fromCallback, fromPromise, toPromise } from 'xstate';
import { concatBytes, latin1 } from '../../protocol/bytes.js';
import type { ChildExit, ProcessCommand, ProcessEvent, ProcessSpec } from '../../machines/childTypes.js';
import type { GuestLimits } from '../../machines/guestReplies.js';
import { guestStapsh, type GuestOutput } from '../../machines/guestStapsh.js';
import { pumpInto } from '../../machines/guestPump.js';
import { staprunChild } from '../../machines/staprunChild.js';

/** How the scripted child behaves. */
export interface ChildScript {
  /** Output written right after the spawn. */
  readonly start?: readonly ['stdout' | 'stderr', string][];
  /** Exit by itself after the start output (else it runs until signalled). */
  readonly exitCode?: number;
  /** Output written when SIGHUP arrives, before exiting with `hupExitCode`. */
  readonly onHup?: readonly ['stdout' | 'stderr', string][];
  readonly hupExitCode?: number;
  /** Ignore SIGHUP (only SIGKILL ends it). */
  readonly ignoreHup?: boolean;
  /** Programs that "do not exist": spawning them fails with ENOENT. */
  readonly missing?: readonly string[];
}

const enc = new TextEncoder();

export function scriptedProcess(script: ChildScript, spawned: ProcessSpec[]) {
  return fromCallback<ProcessCommand, ProcessSpec>(({ input, sendBack, receive }) => {
    const send = (e: ProcessEvent) => sendBack(e);
    if (script.missing?.some((p) => input.path.endsWith(`/${p}`))) {
      send({ type: 'PROCESS.FAILED', reason: 'No such file or directory' });
      return;
    }
    spawned.push(input);
    let exited = false;
    const exit = (e: ChildExit) => {
      if (exited) return;
      exited = true;
      send({ type: 'PROCESS.EXITED', exit: e });
    };
    send({ type: 'PROCESS.SPAWNED', pid: 4242 });
    for (const [stream, text] of script.start ?? []) send({ type: 'PROCESS.OUTPUT', stream, bytes: enc.encode(text) });
    if (script.exitCode !== undefined) exit({ kind: 'exited', code: script.exitCode });
    receive((cmd) => {
      if (exited) return;
      if (cmd.signal === 'SIGKILL') exit({ kind: 'signalled', signal: 'SIGKILL', number: 9 });
      else if (cmd.signal === 'SIGHUP' && !script.ignoreHup) {
        for (const [stream, text] of script.onHup ?? []) send({ type: 'PROCESS.OUTPUT', stream, bytes: enc.encode(text) });
        exit({ kind: 'exited', code: script.hupExitCode ?? 0 });
      }
    });
  });
}

export interface MemoryGuestResult extends GuestOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly files: Map<string, string>;
  readonly spawned: ProcessSpec[];
  readonly removed: boolean;
}

export interface MemoryGuestOptions {
  readonly release?: string;
  readonly listening?: boolean;
  readonly verbose?: number;
  readonly child?: ChildScript;
  readonly limits?: Partial<GuestLimits>;
  /** Send EOF after the chunks (default true). */
  readonly eof?: boolean;
  /** Signal to deliver after the chunks instead of EOF. */
  readonly signal?: string;
}

/** Run one in-memory guest session over the given input chunks. */
export async function runMemoryGuest(chunks: readonly Uint8Array[], options: MemoryGuestOptions = {}): Promise<MemoryGuestResult> {
  const files = new Map<string, string>();
  const spawned: ProcessSpec[] = [];
  let removed = false;
  const machine = guestStapsh.provide({
    actors: {
      writeFile: fromPromise(async ({ input }: { input: { name: string; chunks: readonly Uint8Array[] } }) => {
        files.set(input.name, latin1(concatBytes(input.chunks)));
      }),
      removeWorkspace: fromPromise(async () => {
        removed = true;
      }),
      child: staprunChild.provide({ actors: { process: scriptedProcess(options.child ?? {}, spawned) } }),
    },
  });
  const actor = createActor(machine, {
    input: {
      release: options.release ?? '4.8',
      machine: 'x86_64',
      kernelRelease: '6.1.0-test',
      bindir: '/usr/bin',
      workdir: '/tmp/stapsh.TEST',
      verbose: options.verbose ?? 0,
      listening: options.listening ?? false,
      ...(options.limits ? { limits: { graceMs: 50, ...options.limits } } : { limits: { graceMs: 50 } }),
    },
  });
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  actor.on('wire', (e) => (e.stream === 'stdout' ? out : err).push(e.bytes));
  const done = toPromise(actor);
  actor.start();
  const pump = pumpInto(actor);
  for (const c of chunks) pump.push(c);
  if (options.signal) actor.send({ type: 'SIGNAL', signal: options.signal });
  else if (options.eof ?? true) pump.end();
  const output = await done;
  return {
    ...output,
    stdout: latin1(concatBytes(out)),
    stderr: latin1(concatBytes(err)),
    files,
    spawned,
    removed,
  };
}

/**
 * In-memory stand-ins for the guest's OS actors: a workspace that is a Map
 * and a scripted child process. With them the guest machine runs without
 * touching the OS (property tests, model-based tests, benchmarks of the
 * machines alone, protocol experiments in an embedding program).
 */
// @ts-nocheck


import { fromCallback, fromPromise } from 'xstate';
import { concatBytes } from '../protocol/bytes.js';
import type { ChildExit, ProcessCommand, ProcessRunner, ProcessSpec } from '../machines/childTypes.js';
import { guestStapsh, type GuestEffects } from '../machines/guestStapsh.js';
import { staprunChild } from '../machines/staprunChild.js';

/** How the scripted child behaves. */
export interface ChildScript {
  /** Output written right after the spawn. */
  readonly start?: readonly (readonly ['stdout' | 'stderr', string | Uint8Array])[];
  /** Exit by itself after the start output (else it runs until signalled). */
  readonly exitCode?: number;
  /** Output written when SIGHUP arrives, before exiting with `hupExitCode`. */
  readonly onHup?: readonly (readonly ['stdout' | 'stderr', string | Uint8Array])[];
  readonly hupExitCode?: number;
  /** Ignore SIGHUP (only SIGKILL ends it). */
  readonly ignoreHup?: boolean;
  /** Programs that "do not exist": spawning them fails with ENOENT. */
  readonly missing?: readonly string[];
}

const enc = new TextEncoder();
const bytesOf = (x: string | Uint8Array) => (typeof x === 'string' ? enc.encode(x) : x);

/** A child process actor that follows `script`; every spawn is recorded in `spawned`. */
export function scriptedProcess(script: ChildScript, spawned: ProcessSpec[] = []) {
  const run = scriptedRunner(script, spawned);
  return fromCallback<ProcessCommand, ProcessSpec>(({ input, sendBack, receive }) => run(input, sendBack, receive));
}

/** The same child as a `ProcessRunner` (for `GuestEffects.runProcess`). */
export function scriptedRunner(script: ChildScript, spawned: ProcessSpec[] = []): ProcessRunner {
  return (input, send, receive) => {
    if (script.missing?.some((p) => input.path.endsWith(`/${p}`))) {
      send({ type: 'PROCESS.FAILED', reason: 'No such file or directory' });
      return;
    }
    spawned.push({ path: input.path, argv: input.argv, cwd: input.cwd });
    let exited = false;
    const exit = (e: ChildExit) => {
      if (exited) return;
      exited = true;
      send({ type: 'PROCESS.EXITED', exit: e });
    };
    send({ type: 'PROCESS.SPAWNED', pid: 4242 });
    for (const [stream, data] of script.start ?? []) send({ type: 'PROCESS.OUTPUT', stream, bytes: bytesOf(data) });
    if (script.exitCode !== undefined) exit({ kind: 'exited', code: script.exitCode });
    receive((cmd) => {
      if (exited) return;
      if (cmd.signal === 'SIGKILL') exit({ kind: 'signalled', signal: 'SIGKILL', number: 9 });
      else if (cmd.signal === 'SIGHUP' && !script.ignoreHup) {
        for (const [stream, data] of script.onHup ?? []) send({ type: 'PROCESS.OUTPUT', stream, bytes: bytesOf(data) });
        exit({ kind: 'exited', code: script.hupExitCode ?? 0 });
      }
    });
  };
}

/** What an in-memory guest did to its "OS". */
export interface MemoryWorld {
  readonly files: Map<string, Uint8Array>;
  readonly spawned: ProcessSpec[];
  removed: boolean;
}

/** In-memory guest effects (a Map for the workspace, a scripted child), and the world they act on. */
export function memoryGuestEffects(script: ChildScript): { effects: GuestEffects; world: MemoryWorld } {
  const world: MemoryWorld = { files: new Map(), spawned: [], removed: false };
  const effects: GuestEffects = {
    writeFile: async (name, chunks) => {
      world.files.set(name, concatBytes(chunks).slice());
    },
    removeWorkspace: async () => {
      world.removed = true;
    },
    runProcess: scriptedRunner(script, world.spawned),
  };
  return { effects, world };
}

/** The guest machine provided with in-memory actors (one definition per call: prefer `memoryGuestEffects`). */
export function memoryGuestMachine(script: ChildScript): { machine: typeof guestStapsh; world: MemoryWorld } {
  const { effects, world } = memoryGuestEffects(script);
  const machine = guestStapsh.provide({
    actors: {
      writeFile: fromPromise(async ({ input }: { input: { name: string; chunks: readonly Uint8Array[] } }) => effects.writeFile(input.name, input.chunks)),
      removeWorkspace: fromPromise(() => effects.removeWorkspace()),
      child: staprunChild.provide({ actors: { process: scriptedProcess(script, world.spawned) } }),
    },
  });
  return { machine, world };
}

/**
 * One guest session over any channel: a private workspace, the guest
 * machine with Node's actors, a pump from the channel into the machine, and
 * the machine's output written back. Resolves with the exit status once the
 * workspace is gone and every byte has been handed to the channel.
 */
// @ts-nocheck


import type { Observable } from 'rxjs';
import type { InspectionEvent } from 'xstate';
import type { OutputStream } from '../machines/childTypes.js';
import type { GuestLimits } from '../machines/guestReplies.js';
import { guestStapsh, type GuestActor, type GuestEffects, type GuestOutput } from '../machines/guestStapsh.js';
import { driveGuest } from './driver.js';
import type { Transport } from '../transports/transport.js';
import { nodeProcessRunner, type ProcessActorOptions } from './processActor.js';
import { createWorkspace } from './workspace.js';

/** Where a guest's two output streams go. */
export interface GuestIo {
  readonly incoming$: Observable<Uint8Array>;
  /** Queue bytes for the guest's stdout or stderr, in order. */
  write(stream: OutputStream, bytes: Uint8Array): void;
  /** Keep quiet for `ms` once what is queued so far was accepted, then write on (optional: a channel may not pace). */
  gap?(ms: number): void;
  /** While output is backlogged, a promise for when it is not. */
  backlog(): Promise<void> | null;
  pause(): void;
  resume(): void;
  /** Resolves once everything queued was accepted by the channel. */
  flush(): Promise<void>;
}

/** A guest's IO over one channel (stderr merged, as `-l` and `--listen` do) or two. */
export function ioFromTransports(main: Transport, stderr?: Transport): GuestIo {
  let failed: unknown = null;
  let last: Promise<void> = Promise.resolve();
  // While a gap runs, writes wait for it, in order (callbacks on one promise run in the order they were added).
  let quiet: Promise<void> | null = null;
  const note = (p: Promise<void>) => {
    last = p.catch((e: unknown) => {
      failed ??= e;
    });
  };
  return {
    incoming$: main.incoming$,
    write(stream, bytes) {
      if (failed !== null) return; // the host is gone; the session is ending anyway
      const target = stream === 'stderr' && stderr ? stderr : main;
      note(quiet === null ? target.write(bytes) : quiet.then(() => target.write(bytes)));
    },
    gap(ms) {
      const q: Promise<void> = last.then(() => new Promise<void>((resolve) => setTimeout(resolve, ms)));
      quiet = q;
      void q.then(() => {
        if (quiet === q) quiet = null;
      });
      note(q);
    },
    backlog() {
      if (failed !== null) return null;
      if (main.needsDrain) return main.drained();
      if (stderr?.needsDrain) return stderr.drained();
      return null;
    },
    pause: () => main.pause(),
    resume: () => main.resume(),
    flush: () => last,
  };
}

export interface GuestSessionOptions {
  readonly release: string;
  readonly machine: string;
  readonly kernelRelease: string;
  readonly bindir: string;
  readonly verbose?: number;
  readonly listening?: boolean;
  readonly limits?: Partial<GuestLimits>;
  /** Parent of the private temp dir (default: $TMPDIR or /tmp). */
  readonly tmpdir?: string;
  readonly process?: Omit<ProcessActorOptions, 'gate'>;
  /** Called with the running actor, e.g. to forward signals or inspect it. */
  readonly onActor?: (actor: GuestActor) => void;
  /** XState inspection hook (traces, live inspector). */
  readonly inspect?: (event: InspectionEvent) => void;
  /** stapflow's extensions, answered when a host asks (default true; false: exactly the release's answers). */
  readonly extensions?: boolean;
}

export async function runGuestSession(io: GuestIo, options: GuestSessionOptions): Promise<GuestOutput> {
  const workspace = await createWorkspace(options.tmpdir);
  try {
    // One machine definition for every session: the OS effects travel in the input.
    const effects: GuestEffects = {
      writeFile: (name, chunks) => workspace.writeFile(name, chunks),
      removeWorkspace: () => workspace.remove(),
      runProcess: nodeProcessRunner({ ...options.process, gate: { backlog: () => io.backlog() } }),
    };
    const output = await driveGuest(
      guestStapsh,
      {
        effects,
        release: options.release,
        machine: options.machine,
        kernelRelease: options.kernelRelease,
        bindir: options.bindir,
        workdir: workspace.dir,
        verbose: options.verbose ?? 0,
        listening: options.listening ?? false,
        ...(options.limits ? { limits: options.limits } : {}),
        ...(options.extensions === undefined ? {} : { extensions: options.extensions }),
      },
      io,
      {
        ...(options.inspect ? { inspect: options.inspect } : {}),
        ...(options.onActor ? { onActor: options.onActor } : {}),
      },
    );
    await io.flush();
    return output;
  } finally {
    workspace.removeSync();
  }
}

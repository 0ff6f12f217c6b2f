/** Vocabulary shared by the child machine, the guest and their OS actors. */
// @ts-nocheck


/** Which of the three SystemTap runners executes a module. */
export type ChildProgram = 'staprun' | 'stapdyn' | 'stapbpf';

export type OutputStream = 'stdout' | 'stderr';

/** How a child process ended. `number` is the signal's number (128+N is the shell's status). */
export type ChildExit =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signalled'; readonly signal: string; readonly number: number };

/** The status a guest exits with for a child's end, like a shell's `$?`. */
export function exitCodeOf(exit: ChildExit): number {
  return exit.kind === 'exited' ? exit.code : 128 + exit.number;
}

/** What the OS process actor is started with. */
export interface ProcessSpec {
  /** Absolute path of the program (always inside the guest's bindir). */
  readonly path: string;
  /** argv, argv[0] included. */
  readonly argv: readonly string[];
  /** Working directory: the guest's private temp dir. */
  readonly cwd: string;
}

/** Events an OS process actor sends to the child machine that invoked it. */
export type ProcessEvent =
  | { readonly type: 'PROCESS.SPAWNED'; readonly pid: number }
  /** The program could not be started; `reason` reads like strerror(3). */
  | { readonly type: 'PROCESS.FAILED'; readonly reason: string }
  | { readonly type: 'PROCESS.OUTPUT'; readonly stream: OutputStream; readonly bytes: Uint8Array }
  /** Sent once, after all output the process wrote has been delivered (or a drain bound passed). */
  | { readonly type: 'PROCESS.EXITED'; readonly exit: ChildExit };

/**
 * Starts the OS process for `spec`, reports its events through `report`,
 * takes commands through `commands`, and returns a cleanup that must leave
 * no process behind: the shape of a callback actor, given as a plain
 * function so that one machine definition serves every session (a
 * per-session `provide()` costs some 70 KiB of machine objects).
 */
export type ProcessRunner = (
  spec: ProcessSpec,
  report: (event: ProcessEvent) => void,
  commands: (listener: (command: ProcessCommand) => void) => void,
) => (() => void) | void;

/** What the child machine asks of its OS process actor. */
export type ProcessCommand = { readonly type: 'SIGNAL'; readonly signal: 'SIGHUP' | 'SIGKILL' | 'SIGTERM' | 'SIGINT' };

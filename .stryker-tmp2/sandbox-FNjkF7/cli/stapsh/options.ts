/** Command-line options of our `stapsh`, parsed with commander. */
// @ts-nocheck


import { InvalidArgumentError } from 'commander';
import { cliProgram, exitStatusOf, parseCliSync, usageError } from '../common/cli.js';
import { NEWEST_RELEASE } from '../../protocol/releases.js';

export interface StapshOptions {
  readonly verbose: number;
  /** `-l PORT`: a character device in listening mode (virtio-serial). */
  readonly port: string | null;
  /** `--listen unix:PATH`: serve each connection as its own session. */
  readonly listen: string | null;
  readonly bindir: string;
  readonly release: string;
  readonly trace: string | null;
  /** Size cap of each trace file before rotation (FILE.1 … FILE.3). */
  readonly traceMaxBytes: number;
  readonly graceMs: number;
  readonly maxUploadTotal: number;
  /** Answer stapflow's extensions (`option status`, the hello nonce) when a host asks. */
  readonly extensions: boolean;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** The options, or the exit status when there is nothing to run (after --help, --version or a usage error, already reported). */
export function parseStapshArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): StapshOptions | number {
  const program = cliProgram(
    'stapsh',
    "SystemTap's remote guest: answers a stap host on stdin/stdout, a virtio-serial port (-l) or a unix socket (--listen), " +
      'and runs staprun/stapdyn/stapbpf from --bindir in a private temp dir.',
  )
    .option('-v, --verbose', 'more debug output on stderr (stapsh: lines); repeatable', (_: string, n: number) => n + 1, 0)
    .option('-l, --port <PORT>', 'listening mode: open PORT read-write and wait for a host (virtio-serial)')
    .option('--listen <unix:PATH>', 'serve each connection on a unix socket as an independent session, until SIGTERM')
    .option('--bindir <DIR>', 'where staprun, stapdyn and stapbpf are executed from (env STAPSH_BINDIR)', env.STAPSH_BINDIR ?? '/usr/bin')
    .option('--protocol-version <V>', 'behave as SystemTap release V (hello version, commands, options)', NEWEST_RELEASE)
    .option('--trace <FILE>', 'record a JSONL trace of the session(s) (docs/trace-format.md)')
    .option('--trace-max-bytes <BYTES>', 'size cap of the trace file before it rotates (keeps 3 old files)', positiveInt, 64 * 1024 * 1024)
    .option('--grace <MS>', 'how long a hung-up child may run before SIGKILL', positiveInt, 10_000)
    .option('--max-upload <BYTES>', 'cumulative upload cap per session', positiveInt, 256_000_000)
    .option('--no-extensions', "answer exactly as SystemTap's stapsh of --protocol-version: refuse `option status`, ignore a hello nonce");
  try {
    const status = parseCliSync(program, argv);
    if (status !== null) return status;
    return checked(program);
  } catch (error) {
    return exitStatusOf(error);
  }
}

function checked(program: ReturnType<typeof cliProgram>): StapshOptions {
  const o = program.opts<{
    verbose: number;
    port?: string;
    listen?: string;
    bindir: string;
    protocolVersion: string;
    trace?: string;
    traceMaxBytes: number;
    grace: number;
    maxUpload: number;
    extensions: boolean;
  }>();
  if (o.port !== undefined && o.listen !== undefined) {
    usageError(program, '-l PORT and --listen cannot be used together');
  }
  if (o.listen !== undefined && !o.listen.startsWith('unix:')) {
    usageError(program, `--listen takes unix:PATH, not '${o.listen}'`);
  }
  return {
    verbose: o.verbose,
    port: o.port ?? null,
    listen: o.listen === undefined ? null : o.listen.slice('unix:'.length),
    bindir: o.bindir,
    release: o.protocolVersion,
    trace: o.trace ?? null,
    traceMaxBytes: o.traceMaxBytes,
    graceMs: o.grace,
    maxUploadTotal: o.maxUpload,
    extensions: o.extensions,
  };
}

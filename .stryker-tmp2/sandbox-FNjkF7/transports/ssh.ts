/**
 * The `ssh` scheme: run the system `ssh` (no shell on our side) with
 * SystemTap's exact remote command, so `~/.ssh/config`, agents and
 * ControlMaster apply as they do for `stap --remote=ssh://…`:
 *
 * ```
 * ssh -q [USER@]HOST [-p PORT] "/bin/bash -c 'cmd=`type -P stapsh || exit 127` && exec \"$cmd\"'"
 * ```
 *
 * (argv order as in SystemTap's `ssh_remote::connect`; OpenSSH reads
 * options after the destination too.) The channel is the process transport:
 * ssh's stdout is `incoming$`, its stderr `stderr$` (ssh keeps the remote
 * stdout and stderr apart), its exit status `exit` — over ssh that is the
 * remote guest's, i.e. the child's status.
 *
 * A failure only shows at exit: 255 is ssh's own (connection refused, host
 * unreachable, authentication failed), 127 is the remote command's "no
 * stapsh on the PATH" (SystemTap then falls back to its legacy scp+staprun
 * mode). `sshExitError` turns those into a message naming the remote, for
 * a host whose session ended without a hello.
 */
// @ts-nocheck


import { TransportError } from './errors.js';
import { spawnProcess } from './processTransport.js';
import type { ExitStatus, Transport } from './transport.js';

export interface SshSpec {
  readonly host: string;
  readonly port: number | null;
  readonly user: string | null;
}

export interface SshOptions {
  /**
   * Extra `-v`s for the guest, as `SessionOptions.verbose` counts them (stap
   * `-vv` is 1). Appended as ` -v` inside the remote command, at most two,
   * as SystemTap does.
   */
  verbose?: number;
  /** The ssh program (default `ssh`, looked up on PATH). */
  sshCommand?: string;
  /** ssh's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Arguments placed right after the program, before `-q` (e.g. `-F CONFIG`, `-o BatchMode=yes`). */
  extraSshArgs?: readonly string[];
}

/** The exit status ssh uses for its own failures. */
export const SSH_CONNECTION_FAILED = 255;
/** The exit status of the remote command when no `stapsh` is on the remote PATH. */
export const SSH_NO_STAPSH = 127;

/** The single remote command string SystemTap sends, with `verbose` ` -v`s (at most 2) inside the quotes. */
export function stapshRemoteCommand(verbose = 0): string {
  const vs = ' -v'.repeat(Math.max(0, Math.min(2, Math.floor(verbose))));
  return `/bin/bash -c 'cmd=\`type -P stapsh || exit 127\` && exec "$cmd"${vs}'`;
}

function bad(uri: string, message: string): TransportError {
  return new TransportError('EINVAL', uri, message);
}

/**
 * The whole argv (`argv[0]` is the ssh program). Throws a `TransportError`
 * (`EINVAL`) for a host or user that ssh would read as an option or that
 * holds whitespace or control characters, and for a port outside 1..65535.
 */
export function sshArgv(spec: SshSpec, options: SshOptions = {}, uri = `ssh://${spec.host}`): [string, ...string[]] {
  let host = spec.host;
  // An IPv6 literal in URI brackets: ssh wants it bare.
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const unsafe = /[\s\x00-\x1f\x7f]/;
  if (host === '') throw bad(uri, 'ssh target requires a hostname');
  if (host.startsWith('-') || unsafe.test(host) || host.includes('@')) throw bad(uri, `invalid ssh host ${JSON.stringify(spec.host)}`);
  if (spec.user !== null && (spec.user === '' || spec.user.startsWith('-') || unsafe.test(spec.user))) {
    throw bad(uri, `invalid ssh user ${JSON.stringify(spec.user)}`);
  }
  if (spec.port !== null && !(Number.isInteger(spec.port) && spec.port >= 1 && spec.port <= 65535)) {
    throw bad(uri, `invalid ssh port ${String(spec.port)}`);
  }
  const destination = spec.user === null ? host : `${spec.user}@${host}`;
  return [
    options.sshCommand ?? 'ssh',
    ...(options.extraSshArgs ?? []),
    '-q',
    destination,
    ...(spec.port === null ? [] : ['-p', String(spec.port)]),
    stapshRemoteCommand(options.verbose ?? 0),
  ];
}

/**
 * Start `ssh … stapsh` to the remote and resolve with its process transport
 * once ssh has started (not once connected: a failure shows as its exit
 * status, see `sshExitError`). Rejects with a `TransportError` when ssh
 * cannot be started (`ENOENT`) or the spec is unusable (`EINVAL`).
 */
export async function connectSsh(
  spec: { host: string; port: number | null; user: string | null },
  uri: string,
  options: { verbose?: number; sshCommand?: string; env?: NodeJS.ProcessEnv; extraSshArgs?: readonly string[] } = {},
): Promise<Transport> {
  const argv = sshArgv(spec, options, uri);
  return spawnProcess(argv, {
    name: uri,
    // Ctrl-C is the host's to turn into `quit`; it must not kill ssh first.
    ownProcessGroup: true,
    ...(options.env === undefined ? {} : { env: options.env }),
  });
}

/** What an ssh exit status means. */
export type SshExitKind =
  /** 0: the guest (and its child) ended well. */
  | 'ok'
  /** 255: ssh itself failed (refused, unreachable, authentication, dropped). */
  | 'connection-failed'
  /** 127: no `stapsh` on the remote PATH; the remote needs SystemTap's legacy mode. */
  | 'no-stapsh'
  /** Any other code: the remote guest's status (the child's). */
  | 'remote-status'
  /** ssh was killed by a signal. */
  | 'signal'
  /** No status known. */
  | 'unknown';

function codeOf(status: ExitStatus | number | null | undefined): number | null {
  if (status === null || status === undefined) return null;
  return typeof status === 'number' ? status : status.code;
}

export function classifySshExit(status: ExitStatus | number | null | undefined): SshExitKind {
  if (status === null || status === undefined) return 'unknown';
  const code = codeOf(status);
  if (code === null) return 'signal';
  if (code === 0) return 'ok';
  if (code === SSH_CONNECTION_FAILED) return 'connection-failed';
  if (code === SSH_NO_STAPSH) return 'no-stapsh';
  return 'remote-status';
}

/** An ssh failure that `sshExitError` recognised. */
export class SshExitError extends Error {
  override readonly name = 'SshExitError';
  constructor(
    readonly kind: 'connection-failed' | 'no-stapsh',
    readonly remote: string,
    readonly host: string,
    message: string,
  ) {
    super(message);
  }
}

/** The host part of an ssh remote URI (`ssh://[user@]host[:port][/]`, `host[:port]`, `[v6]:port`), for messages. */
export function sshHostOfUri(uri: string): string {
  let rest = uri.replace(/^ssh:\/\//, '').replace(/\/$/, '');
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = rest.slice(at + 1);
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    return close > 0 ? rest.slice(1, close) : rest;
  }
  const colon = rest.indexOf(':');
  if (colon >= 0 && colon === rest.lastIndexOf(':')) rest = rest.slice(0, colon);
  return rest === '' ? uri : rest;
}

/**
 * For a host whose session over ssh ended without a hello: the error the
 * ssh exit status explains (255, 127), naming the remote; null for any other
 * status (the session's own error then says it best).
 */
export function sshExitError(status: ExitStatus | number | null | undefined, uri: string): SshExitError | null {
  const host = sshHostOfUri(uri);
  switch (classifySshExit(status)) {
    case 'connection-failed':
      return new SshExitError(
        'connection-failed',
        uri,
        host,
        `ssh connection to ${host} failed (ssh exited with status 255: unreachable, refused, or not authenticated) on remote '${uri}'`,
      );
    case 'no-stapsh':
      return new SshExitError(
        'no-stapsh',
        uri,
        host,
        `no stapsh on ${host} (the remote command exited with status 127: stapsh is not on the remote PATH; this remote needs SystemTap's legacy ssh mode) on remote '${uri}'`,
      );
    default:
      return null;
  }
}

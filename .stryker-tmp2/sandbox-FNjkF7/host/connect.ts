/**
 * From a parsed `--remote` to a connected `Transport`, per scheme, as stap
 * 4.8's `remote::create` connects:
 * - `unix:PATH` → a unix socket client (`connectUnix`);
 * - `stapsh:` → a local guest spawned over stdio: `options.stapshCommand`
 *   (split like shell words, no shell) or, by default, stapflow's own guest
 *   (`node bin/stapsh.js`); ` -v` appended per extra verbosity, at most two;
 * - `libvirt:` → `stapvirt [-v]… [-c LIBVIRT_URI] connect DOMAIN`;
 * - `ssh` → `connectSsh` (transports/ssh.ts);
 * - `direct:` → refused: stapflow only talks to a stapsh.
 *
 * Spawned helpers are process transports: they are SIGKILLed from an exit
 * hook if still running when this process exits. Every error names the
 * remote as stap does (`… on remote 'URI'`).
 */
// @ts-nocheck


import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RemoteSpec } from '../protocol/remoteUri.js';
import { onRemote } from '../protocol/remoteUri.js';
import { connectUnix } from '../transports/unixSocket.js';
import { spawnProcess } from '../transports/processTransport.js';
import { connectSsh } from '../transports/ssh.js';
import type { Transport } from '../transports/transport.js';

export interface ConnectOptions {
  /**
   * The guest for `stapsh:` remotes, split like shell words (quotes,
   * backslashes; no expansion, no shell). Default: stapflow's own stapsh,
   * `process.execPath PACKAGE/bin/stapsh.js`.
   */
  readonly stapshCommand?: string;
  /** Extra verbosity for the guest (stap `-vv` is 1), as `SessionOptions.verbose`. */
  readonly verbose?: number;
  /** The stapvirt program for `libvirt:` remotes (default `/usr/bin/stapvirt`, stap's BINDIR/stapvirt). */
  readonly stapvirtCommand?: string;
  /** The whole environment of a spawned guest, stapvirt or ssh (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Bound on connecting a unix socket (default 10 000 ms). */
  readonly connectTimeoutMs?: number;
  /** For `ssh` remotes: the ssh program (default `ssh` on PATH). */
  readonly sshCommand?: string;
  /** For `ssh` remotes: arguments right after the ssh program. */
  readonly extraSshArgs?: readonly string[];
}

/** A remote could not be reached; `message` ends with ` on remote 'URI'`. */
export class RemoteConnectError extends Error {
  /** The errno-like code of the underlying failure, when there is one (`ENOENT`, `ECONNREFUSED`, `EINVAL`…). */
  readonly code: string | undefined;
  readonly remote: string;
  constructor(message: string, remote: string, options: { code?: string | undefined; cause?: unknown } = {}) {
    super(message.endsWith(`on remote '${remote}'`) ? message : onRemote(message, remote), { cause: options.cause });
    this.name = 'RemoteConnectError';
    this.code = options.code;
    this.remote = remote;
  }
}

/**
 * Split a command line into words like a POSIX shell would, without
 * running one: blanks separate words; '…' is literal; in "…" a backslash
 * escapes only $ ` " \ and newline; elsewhere a backslash escapes any
 * character (backslash-newline is removed). No expansion of any kind.
 * Throws on an unterminated quote or a trailing backslash.
 */
export function splitCommandWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i += 1;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' quote in command: ${line}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i += 1;
      inWord = true;
      for (;;) {
        if (i >= line.length) throw new Error(`unterminated " quote in command: ${line}`);
        const d = line[i]!;
        if (d === '"') {
          i += 1;
          break;
        }
        if (d === '\\' && i + 1 < line.length && '$`"\\\n'.includes(line[i + 1]!)) {
          if (line[i + 1] !== '\n') word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i += 1;
        }
      }
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new Error(`trailing backslash in command: ${line}`);
      if (line[i + 1] !== '\n') {
        word += line[i + 1];
        inWord = true;
      }
      i += 2;
    } else {
      word += c;
      inWord = true;
      i += 1;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The package root: the directory holding `bin/stapsh.js`, from dist/host/ or host/. */
export function packageRoot(): string {
  const here = import.meta.dirname;
  for (const up of ['../..', '..']) {
    const root = resolve(here, up);
    if (existsSync(join(root, 'bin', 'stapsh.js')) && existsSync(join(root, 'package.json'))) return root;
  }
  return resolve(here, '../..');
}

/** The argv of our own guest: `node PACKAGE/bin/stapsh.js`. */
export function defaultStapshArgv(): [string, ...string[]] {
  return [process.execPath, join(packageRoot(), 'bin', 'stapsh.js')];
}

/** The argv spawned for a `stapsh:` remote. */
export function stapshArgv(options: ConnectOptions = {}): [string, ...string[]] {
  const base = options.stapshCommand === undefined ? defaultStapshArgv() : splitCommandWords(options.stapshCommand);
  if (base.length === 0) throw new Error('empty stapsh command');
  const vs = Array<string>(Math.max(0, Math.min(2, Math.floor(options.verbose ?? 0)))).fill('-v');
  return [base[0]!, ...base.slice(1), ...vs];
}

/** The argv spawned for a `libvirt:` remote, as stap builds it. */
export function stapvirtArgv(domain: string, libvirtUri: string | null, options: ConnectOptions = {}): [string, ...string[]] {
  const vs = Array<string>(Math.max(0, Math.floor(options.verbose ?? 0))).fill('-v');
  return [
    options.stapvirtCommand ?? '/usr/bin/stapvirt',
    ...vs,
    ...(libvirtUri === null ? [] : ['-c', libvirtUri]),
    'connect',
    domain,
  ];
}

const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  EACCES: 'Permission denied',
  ENOTSOCK: 'Socket operation on non-socket',
  ETIMEDOUT: 'Connection timed out',
  ENOTDIR: 'Not a directory',
  EPERM: 'Operation not permitted',
  EPROTOTYPE: 'Protocol wrong type for socket',
};

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Connect to a remote. Resolves once the channel is open (a socket
 * connected, a helper process started); the guest's hello is the host
 * session's business. Rejects with a `RemoteConnectError`.
 */
export async function connectRemote(spec: RemoteSpec, uri: string, options: ConnectOptions = {}): Promise<Transport> {
  const env = options.env === undefined ? {} : { env: options.env };
  switch (spec.kind) {
    case 'direct':
      throw new RemoteConnectError(
        'direct mode (running staprun locally without stapsh) is not supported by stapflow; use stapsh: for a local guest',
        uri,
        { code: 'ENOTSUP' },
      );
    case 'unix':
      try {
        return await connectUnix(spec.path, {
          name: uri,
          ...(options.connectTimeoutMs === undefined ? {} : { timeoutMs: options.connectTimeoutMs }),
        });
      } catch (error) {
        const code = codeOf(error);
        const reason = (code !== undefined && STRERROR[code]) || messageOf(error);
        throw new RemoteConnectError(`error connecting to socket ${spec.path}: ${reason}`, uri, { code, cause: error });
      }
    case 'stapsh': {
      let argv: [string, ...string[]];
      try {
        argv = stapshArgv(options);
      } catch (error) {
        throw new RemoteConnectError(`error launching stapsh: ${messageOf(error)}`, uri, { code: 'EINVAL', cause: error });
      }
      try {
        // Own process group: a terminal's Ctrl-C is the host's to turn into `quit`.
        return await spawnProcess(argv, { name: uri, ownProcessGroup: true, ...env });
      } catch (error) {
        throw new RemoteConnectError(`error launching stapsh (${argv[0]}: ${messageOf(error)})`, uri, { code: codeOf(error), cause: error });
      }
    }
    case 'libvirt': {
      const argv = stapvirtArgv(spec.domain, spec.libvirtUri, options);
      try {
        // stapvirt relays the VM's virtio-serial port, which keeps a dead session's bytes.
        return await spawnProcess(argv, { name: uri, ownProcessGroup: true, freshPeer: false, ...env });
      } catch (error) {
        const code = codeOf(error);
        if (code === 'ENOENT') throw new RemoteConnectError(`stapvirt missing (${argv[0]})`, uri, { code, cause: error });
        throw new RemoteConnectError(`error launching stapvirt (${messageOf(error)})`, uri, { code, cause: error });
      }
    }
    case 'ssh':
      try {
        return await connectSsh({ host: spec.host, port: spec.port, user: spec.user }, uri, {
          ...(options.verbose === undefined ? {} : { verbose: options.verbose }),
          ...(options.sshCommand === undefined ? {} : { sshCommand: options.sshCommand }),
          ...(options.extraSshArgs === undefined ? {} : { extraSshArgs: options.extraSshArgs }),
          ...env,
        });
      } catch (error) {
        throw new RemoteConnectError(messageOf(error), uri, { code: codeOf(error), cause: error });
      }
  }
}

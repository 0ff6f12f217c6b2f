/**
 * A private sshd for real ssh tests: 127.0.0.1 on a free port, key
 * authentication only, no PAM, root logins whose environment is `env`
 * (`SetEnv`), and the client's options both as arguments and as an
 * ssh_config file. It runs in the foreground (`-D`) as a tracked process, so
 * `killAll()` ends it.
 */
// @ts-nocheck


import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawnTracked, type Proc } from './procs.js';
import { describeNeeding, missingOf, program, ROOT, type Need } from './needs.js';

export const SSHD = '/usr/sbin/sshd';

/** What the ssh tests need (see needs.ts for the guard). */
export const SSH_NEEDS: readonly Need[] = [
  program('sshd', SSHD, 'openssh-server'),
  program('ssh', 'ssh', 'openssh-client'),
  program('ssh-keygen', 'ssh-keygen', 'openssh-client'),
  { ...ROOT, missing: 'root (the test sshd logs in as root)' },
];

/** What of {@link SSH_NEEDS} is missing (the older name; kept for the merge window). */
export function sshMissing(): string[] {
  return missingOf(SSH_NEEDS);
}

/** describe for tests needing a private sshd: skipped locally when something is missing, failing in CI. */
export function describeSsh(name: string, body: () => void): void {
  describeNeeding(SSH_NEEDS, 'ssh tests', name, body);
}

export function keygen(path: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-N', '', '-t', 'ed25519', '-f', path], { stdio: 'pipe', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${String(r.stderr)}`);
}

/** A TCP port free on 127.0.0.1 a moment ago (the caller retries when it is taken meanwhile). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

export interface PrivateSshd {
  readonly port: number;
  readonly proc: Proc;
  /** Client options as `-o` arguments (for `extraSshArgs`). */
  readonly clientArgs: readonly string[];
  /** The same options as an ssh_config file (for `--ssh-config`). */
  readonly sshConfig: string;
}

/** Start sshd with its keys and config under `home` (created); retries a port taken meanwhile. */
export async function startPrivateSshd(home: string, env: Readonly<Record<string, string>>): Promise<PrivateSshd> {
  mkdirSync(home, { recursive: true });
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = join(home, 'host_key');
  const clientKey = join(home, 'client_key');
  keygen(hostKey);
  keygen(clientKey);
  writeFileSync(join(home, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const options: [string, string][] = [
    ['StrictHostKeyChecking', 'no'],
    ['UserKnownHostsFile', '/dev/null'],
    ['IdentityFile', clientKey],
    ['IdentitiesOnly', 'yes'],
    ['BatchMode', 'yes'],
    ['ConnectTimeout', '10'],
    ['LogLevel', 'ERROR'],
  ];
  const clientArgs = ['-F', '/dev/null', ...options.flatMap(([k, v]) => ['-o', `${k}=${v}`])];
  const sshConfig = join(home, 'ssh_config');
  writeFileSync(sshConfig, ['Host *', ...options.map(([k, v]) => `  ${k} ${v}`), ''].join('\n'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = join(home, `sshd_config.${port}`);
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${join(home, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(home, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'StrictModes no',
        'UsePAM no',
        // scp (legacy mode) speaks SFTP since OpenSSH 9.0.
        'Subsystem sftp internal-sftp',
        `SetEnv ${Object.entries(env)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
        '',
      ].join('\n'),
    );
    const proc = spawnTracked([SSHD, '-D', '-e', '-f', config]);
    // False when sshd exits first (a port taken meanwhile) or stays silent.
    const listening = await proc.waitFor('Server listening', 10_000, 'stderr').then(
      () => true,
      () => false,
    );
    if (listening) return { port, proc, clientArgs, sshConfig };
    if (attempt >= 3 || !/Address already in use/.test(proc.stderr())) throw new Error(`sshd did not start: ${proc.stderr()}`);
  }
}

/**
 * Our host (`startSession` over `connectRemote`) against a guest spawned
 * over stdio, the `stapsh:` scheme: SystemTap's real stapsh 4.8 (inside
 * `unshare -m`, `/usr/bin/staprun` bind-mounted to a scripted child), and
 * our own stapsh (the default command; its bindir holds the scripted child).
 *
 * Over stdio there is no data mode: the child's stdout arrives raw on the
 * guest's stdout, its stderr on the guest's stderr (the process transport's
 * `stderr$`), and the guest's exit status — the child's — is `result.exit`.
 *
 * SystemTap's 4.8 guest may exit without `OK` when the child ends within a
 * few ms of `run`, so the scripted children sleep before output and exit.
 */
// @ts-nocheck


import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../protocol/bytes.js';
import { parseRemote } from '../../protocol/remoteUri.js';
import { connectRemote, type ConnectOptions } from '../../host/connect.js';
import { startSession, type HostSessionHandle, type OutputChunk } from '../../host/session.js';
import { eventually } from '../support/procs.js';
import { describeReal, itReal, REAL_STAPSH, scriptedBindir, strayWorkspaces, within } from '../support/realPeers.js';

const MODULE = { name: 'stap_1234.ko', bytes: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]) };
const URI = 'stapsh:';

const EXITS_3 = `#!/bin/sh
sleep 0.2
echo "args: $*"
echo "to stderr" >&2
sleep 0.2
exit 3
`;

const WAITS_FOR_HUP = (marker: string) => `#!/bin/sh
trap 'echo hup >> ${marker}; exit 7' HUP
sleep 0.2
echo ready
i=0
while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
echo "no SIGHUP" >> ${marker}
exit 0
`;

let dir: string;
const sessions: HostSessionHandle[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-stdio-'));
  chmodSync(dir, 0o755);
});
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close().catch(() => undefined)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, 0o755);
  return path;
}

async function open(options: ConnectOptions) {
  const parsed = parseRemote(URI);
  if (!parsed.ok) throw new Error(parsed.message);
  const transport = await connectRemote(parsed.spec, URI, options);
  const session = startSession(transport, { module: MODULE, remote: URI, replyTimeoutMs: 10_000 });
  sessions.push(session);
  // Once ended, a session needs no closing.
  void session.done.finally(() => sessions.splice(sessions.indexOf(session) >>> 0, 1)).catch(() => undefined);
  const chunks: OutputChunk[] = [];
  session.output$.subscribe((c) => chunks.push(c));
  const text = (stream: 'stdout' | 'stderr') =>
    Buffer.from(concatBytes(chunks.filter((c) => c.stream === stream).map((c) => c.bytes))).toString('latin1');
  return { transport, session, text };
}

/** Run a whole session whose child prints and exits 3. */
async function exits3(options: ConnectOptions) {
  const { session, text } = await open(options);
  const result = await within(session.done, 20_000, 'session end');
  return { result, stdout: text('stdout'), stderr: text('stderr') };
}

/** Interrupt once the child printed `ready`; the child must get SIGHUP and the session end within its reply bound (10 s, plus margin). */
async function interrupted(options: ConnectOptions, marker: string) {
  const { session, text } = await open(options);
  await eventually(() => text('stdout').includes('ready\n'), 10_000, 'the child printing ready');
  session.interrupt();
  const result = await within(session.done, 15_000, 'session end after interrupt');
  await eventually(() => existsSync(marker), 10_000, 'the child recording SIGHUP');
  return { result, marker: readFileSync(marker, 'utf8') };
}

function realStapshCommand(child: string): string {
  return `unshare -m sh -c 'mount --bind "$0" /usr/bin/staprun && exec ${REAL_STAPSH}' ${child}`;
}

describeReal('our host drives SystemTap stapsh 4.8 over stdio (stapsh:)', () => {
  itReal('output raw on stdout, stderr apart, exit status 3', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const child = script('real-exits3.sh', EXITS_3);
    const r = await exits3({ stapshCommand: realStapshCommand(child), env: { ...process.env, TMPDIR: tmp } });
    expect(r.result.ok, JSON.stringify(r.result)).toBe(true);
    expect(r.result.ok && r.result.hello.version).toBe('4.8');
    expect(r.result.ok && r.result.ended).toBe('eof');
    expect(r.stdout).toBe('args: -R -r 0:stapsh: ./stap_1234.ko\n');
    expect(r.stderr).toBe('to stderr\n');
    expect(r.result.exit).toEqual({ code: 3, signal: null });
    expect(strayWorkspaces(tmp)).toEqual([]);
  });

  itReal('interrupt: quit → the child gets SIGHUP, the host finishes within its reply bound', async () => {
    const marker = join(dir, 'real-hup.txt');
    const child = script('real-hup.sh', WAITS_FOR_HUP(marker));
    const r = await interrupted({ stapshCommand: realStapshCommand(child), env: { ...process.env, TMPDIR: dir } }, marker);
    expect(r.marker).toBe('hup\n');
    expect(r.result.ok, JSON.stringify(r.result)).toBe(true);
    expect(r.result.exit).toEqual({ code: 7, signal: null });
  });
});

describe('our host drives our own stapsh over stdio (stapsh:, default command)', () => {
  it('output raw on stdout, stderr apart, exit status 3', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const bindir = scriptedBindir(join(dir, 'ours-exits3'), EXITS_3);
    const r = await exits3({ env: { ...process.env, STAPSH_BINDIR: bindir, TMPDIR: tmp } });
    expect(r.result.ok, JSON.stringify(r.result)).toBe(true);
    expect(r.result.ok && r.result.ended).toBe('eof');
    expect(r.stdout).toMatch(/^args: (-R )?(-r 0:stapsh: )?\.\/stap_1234\.ko\n$/);
    expect(r.stdout).toBe('args: -R -r 0:stapsh: ./stap_1234.ko\n');
    expect(r.stderr).toBe('to stderr\n');
    expect(r.result.exit).toEqual({ code: 3, signal: null });
    expect(strayWorkspaces(tmp)).toEqual([]);
  }, 30_000);

  it('interrupt: quit → the child gets SIGHUP, the host finishes within its reply bound', async () => {
    const marker = join(dir, 'ours-hup.txt');
    const bindir = scriptedBindir(join(dir, 'ours-hup'), WAITS_FOR_HUP(marker));
    const r = await interrupted({ env: { ...process.env, STAPSH_BINDIR: bindir, TMPDIR: dir } }, marker);
    expect(r.marker).toBe('hup\n');
    expect(r.result.ok, JSON.stringify(r.result)).toBe(true);
    expect(r.result.exit).toEqual({ code: 7, signal: null });
  }, 30_000);
});

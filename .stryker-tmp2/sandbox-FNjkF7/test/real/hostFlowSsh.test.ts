/**
 * Flow control over ssh (a real sshd, the system ssh, our guest on the
 * "remote"): a slow consumer of a session's stdout, or of its separate
 * stderr, holds the remote child back. The oracle is the child's progress
 * (`wchar` in /proc/PID/io: the remote is this machine) against what the
 * consumer has taken.
 */
// @ts-nocheck


import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startSession } from '../../host/session.js';
import { connectSsh } from '../../transports/ssh.js';
import type { Transport } from '../../transports/transport.js';
import { killAll } from '../support/procs.js';
import { describeSsh, startPrivateSshd } from '../support/sshd.js';

const OUR_STAPSH = resolve(import.meta.dirname, '../../bin/stapsh.js');
const MiB = 1024 * 1024;
const N = 1_500_000; // seq 1 N: 10,888,897 bytes
/** Guest 1 MiB + host 1 MiB + pipes + ssh's channel window (2 MiB) and socket buffers on both sides. */
const IN_FLIGHT_CAP = 16 * MiB;

let dir: string;
const transports: Transport[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-flowssh-'));
  chmodSync(dir, 0o755);
});
afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close().catch(() => undefined)));
  killAll();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const expected = Array.from({ length: N }, (_, i) => `${i + 1}\n`).join('');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** sshd whose login PATH finds a `stapsh` wrapper running our guest with a scripted child. */
async function remote(name: string, childCommand: string) {
  const base = join(dir, name);
  const bindir = join(base, 'bindir');
  const pathDir = join(base, 'path');
  const tmp = join(base, 'tmp');
  for (const d of [bindir, pathDir, tmp]) mkdirSync(d, { recursive: true });
  const pidFile = join(base, 'child.pid');
  for (const p of ['staprun', 'stapbpf']) {
    writeFileSync(join(bindir, p), `#!/bin/sh\necho $$ > ${pidFile}\nexec ${childCommand}\n`);
    chmodSync(join(bindir, p), 0o755);
  }
  writeFileSync(join(pathDir, 'stapsh'), `#!/bin/sh\nexec ${process.execPath} ${OUR_STAPSH} --bindir ${bindir} "$@"\n`);
  chmodSync(join(pathDir, 'stapsh'), 0o755);
  const sshd = await startPrivateSshd(join(base, 'sshd'), { PATH: [pathDir, '/usr/bin', '/bin'].join(':'), TMPDIR: tmp });
  const uri = `ssh://root@127.0.0.1:${sshd.port}`;
  const transport = await connectSsh({ host: '127.0.0.1', port: sshd.port, user: 'root' }, uri, { extraSshArgs: sshd.clientArgs });
  transports.push(transport);
  let last = 0;
  const progress = () => {
    try {
      last = Number(/wchar: (\d+)/.exec(readFileSync(`/proc/${Number(readFileSync(pidFile, 'utf8'))}/io`, 'utf8'))![1]);
    } catch {
      // not started yet, or gone: the last reading stands
    }
    return last;
  };
  return { uri, transport, progress };
}

describeSsh('flow control over ssh', () => {
  for (const stream of ['stdout', 'stderr'] as const) {
    it(`a slow consumer of the session's ${stream} holds the remote child back; every byte arrives`, async () => {
      const r = await remote(stream, stream === 'stdout' ? `seq 1 ${N}` : `sh -c 'seq 1 ${N} >&2'`);
      const session = startSession(r.transport, { module: { name: 'seq.ko', bytes: new Uint8Array(3) }, remote: r.uri, replyTimeoutMs: 30_000 });
      const readable = stream === 'stdout' ? session.stdout : session.stderr;
      let got = '';
      let maxGap = 0;
      for await (const chunk of readable) {
        got += (chunk as Buffer).toString('latin1');
        maxGap = Math.max(maxGap, r.progress() - got.length);
        await sleep(2);
      }
      const result = await session.done;
      expect(result.ok, JSON.stringify(result)).toBe(true);
      expect(got.length).toBe(expected.length);
      expect(got === expected).toBe(true);
      expect(maxGap).toBeLessThan(IN_FLIGHT_CAP);
    }, 120_000);
  }
});

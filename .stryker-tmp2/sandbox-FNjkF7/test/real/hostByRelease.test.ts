/**
 * Our host against our guest behaving as every release in the feature table:
 * over stdio (no options needed) every release completes with the child's
 * argv built for that release (-R from 1.6, -r IDX:URI from 1.7); over a
 * socket (data mode needed) releases before 2.4 fail fast with stap's words.
 */
// @ts-nocheck


import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes, latin1 } from '../../protocol/bytes.js';
import { RELEASES } from '../../protocol/releases.js';
import { startSession, type OutputChunk } from '../../host/session.js';
import { spawnProcess } from '../../transports/processTransport.js';
import { connectUnix } from '../../transports/unixSocket.js';
import { killAll, spawnTracked, waitForListening } from '../support/procs.js';
import { scriptedBindir } from '../support/realPeers.js';

const OUR_STAPSH = resolve(import.meta.dirname, '../../bin/stapsh.js');
const CHILD = `#!/bin/sh
echo "argv: $*"
sleep 0.05
exit 4
`;
let dir: string;
let bindir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-rel-'));
  bindir = scriptedBindir(dir, CHILD, ['staprun', 'stapdyn', 'stapbpf']);
});
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

const MODULE = { name: 'stap_9.ko', bytes: new Uint8Array([0x7f, 0x45, 0x4c, 0x46]) };
const releases = RELEASES.map((r) => r.release);

function expectedArgv(release: string, remote: string): string {
  const rank = releases.indexOf(release);
  const rename = rank >= releases.indexOf('1.6') ? '-R ' : '';
  const id = rank >= releases.indexOf('1.7') ? `-r 0:${remote} ` : '';
  return `argv: ${rename}${id}./stap_9.ko\n`;
}

describe('our host with our guest as every release', () => {
  for (const release of releases) {
    it(`over stdio as ${release}: completes, argv for that release, exit status carried`, async () => {
      const transport = await spawnProcess(
        [process.execPath, OUR_STAPSH, '--protocol-version', release, '--bindir', bindir],
        { env: { ...process.env, TMPDIR: dir } },
      );
      const remote = 'stapsh:';
      const session = startSession(transport, { module: MODULE, remote, replyTimeoutMs: 10_000 });
      const chunks: OutputChunk[] = [];
      session.output$.subscribe((c) => chunks.push(c));
      const result = await session.done;
      expect(result.ok).toBe(true);
      expect(result.ok && result.hello.version).toBe(release);
      expect(latin1(concatBytes(chunks.filter((c) => c.stream === 'stdout').map((c) => c.bytes)))).toBe(expectedArgv(release, remote));
      expect(result.exit).toEqual({ code: 4, signal: null });
    });
  }

  for (const release of releases) {
    const needs = releases.indexOf(release) < releases.indexOf('2.4');
    it(`over a unix socket as ${release}: ${needs ? 'fails fast: no options before 2.4' : 'completes in data mode'}`, async () => {
      const sock = join(dir, `rel-${release}.sock`);
      spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${sock}`, '--protocol-version', release, '--bindir', bindir], {
        env: { ...process.env, TMPDIR: dir },
      });
      await waitForListening(sock);
      const remote = `unix:${sock}`;
      const session = startSession(await connectUnix(sock), { module: MODULE, remote, replyTimeoutMs: 10_000 });
      const chunks: OutputChunk[] = [];
      session.output$.subscribe((c) => chunks.push(c));
      const result = await session.done;
      if (needs) {
        expect(!result.ok && result.error).toBe(
          `stapsh ${release} does not support options (data mode needs stapsh 2.4 or later; this host speaks 4.8) on remote '${remote}'`,
        );
      } else {
        expect(result.ok).toBe(true);
        expect(latin1(concatBytes(chunks.map((c) => c.bytes)))).toBe(expectedArgv(release, remote));
      }
    });
  }
});

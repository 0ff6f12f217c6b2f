/** Several remotes at once through our guest: merged output, `N: ` prefixes, the first failure. */
// @ts-nocheck


import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { latin1, concatBytes } from '../../protocol/bytes.js';
import { runOnRemotes, type RemoteOutput } from '../../host/runner.js';
import { connectUnix } from '../../transports/unixSocket.js';
import { killAll, spawnTracked, waitForListening } from '../support/procs.js';
import { scriptedBindir } from '../support/realPeers.js';

const OUR_STAPSH = resolve(import.meta.dirname, '../../bin/stapsh.js');
const CHILD = `#!/bin/sh
echo "one $*"
printf 'two '
sleep 0.1
echo and a half
exit 0
`;

let dir: string;
let sock: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-runner-'));
  const bindir = scriptedBindir(dir, CHILD);
  sock = join(dir, 'g.sock');
  spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${sock}`, '--bindir', bindir], { env: { ...process.env, TMPDIR: dir } });
  await waitForListening(sock);
});
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => undefined);

const MODULE = { name: 'm.bo', bytes: new Uint8Array([1, 2, 3]) };

async function run(uris: string[], prefix: boolean) {
  const runner = runOnRemotes(uris, {
    module: MODULE,
    prefix,
    replyTimeoutMs: 5_000,
    connect: (uri) => connectUnix(uri.slice('unix:'.length), { timeoutMs: 2_000 }),
  });
  const chunks: RemoteOutput[] = [];
  await new Promise<void>((r) => runner.output$.subscribe({ next: (c) => chunks.push(c), complete: r }));
  return { chunks, ...(await runner.done) };
}

describe('runOnRemotes', () => {
  it('runs on every remote and prefixes each stdout line with its index', async () => {
    const { chunks, firstFailure, results } = await run([`unix:${sock}`, `unix:${sock}`], true);
    expect(firstFailure).toBeNull();
    expect(results.map((r) => r.result.ok)).toEqual([true, true]);
    for (const i of [0, 1]) {
      const text = latin1(concatBytes(chunks.filter((c) => c.remote === i).map((c) => c.bytes)));
      expect(text).toBe(`${i}: one ./m.bo\n${i}: two and a half\n`);
    }
  });

  it('reports the first failure, naming its remote, while the others complete', async () => {
    const missing = join(dir, 'nobody.sock');
    const { firstFailure, results } = await run([`unix:${sock}`, `unix:${missing}`], false);
    expect(results[0]?.result.ok).toBe(true);
    expect(firstFailure?.uri).toBe(`unix:${missing}`);
    expect(firstFailure && !firstFailure.result.ok && firstFailure.result.error).toContain(missing);
  });
});

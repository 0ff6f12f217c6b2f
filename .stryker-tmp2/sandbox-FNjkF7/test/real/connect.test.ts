/** The one-call host API: connect(uri, options). */
// @ts-nocheck

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../host/connect-uri.js';
import { latin1, concatBytes } from '../../protocol/bytes.js';
import { killAll, spawnTracked, waitForListening } from '../support/procs.js';
import { scriptedBindir } from '../support/realPeers.js';

const OUR_STAPSH = resolve(import.meta.dirname, '../../bin/stapsh.js');
let dir: string;
let sock: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-connect-'));
  const bindir = scriptedBindir(dir, '#!/bin/sh\necho "args: $*"\nsleep 0.1\n');
  sock = join(dir, 'g.sock');
  spawnTracked([process.execPath, OUR_STAPSH, '--listen', `unix:${sock}`, '--bindir', bindir], { env: { ...process.env, TMPDIR: dir } });
  await waitForListening(sock);
});
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('connect(uri)', () => {
  it('parses the remote, opens it and runs a session (data mode over unix:)', async () => {
    const session = await connect(`unix:${sock}`, { module: { name: 'm.bo', bytes: new Uint8Array([1]) } });
    const out: Uint8Array[] = [];
    session.output$.subscribe((c) => out.push(c.bytes));
    const result = await session.done;
    expect(result.ok).toBe(true);
    expect(latin1(concatBytes(out))).toBe('args: ./m.bo\n');
  });

  it("rejects a bad URI with stap's message", async () => {
    await expect(connect('foo:bar', { module: { name: 'm.bo', bytes: new Uint8Array([1]) } })).rejects.toThrow(
      "unrecognized URI scheme 'foo' in remote: foo:bar on remote 'foo:bar'",
    );
  });

  it('names the remote when nothing listens', async () => {
    const missing = join(dir, 'none.sock');
    await expect(connect(`unix:${missing}`, { module: { name: 'm.bo', bytes: new Uint8Array([1]) } })).rejects.toThrow(
      `on remote 'unix:${missing}'`,
    );
  });
});

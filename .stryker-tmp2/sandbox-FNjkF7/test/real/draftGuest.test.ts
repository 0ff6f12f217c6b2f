/** The pre-1.5 draft dialect in a real guest process: silent, `arg` payloads as argv, `signal NUM`; our host fails clearly against it. */
// @ts-nocheck

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSession } from '../../host/session.js';
import { spawnProcess } from '../../transports/processTransport.js';
import { killAll, spawnTracked } from '../support/procs.js';
import { scriptedBindir, strayWorkspaces } from '../support/realPeers.js';

const OUR_STAPSH = resolve(import.meta.dirname, '../../bin/stapsh.js');
let dir: string;
let bindir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-draft-'));
  bindir = scriptedBindir(dir, '#!/bin/sh\ntrap \'echo "got HUP"; exit 5\' HUP\necho "args: $*"\nls\nwhile :; do sleep 0.05; done\n');
});
afterEach(() => killAll());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('our stapsh as a draft (pre-1.5) guest', () => {
  it('answers nothing, runs the child with the arg payloads, passes `signal 1` on, exits with the child', async () => {
    const guest = spawnTracked([process.execPath, OUR_STAPSH, '--protocol-version', '1.4', '--bindir', bindir], { env: { ...process.env, TMPDIR: dir } });
    guest.child.stdin!.write('stap 1.4\nfile 3 m.ko\nELFarg 2\n-xarg 11\nhello world\nrun\n');
    await guest.waitFor('m.ko\n', 10_000, 'stdout');
    expect(guest.stdout()).toBe('args: -x hello world\nm.ko\n');
    guest.child.stdin!.write('quit\nsignal 1\n');
    expect((await guest.wait(10_000)).code).toBe(5);
    expect(guest.stdout()).toBe('args: -x hello world\nm.ko\ngot HUP\n');
    expect(strayWorkspaces(dir)).toEqual([]);
  });

  it('our host gives up on it at the hello bound, naming its own release and why', async () => {
    const transport = await spawnProcess([process.execPath, OUR_STAPSH, '--protocol-version', '1.0', '--bindir', bindir], { env: { ...process.env, TMPDIR: dir } });
    const t0 = Date.now();
    const result = await startSession(transport, { module: { name: 'm.ko', bytes: new Uint8Array([1]) }, remote: 'stapsh:', replyTimeoutMs: 500 }).done;
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(!result.ok && result.error).toBe(
      "no reply to the hello within 500 ms on remote 'stapsh:' (this host speaks 4.8; stapsh answers from release 1.5 on, the draft protocol before it never replies)",
    );
  });
});

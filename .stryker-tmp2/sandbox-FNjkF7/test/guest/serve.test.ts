/**
 * `serveGuest`: one call serves a guest as `stapsh --listen` does. A real
 * unix socket, our host library as the client, a shell script as staprun.
 */
// @ts-nocheck


import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../host/connect-uri.js';
import { serveGuest } from '../../guest/serve.js';
import { scriptedBindir, within } from '../support/realPeers.js';

let dir: string;
let sessions: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-serve-'));
  sessions = mkdtempSync(join(dir, 'tmp-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const module = { name: 'm.ko', bytes: new Uint8Array([0x7f, 0x45, 0x4c, 0x46]) };

describe('serveGuest({ listen })', () => {
  it('serves sessions with their own temp dirs; stop() hangs up a running child and ends with 0', async () => {
    const bindir = scriptedBindir(
      join(dir, 'a'),
      // mode=3: print and exit 3; else run until SIGHUP, then say bye.
      '#!/bin/sh\ncase "$*" in *mode=3*) echo three; exit 3;; esac\n' +
        "trap 'echo bye; exit 0' HUP\necho ready\nwhile :; do sleep 0.05; done\n",
    );
    const sock = join(dir, 'guest.sock');
    const guest = await serveGuest({ listen: `unix:${sock}`, bindir, tmpdir: sessions });
    expect(existsSync(sock)).toBe(true);

    const first = await connect(`unix:${sock}`, { module, moduleArgs: ['mode=3'], replyTimeoutMs: 10_000 });
    let out1 = '';
    first.output$.subscribe(({ bytes }) => (out1 += Buffer.from(bytes).toString('latin1')));
    const r1 = await within(first.done, 20_000, 'first session');
    expect(r1).toMatchObject({ ok: true, status: { kind: 'exited', code: 3 } });
    expect(out1).toBe('three\n');

    const second = await connect(`unix:${sock}`, { module, replyTimeoutMs: 10_000 });
    let out2 = '';
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    second.output$.subscribe(({ bytes }) => {
      out2 += Buffer.from(bytes).toString('latin1');
      if (out2.includes('ready\n')) ready();
    });
    await within(isReady, 20_000, 'the child running');
    guest.stop();
    const r2 = await within(second.done, 20_000, 'second session after stop()');
    expect(r2).toMatchObject({ ok: true, ended: 'quit' });
    expect(out2).toBe('ready\nbye\n');
    expect(await within(guest.done, 20_000, 'the guest')).toBe(0);
    expect(existsSync(sock)).toBe(false);
    expect(readdirSync(sessions)).toEqual([]);
  });

  it('rejects, naming the socket, when it cannot listen; and wants exactly one way to meet a host', async () => {
    const sock = join(dir, 'no', 'such', 'dir', 'g.sock');
    await expect(serveGuest({ listen: sock })).rejects.toThrow(sock);
    await expect(serveGuest({ listen: join(dir, 'x.sock'), port: '/dev/null' })).rejects.toThrow('exactly one of stdio, port and listen');
    await expect(serveGuest({})).rejects.toThrow('exactly one of stdio, port and listen');
  });
});

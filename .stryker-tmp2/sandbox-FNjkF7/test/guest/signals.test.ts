/**
 * The guest CLI's signals (guest/signals.ts), with real signals sent
 * to this process: one that comes while the session is still being set up
 * (after the port is open, before the guest's actor exists: its temp dir is
 * being made) must still end that session, not be dropped.
 */
// @ts-nocheck

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ioFromTransports, runGuestSession } from '../../guest/session.js';
import { sessionSignals, TERMINATING } from '../../guest/signals.js';
import { createMemoryPair } from '../../transports/memory.js';
import { within } from '../support/realPeers.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Send `signal` to this process and wait (bounded) until Node has delivered it to the listeners. */
async function raise(signal: NodeJS.Signals): Promise<void> {
  const delivered = new Promise<void>((resolve) => process.once(signal, () => resolve()));
  process.kill(process.pid, signal);
  await within(delivered, 2_000, `${signal} delivered`);
}

describe('stapsh session signals', () => {
  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGUSR2'] as const) {
    it(`${signal} before the session's actor exists ends the session once it starts; the temp dir is removed`, async () => {
      const tmp = mkdtempSync(join(tmpdir(), 'stapflow-signals-'));
      dirs.push(tmp);
      const signals = sessionSignals();
      try {
        await raise(signal);
        // The host is there and says nothing: only the held signal can end this session.
        const [host, guest] = createMemoryPair();
        const out = await within(
          runGuestSession(ioFromTransports(guest), {
            release: '4.8',
            machine: 'x86_64',
            kernelRelease: 'test',
            bindir: tmp,
            tmpdir: tmp,
            listening: true,
            onActor: signals.attach,
          }),
          5_000,
          'the session ending',
        );
        expect(typeof out.exitCode).toBe('number');
        expect(readdirSync(tmp)).toEqual([]);
        await host.close();
      } finally {
        signals.stop();
      }
    });
  }

  it('stop() takes every listener back', () => {
    const before = TERMINATING.map((s) => process.listenerCount(s));
    const signals = sessionSignals();
    expect(TERMINATING.map((s) => process.listenerCount(s))).toEqual(before.map((n) => n + 1));
    signals.stop();
    expect(TERMINATING.map((s) => process.listenerCount(s))).toEqual(before);
  });
});

/**
 * Version and extension negotiation, in memory, over every pairing: host and
 * guest releases (the table's rows and arbitrary strverscmp strings), the
 * scheme (stdio needs no options; socket and virtio need `option data`, and
 * virtio keeps a dead session's bytes), and stapflow's extensions on or off
 * on either side (off is what SystemTap's host or guest of that release does).
 */
// @ts-nocheck

import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { runMemorySession } from '../../memory/session.js';
import type { TraceEvent } from '../../trace/format.js';
import { createTrace } from '../../trace/recorder.js';
import { latin1, utf8 } from '../../protocol/bytes.js';
import { featuresOf, RELEASES } from '../../protocol/releases.js';

const runs = Number(process.env.FC_NUM_RUNS ?? 150);

/** A release: a row of the table, or any version-like string (`2.10`, `4.8-rc1`, `11.0`). */
const release = fc.oneof(
  fc.constantFrom(...RELEASES.map((r) => r.release)),
  fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 12 }), fc.constantFrom('', '-rc1', '.1', 'a')).map(([a, b, s]) => `${a}.${b}${s}`),
);
/** Any release, the pre-1.5 draft dialect (no replies at all) included. */
const guestRelease = fc.oneof(release, fc.constantFrom('1.4', '1.0', '0.9', '1.4.9'));

type Scheme = 'stdio' | 'socket' | 'virtio';
/** What a dead session left on a virtio port: frames, a plain hello, a hello with another nonce, a partial line. */
const STALE = utf8('data stdout 5\nold!\nquit\nstapsh 4.8 x86_64 old\nOK\nstapsh 4.8 x86_64 old nonce=deadbeef\nOK\nquit\npartial line without newl');

type ChildEnd = { readonly kind: 'code'; readonly code: number } | { readonly kind: 'killed' };
const childEnd: fc.Arbitrary<ChildEnd> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 255 }).map((code) => ({ kind: 'code' as const, code })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'killed' as const }) },
);

async function pairing(hostRelease: string, guestRel: string, scheme: Scheme, hostExt: boolean, guestExt: boolean, end: ChildEnd) {
  const trace = createTrace();
  const events: TraceEvent[] = [];
  trace.events$.subscribe((e) => events.push(e));
  const r = await runMemorySession({
    hostRelease,
    guestRelease: guestRel,
    wantData: scheme !== 'stdio',
    hostExtensions: hostExt,
    guestExtensions: guestExt,
    helloSettleMs: 20,
    replyTimeoutMs: 200,
    ...(scheme === 'virtio' && hostExt ? { guestToHost: { noEof: true, stale: STALE } } : scheme === 'virtio' ? { guestToHost: { noEof: true } } : {}),
    child: end.kind === 'code' ? { start: [['stdout', 'out\n']], exitCode: end.code } : { start: [['stdout', 'out\n']], ignoreHup: true },
    ...(end.kind === 'killed' ? { interruptAfterMs: 1 } : {}),
    guestLimits: { graceMs: 5 },
    trace,
  });
  trace.close();
  const commands = events.flatMap((e) => (e.kind === 'frame' && e.direction === 'host->guest' && e.frame === 'command' ? [e.summary] : []));
  return { r, commands };
}

describe('negotiation over every pairing', () => {
  test.prop([release, guestRelease, fc.constantFrom<Scheme>('stdio', 'socket', 'virtio'), fc.boolean(), fc.boolean(), childEnd], { numRuns: runs })(
    'completes with exactly the shared features, or fails at the handshake naming both releases',
    async (hostRel, guestRel, scheme, hostExt, guestExt, end) => {
      const f = featuresOf(guestRel);
      const wantData = scheme !== 'stdio';
      const { r, commands } = await pairing(hostRel, guestRel, scheme, hostExt, guestExt, end);
      if (f.draft) {
        // A draft guest never answers: the hello's bound ends it, naming the host's release and why.
        expect(r.host.ok).toBe(false);
        const error = r.host.ok ? '' : r.host.error;
        if (scheme === 'virtio' && hostExt) {
          // A dead session's plain hello in the port is taken for a silent guest's: still bounded.
          expect(error).toMatch(/^no reply to .* within 200 ms/);
        } else {
          expect(error).toMatch(new RegExp(`^no reply to the hello within 200 ms .*this host speaks ${hostRel.replace(/\./g, '\\.')}; .*draft protocol`));
          expect(commands).toHaveLength(1);
        }
        return;
      }
      // Never a command the guest's release does not know, never an extension unasked.
      if (!f.options) expect(commands.filter((c) => c.startsWith('option'))).toEqual([]);
      if (hostExt) expect(commands[0]).toMatch(new RegExp(`^stap ${hostRel.replace(/\./g, '\\.')} nonce=[\\w-]+$`));
      else expect(commands[0]).toBe(`stap ${hostRel}`);
      const askedStatus = hostExt && wantData && f.options;
      expect(commands.includes('option status')).toBe(askedStatus);

      if (wantData && !f.options) {
        expect(r.host.ok).toBe(false);
        const error = r.host.ok ? '' : r.host.error;
        expect(error).toContain(`stapsh ${guestRel} does not support options`);
        expect(error).toContain(`this host speaks ${hostRel}`);
        return;
      }
      expect(r.host.ok, r.host.ok ? '' : r.host.error).toBe(true);
      if (!r.host.ok) return;
      expect(r.host.hello.version).toBe(guestRel);
      expect(r.host.extensions).toEqual({ status: askedStatus && guestExt, nonce: hostExt && guestExt });
      // Only this session's output: a dead session's bytes never reach the user.
      expect(latin1(r.stdout)).toBe('out\n');
      const expected = end.kind === 'code' ? { kind: 'exited', code: end.code } : { kind: 'signalled', number: 9 };
      expect(r.host.status).toEqual(askedStatus && guestExt ? expected : null);
      expect(r.guest.exit).toEqual(end.kind === 'code' ? { kind: 'exited', code: end.code } : { kind: 'signalled', signal: 'SIGKILL', number: 9 });
    },
  );
});

describe('the hello nonce on a port full of a dead session', () => {
  it('our host takes only the hello with its token, skipping a foreign one and a plain stale one', async () => {
    const { r } = await pairing('4.8', '4.8', 'virtio', true, true, { kind: 'code', code: 3 });
    expect(r.host.ok && r.host.extensions).toEqual({ status: true, nonce: true });
    expect(r.host.ok && r.host.status).toEqual({ kind: 'exited', code: 3 });
  });

  it('a stale plain hello followed by more lines is dropped, however long our guest takes to answer', async () => {
    // A dead session of SystemTap's host left a plain hello and an OK; our
    // guest answers only after 10× the settle time (a slow start in CI).
    const r = await runMemorySession({
      helloSettleMs: 20,
      replyTimeoutMs: 2_000,
      guestToHost: { noEof: true, stale: utf8('stapsh 4.8 x86_64 old\nOK\n'), delayMs: 200 },
      child: { start: [['stdout', 'out\n']], exitCode: 5 },
    });
    expect(r.host.ok, r.host.ok ? '' : r.host.error).toBe(true);
    expect(r.host.ok && r.host.extensions).toEqual({ status: true, nonce: true });
    expect(r.host.ok && r.host.status).toEqual({ kind: 'exited', code: 5 });
    expect(latin1(r.stdout)).toBe('out\n');
  });

  it('with SystemTap\'s guest, the last plain hello is taken after the settle time (the fallback)', async () => {
    const { r } = await pairing('4.8', '4.8', 'virtio', true, false, { kind: 'code', code: 0 });
    expect(r.host.ok).toBe(true);
    expect(latin1(r.stdout)).toBe('out\n');
  });

  it('without the nonce (SystemTap\'s host), the stale hello is taken and the session goes wrong', async () => {
    const r = await runMemorySession({
      hostExtensions: false,
      guestToHost: { noEof: true, stale: STALE },
      child: { start: [['stdout', 'out\n']], exitCode: 0 },
      replyTimeoutMs: 300,
    });
    // The stale `OK`s answer the new session's commands, and its output is out of step.
    const clean = r.host.ok && latin1(r.stdout) === 'out\n';
    expect(clean).toBe(false);
  });
});

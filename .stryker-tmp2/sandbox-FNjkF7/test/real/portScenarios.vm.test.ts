/**
 * The virtio scenarios (test/support/portScenarios.ts) on a real
 * virtio-serial port: our guest in the QEMU test VM (vm/), booted once for
 * the file (TCG here: no /dev/kvm), QEMU's process group killed afterwards.
 * Same list and expected outcomes as on the stand-in.
 */
// @ts-nocheck


import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PORT_SCENARIOS } from '../support/portScenarios.js';
import { describeVm, vmTarget, type PortTarget } from '../support/portTargets.js';
import { cleanupRealPeers, requireRealPeers } from '../support/realPeers.js';

describeVm('virtio scenarios on a real port (QEMU VM)', () => {
  let target: PortTarget | undefined;
  const started = Date.now();
  beforeAll(async () => {
    target = await vmTarget();
    console.log(`vm: booted in ${Date.now() - started} ms (${target.slowness === 1 ? 'kvm' : 'tcg'}), guest kernel ${target.kernelRelease}`);
  }, 300_000);
  afterAll(async () => {
    await target?.close();
    cleanupRealPeers();
  });
  for (const s of PORT_SCENARIOS) {
    it(
      s.name,
      async (ctx) => {
        if (s.needsRealStap) requireRealPeers(ctx);
        const t = target!;
        const t0 = Date.now();
        let outcome: unknown;
        try {
          outcome = await s.run(t);
        } catch (e) {
          throw new Error(`${(e as Error).message}\n${await t.diagnostics()}`);
        }
        const measured = [s.expected, ...(s.alsoMeasured ?? [])];
        if (!isDeepStrictEqual(outcome, s.expected)) console.log(`vm: ${s.name}: outcome ${JSON.stringify(outcome)}\n${await t.diagnostics()}`);
        expect(measured).toContainEqual(outcome);
        console.log(`vm: ${s.name}: ${Date.now() - t0} ms`);
      },
      s.seconds * 1000 * 4,
    );
  }
});

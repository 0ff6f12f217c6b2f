/**
 * The virtio scenarios (test/support/portScenarios.ts) on the stand-in; the
 * same list runs on a real port in portScenarios.vm.test.ts with the same
 * expected outcomes.
 */
// @ts-nocheck


import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PORT_SCENARIOS } from '../support/portScenarios.js';
import { standinTarget, type PortTarget } from '../support/portTargets.js';
import { describeNeeding } from '../support/needs.js';
import { cleanupRealPeers, NEED_SOCAT, requireRealPeers } from '../support/realPeers.js';

describeNeeding([NEED_SOCAT], 'virtio stand-in tests', 'virtio scenarios on the stand-in', () => {
  let target: PortTarget;
  beforeAll(async () => {
    target = await standinTarget();
  }, 30_000);
  afterAll(async () => {
    await target?.close();
    cleanupRealPeers();
  });
  for (const s of PORT_SCENARIOS) {
    it(
      s.name,
      async (ctx) => {
        if (s.needsRealStap) requireRealPeers(ctx);
        const outcome = await s.run(target);
        if (!isDeepStrictEqual(outcome, s.expected)) console.log(`stand-in: ${s.name}: outcome ${JSON.stringify(outcome)}`);
        expect([s.expected, ...(s.alsoMeasured ?? [])]).toContainEqual(outcome);
      },
      s.seconds * 1000,
    );
  }
});

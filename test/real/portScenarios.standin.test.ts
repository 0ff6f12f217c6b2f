/**
 * The virtio scenarios (test/support/portScenarios.ts) on the stand-in; the
 * same list runs on a real port in portScenarios.vm.test.ts with the same
 * expected outcomes.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PORT_SCENARIOS } from '../support/portScenarios.js';
import { standinTarget, type PortTarget } from '../support/portTargets.js';
import { cleanupRealPeers, inCi, realPeers, requireRealPeers } from '../support/realPeers.js';

const here = realPeers().socat || inCi() ? describe : describe.skip;

here('virtio scenarios on the stand-in', () => {
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
        expect(await s.run(target)).toEqual(s.expected);
      },
      s.seconds * 1000,
    );
  }
});

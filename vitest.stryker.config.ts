import { defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against each mutant of protocol/ and machines/
 * (stryker.config.mjs, docs/mutation.md): the unit, property, model and
 * in-memory suites that exercise them, nothing that starts SystemTap, a VM,
 * sshd or a guest process. Stryker runs vitest in worker threads, so suites
 * that signal their own process (test/guest/signals.test.ts) stay out too.
 */
export default defineConfig({
  test: {
    include: [
      'test/protocol/**/*.test.ts',
      'test/machines/**/*.test.ts',
      'test/model/**/*.test.ts',
      'test/races/**/*.test.ts',
      'test/host/**/*.test.ts',
    ],
    exclude: [
      // Spawns vitest itself to replay stored counterexamples.
      'test/protocol/globalFixtures.test.ts',
    ],
    setupFiles: ['test/support/fcGlobal.ts', 'test/support/fcSeed.ts'],
    env: {
      // A fixed fast-check seed: every run sees the same inputs (test/support/fcSeed.ts).
      STAPFLOW_FC_SEED: process.env.STAPFLOW_FC_SEED ?? '1818',
      FUZZ_SEED: process.env.FUZZ_SEED ?? '1818',
      // No failing property leaves a fixture behind for a mutant's sake.
      FC_FIXTURES: '0',
      // The real-stap blocks (test/host/remoteUri.test.ts) skip, also under CI=true.
      CI: '',
      STAPFLOW_PRETEND_MISSING: 'stap,stapsh,staprun,socat,mount-namespace',
    },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

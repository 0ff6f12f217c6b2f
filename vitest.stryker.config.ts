import { defineConfig } from 'vitest/config';

/**
 * The tests StrykerJS runs against each mutant of protocol/ and machines/
 * (stryker.config.mjs, docs/mutation.md): the unit, property, model and
 * in-memory suites that exercise them, nothing that starts SystemTap, a VM,
 * sshd or a guest process. Stryker runs vitest in worker threads, so suites
 * that signal their own process (test/guest/signals.test.ts) stay out too.
 */
const ALL = ['test/protocol/**/*.test.ts', 'test/machines/**/*.test.ts', 'test/model/**/*.test.ts', 'test/races/**/*.test.ts', 'test/host/**/*.test.ts'];

/**
 * `npm run mutate:protocol` (STAPFLOW_MUTATE_TESTS=protocol): protocol/ against its
 * own unit, property and fuzz tests only. Every session test decodes and encodes,
 * so with them each surviving protocol mutant reran ~30 s of sessions; this way a
 * run takes minutes, and the score says what the protocol's own tests pin down.
 */
const PROTOCOL_UNIT_TESTS = ['test/protocol/**/*.test.ts', 'test/host/remoteUri.test.ts', 'test/host/prefixLines.test.ts', 'test/host/outputFlow.test.ts'];

export default defineConfig({
  test: {
    include: process.env.STAPFLOW_MUTATE_TESTS === 'protocol' ? PROTOCOL_UNIT_TESTS : ALL,
    exclude: [
      // Spawns vitest itself to replay stored counterexamples.
      'test/protocol/globalFixtures.test.ts',
    ],
    setupFiles: ['test/support/fcGlobal.ts', 'test/support/fcSeed.ts'],
    env: {
      // A fixed fast-check seed: every run sees the same inputs (test/support/fcSeed.ts).
      STAPFLOW_FC_SEED: process.env.STAPFLOW_FC_SEED ?? '1818',
      FUZZ_SEED: process.env.FUZZ_SEED ?? '1818',
      // Fewer runs per property than `npm test` (100–400): every mutant reruns the
      // properties that reach it, and at 150 runs the negotiation suite alone took 20 s.
      FC_NUM_RUNS: process.env.FC_NUM_RUNS ?? '40',
      FUZZ_RUNS: process.env.FUZZ_RUNS ?? '300',
      // No failing property leaves a fixture behind for a mutant's sake.
      FC_FIXTURES: '0',
      // The real-stap blocks (test/host/remoteUri.test.ts) skip, also under CI=true.
      CI: '',
      STAPFLOW_PRETEND_MISSING: 'stap,stapsh,staprun,socat,mount-namespace',
    },
    // One module graph per worker across files: Stryker reruns files per mutant, and
    // re-importing xstate/rxjs per file was half of each run. No suite here relies on
    // a fresh module state (all pass this way: `npx vitest run -c vitest.stryker.config.ts`).
    isolate: process.env.STAPFLOW_MUTATE_ISOLATE === '1',
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

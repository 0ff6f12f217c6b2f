import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every failing fast-check property leaves a replayable fixture (test/support/fcGlobal.ts).
    setupFiles: ['test/support/fcGlobal.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real-peer tests spawn processes and bind sockets; two cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});

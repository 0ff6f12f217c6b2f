// @ts-nocheck
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Every failing fast-check property leaves a replayable fixture (test/support/fcGlobal.ts);
    // a worker interrupted kills its process groups (test/support/workerCleanup.ts).
    setupFiles: ['test/support/fcGlobal.ts', 'test/support/workerCleanup.ts'],
    // dist/ rebuilt when older than the sources; one temp root per run; no process left (test/support/globalSetup.ts).
    globalSetup: ['test/support/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Real-peer tests spawn processes and bind sockets; two cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});

// Mutation testing of protocol/ and machines/ (issue #18, docs/mutation.md).
// `npm run mutate` (both folders) or `npm run mutate:protocol`; reports in reports/mutation/.
// The tests it runs: vitest.stryker.config.ts (unit, property, model, in-memory; no real processes).
// One test process (two cores shared with the VM tests); the fast-check seed is fixed there,
// so reruns are deterministic and incremental mode can reuse earlier results.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: ['protocol/**/*.ts', 'machines/**/*.ts'],
  coverageAnalysis: 'perTest',
  concurrency: 1,
  timeoutMS: 5_000,
  timeoutFactor: 2,
  checkers: [],
  ignoreStatic: false,
  reporters: ['html', 'json', 'clear-text', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0, reportScoreTable: true },
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  thresholds: { high: 90, low: 85, break: null },
};

export default config;

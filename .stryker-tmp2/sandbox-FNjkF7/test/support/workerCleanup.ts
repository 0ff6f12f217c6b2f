/**
 * Vitest setup file (every worker): on SIGINT, SIGTERM or SIGHUP (Ctrl-C on
 * `npm test`, vitest ending its workers) SIGKILL the process groups this
 * worker started and remove its temp dirs, then die of the same signal. The
 * groups are `detached`, so the terminal's Ctrl-C never reaches them; the
 * global teardown (globalSetup.ts) is the second line for a worker that
 * got SIGKILLed.
 */
// @ts-nocheck


import { cleanupTracked } from './procs.js';

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    cleanupTracked();
    process.kill(process.pid, signal);
  });
}

/**
 * Vitest setup for mutation runs (vitest.stryker.config.ts `setupFiles`, after
 * fcGlobal.ts): with `STAPFLOW_FC_SEED` set, every fast-check property runs
 * at that seed, so a mutant is killed (or survives) the same way on every
 * run and incremental reruns agree with full ones. Without it, nothing
 * changes. A failing property still reports its seed (fcGlobal.ts), unshrunk.
 */

import fc from 'fast-check';

const seed = process.env.STAPFLOW_FC_SEED;
if (seed !== undefined && seed !== '') {
  const n = Number(seed);
  if (!Number.isSafeInteger(n)) throw new Error(`STAPFLOW_FC_SEED must be an integer, got ${JSON.stringify(seed)}`);
  // endOnFailure: a mutant is killed by the first failing input; shrinking it
  // (thousands of reruns for fc.commands) would only make the run slower.
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: n, endOnFailure: true });
}

/**
 * Vitest setup (vitest.config.ts `setupFiles`): every fast-check property in
 * the suite (`test.prop`, `fc.assert`) that fails leaves a fixture, like the
 * fuzz properties do through `assertWithFixtures` (fcFixtures.ts):
 * `test/fixtures/fast-check/global/<test>-<seed>.json` with the test's
 * name and file, seed, path and counterexample (`fc.stringify`).
 *
 * Replay one exactly: `FC_REPLAY=test/fixtures/fast-check/global/X.json npx
 * vitest run FILE -t 'TEST'` runs that property at the fixture's seed and
 * path only, and its report says whether the counterexample came back byte
 * for byte. `FC_FIXTURES=0` disables writing.
 */
// @ts-nocheck


import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { expect } from 'vitest';

export const GLOBAL_FIXTURE_DIR = fileURLToPath(new URL('../fixtures/fast-check/global/', import.meta.url));

export interface GlobalFixture {
  readonly test: string;
  readonly file: string;
  readonly seed: number;
  readonly path: string;
  readonly counterexample: string;
  readonly failedAt: string;
  readonly error: string;
  /** `fails` until fixed, then `passes` (the replay test checks it). */
  readonly expect: 'fails' | 'passes';
  readonly note?: string;
}

/**
 * `fc.stringify` of a counterexample without `fc.commands`' replay comment
 * (which records how the value was shrunk, not what it is).
 */
export const canonicalCounterexample = (value: unknown): string => fc.stringify(value).replace(/ \/\*replayPath="[^"]*"\*\//g, '');

const slug = (s: string) => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80) || 'property';

/** Record a failed run (once per test and seed); returns the file, or null when nothing was written. */
export function recordGlobalFailure(details: fc.RunDetails<unknown>, test: string, file: string, dir = GLOBAL_FIXTURE_DIR): string | null {
  if (!details.failed || details.counterexample === null || process.env.FC_FIXTURES === '0') return null;
  const out = join(dir, `${slug(test)}-${details.seed}.json`);
  if (existsSync(out)) return out;
  const error = details.errorInstance instanceof Error ? `${details.errorInstance.name}: ${details.errorInstance.message}` : String(details.errorInstance);
  const fixture: GlobalFixture = {
    test,
    file,
    seed: details.seed,
    path: details.counterexamplePath ?? '',
    counterexample: canonicalCounterexample(details.counterexample),
    failedAt: new Date().toISOString(),
    error: (error.split('\n')[0] ?? '').slice(0, 300),
    expect: 'fails',
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(out, `${JSON.stringify(fixture, null, 2)}\n`);
  return out;
}

const replay: GlobalFixture | null = process.env.FC_REPLAY ? (JSON.parse(readFileSync(process.env.FC_REPLAY, 'utf8')) as GlobalFixture) : null;

function report(details: fc.RunDetails<unknown>): void {
  if (!details.failed) return;
  const state = expect.getState();
  const file = state.testPath === undefined ? '' : relative(fileURLToPath(new URL('../..', import.meta.url)), state.testPath);
  const written = recordGlobalFailure(details, state.currentTestName ?? 'unknown test', file);
  let note = written === null ? '' : `\nfast-check fixture: ${written}`;
  if (replay !== null) {
    const same = details.counterexample !== null && canonicalCounterexample(details.counterexample) === replay.counterexample;
    note += `\nreplay of ${process.env.FC_REPLAY}: the counterexample ${same ? 'came back byte for byte' : 'DIFFERS from the stored one'}`;
  }
  throw new Error(`${fc.defaultReportMessage(details)}${note}`);
}

fc.configureGlobal({
  ...fc.readConfigureGlobal(),
  // Used for async properties too (fast-check refuses both at once).
  reporter: report,
  ...(replay === null ? {} : { seed: replay.seed, path: replay.path, endOnFailure: true }),
});

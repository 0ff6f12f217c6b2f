/**
 * Fixtures for fast-check failures: a failing property leaves a file that
 * replays it exactly, forever.
 *
 * Workflow:
 * 1. Run properties through `assertWithFixtures(prop, params)` instead of
 *    `fc.assert`. When one fails, the shrunk counterexample is written to
 *    `test/fixtures/fast-check/<name>-<seed>.json` as
 *    `{ name, seed, path, counterexample, failedAt, expect: "fails" }`
 *    (`counterexample` is `fc.stringify` of the argument tuple), then the
 *    failure is rethrown with fast-check's usual report (seed and path
 *    included). An existing file for the same name and seed is left as is.
 * 2. `test/protocol/fixtures.test.ts` replays every file in that directory
 *    against the property registered under its `name`, with
 *    `{ seed, path, endOnFailure: true }`, and checks two things:
 *    - the value fast-check generates for that seed and path is still,
 *      byte for byte, `counterexample` (else the generators changed and the
 *      fixture no longer means anything: re-record it or delete it);
 *    - the property's outcome on it is `expect`.
 * 3. Commit the fixture with the failing test. Fix the bug. The replay then
 *    fails with "now passes": change the fixture's `expect` to `"passes"`
 *    (it stays as a regression test) and commit it with the fix.
 *
 * `FC_FIXTURES=0` disables writing (e.g. while exploring with a fixed seed).
 */
// @ts-nocheck


import { mkdirSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/fast-check/', import.meta.url));

/** A property by name: arbitraries and a predicate that throws (or returns false) on failure. */
export interface PropertyDef<Ts extends unknown[]> {
  readonly name: string;
  readonly arbitraries: { [K in keyof Ts]: fc.Arbitrary<Ts[K]> };
  readonly predicate: (...args: Ts) => boolean | void;
}

/** What a fixture file holds. */
export interface Fixture {
  readonly name: string;
  readonly seed: number;
  readonly path: string;
  /** `fc.stringify` of the argument tuple fast-check generated at `seed`/`path`. */
  readonly counterexample: string;
  /** ISO time of the failure that recorded it. */
  readonly failedAt: string;
  /** The property's outcome on it today: `fails` until the bug is fixed, then `passes`. */
  readonly expect: 'fails' | 'passes';
  /** The failure's first line, for people reading the file. */
  readonly error?: string;
}

/** A fast-check property from a definition (the same one for recording and replay). */
export function toProperty<Ts extends unknown[]>(def: PropertyDef<Ts>): fc.IPropertyWithHooks<Ts> {
  const args = [...def.arbitraries, def.predicate] as unknown as Parameters<typeof fc.property>;
  return (fc.property as (...a: unknown[]) => fc.IPropertyWithHooks<Ts>)(...args);
}

export function fixtureFile(name: string, seed: number): string {
  return join(FIXTURE_DIR, `${name}-${seed}.json`);
}

/**
 * `fc.assert` that records a fixture on failure. Pass `seed` to make a run
 * reproducible; without one a random seed is drawn (and printed on failure).
 * Returns the run's details when the property held.
 */
export function assertWithFixtures<Ts extends unknown[]>(def: PropertyDef<Ts>, params: fc.Parameters<Ts> = {}): fc.RunDetails<Ts> {
  const details = fc.check(toProperty(def), { verbose: fc.VerbosityLevel.Verbose, ...params });
  if (!details.failed) return details;
  if (process.env.FC_FIXTURES !== '0' && details.counterexample !== null) {
    const file = fixtureFile(def.name, details.seed);
    if (!existsSync(file)) {
      const fixture: Fixture = {
        name: def.name,
        seed: details.seed,
        path: details.counterexamplePath ?? '',
        counterexample: fc.stringify(details.counterexample),
        failedAt: new Date().toISOString(),
        expect: 'fails',
        error: firstLine(details.errorInstance),
      };
      mkdirSync(FIXTURE_DIR, { recursive: true });
      writeFileSync(file, `${JSON.stringify(fixture, null, 2)}\n`);
    }
  }
  // fast-check's own report: seed, path, counterexample, the error.
  fc.assert(toProperty(def), {
    ...params,
    seed: details.seed,
    path: details.counterexamplePath ?? '',
    endOnFailure: true,
    verbose: fc.VerbosityLevel.Verbose,
    // Recorded above already: not again by the suite-wide reporter (fcGlobal.ts).
    reporter: (d: fc.RunDetails<Ts>) => {
      if (d.failed) throw new Error(fc.defaultReportMessage(d));
    },
  } as fc.Parameters<Ts>);
  throw new Error(`property ${def.name} failed in check but not on replay (seed ${details.seed}); is it deterministic?`);
}

function firstLine(e: unknown): string {
  const s = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const line = s.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

export function readFixtures(): { file: string; fixture: Fixture }[] {
  if (!existsSync(FIXTURE_DIR)) return [];
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, fixture: JSON.parse(readFileSync(join(FIXTURE_DIR, f), 'utf8')) as Fixture }));
}

/** What replaying a fixture found. */
export interface Replay {
  /** `fc.stringify` of the value generated at the fixture's seed and path today. */
  readonly generated: string;
  readonly outcome: 'fails' | 'passes';
  /** `fc.stringify` of the counterexample fast-check reports on replay (when it fails). */
  readonly counterexample: string | null;
  readonly error: string | null;
}

export function replayFixture<Ts extends unknown[]>(def: PropertyDef<Ts>, fixture: Fixture): Replay {
  // numRuns 1: exactly the recorded value, not the values after it on that path.
  const params = { seed: fixture.seed, path: fixture.path, endOnFailure: true, numRuns: 1 } as const;
  // fc.property(...arbs, p) generates and shrinks exactly as fc.tuple(...arbs) (sample wants an arbitrary).
  const [value] = fc.sample(fc.tuple(...(def.arbitraries as fc.Arbitrary<unknown>[])), params);
  const details = fc.check(toProperty(def), params as fc.Parameters<Ts>);
  return {
    generated: fc.stringify(value),
    outcome: details.failed ? 'fails' : 'passes',
    counterexample: details.failed && details.counterexample !== null ? fc.stringify(details.counterexample) : null,
    error: details.failed ? firstLine(details.errorInstance) : null,
  };
}

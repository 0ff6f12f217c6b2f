/**
 * Replays every fast-check failure fixture in test/fixtures/fast-check/
 * (workflow: test/support/fcFixtures.ts). Each must name a registered
 * property; the value generated at its seed and path must still be the
 * stored counterexample byte for byte; and the property's outcome on it must
 * be the stored `expect` ("fails" until the bug is fixed, then "passes").
 *
 * The toy property below is deliberately wrong (test code, not product
 * code): its failure at a fixed seed is recorded once, so the recording and
 * replay machinery always has a real file to work on.
 */
// @ts-nocheck


import { basename } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assertWithFixtures, fixtureFile, readFixtures, replayFixture, type PropertyDef } from '../support/fcFixtures.js';
import { fuzzProperties } from '../support/fuzzing.js';

/** Trims spaces only, forgetting tabs, newlines and the rest of `String.prototype.trim`'s set: the bug. */
const naiveTrim = (s: string) => s.replace(/^ +| +$/g, '');
const toy: PropertyDef<[string]> = {
  name: 'toy-naive-trim',
  arbitraries: [fc.string({ unit: 'binary-ascii', maxLength: 12 })],
  predicate: (s) => naiveTrim(s) === s.trim(),
};
const TOY_SEED = 20261126;

const registry = new Map<string, PropertyDef<never[]>>(
  [...Object.values(fuzzProperties()), toy].map((def) => [def.name, def as unknown as PropertyDef<never[]>]),
);

describe('fast-check fixtures', () => {
  it('records a failing property once, under its name and seed', () => {
    expect(() => assertWithFixtures(toy, { seed: TOY_SEED })).toThrow(/seed: 20261126, path: "[0-9:]+"/);
    if (process.env.FC_FIXTURES !== '0') {
      expect(readFixtures().map((f) => f.file)).toContain(basename(fixtureFile(toy.name, TOY_SEED)));
    }
  });

  const fixtures = readFixtures();

  it('has fixtures to replay, each named NAME-SEED.json', () => {
    expect(fixtures.length).toBeGreaterThan(0);
    for (const { file, fixture } of fixtures) expect(file).toBe(`${fixture.name}-${fixture.seed}.json`);
  });

  it.each(fixtures.map((f) => [f.file, f.fixture] as const))('replays %s', (_file, fixture) => {
    const def = registry.get(fixture.name);
    if (def === undefined) throw new Error(`no property registered as ${JSON.stringify(fixture.name)}`);
    expect(['fails', 'passes']).toContain(fixture.expect);
    const replay = replayFixture(def, fixture);
    // Same seed and path, same value, byte for byte: else the generators changed under the fixture.
    expect(replay.generated, 'the generators no longer produce the stored counterexample: re-record or delete').toBe(fixture.counterexample);
    expect(
      replay.outcome,
      replay.outcome === 'passes' ? 'the property now passes: if the bug is fixed, set "expect": "passes"' : `still fails: ${replay.error}`,
    ).toBe(fixture.expect);
    if (replay.outcome === 'fails') expect(replay.counterexample).toBe(fixture.counterexample);
  });
});

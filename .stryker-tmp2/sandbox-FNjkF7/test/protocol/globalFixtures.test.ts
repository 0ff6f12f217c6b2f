/** The suite-wide fast-check reporter (test/support/fcGlobal.ts): a failure leaves a fixture that replays byte for byte. */
// @ts-nocheck

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalCounterexample, GLOBAL_FIXTURE_DIR, recordGlobalFailure, type GlobalFixture } from '../support/fcGlobal.js';

const dir = mkdtempSync(join(tmpdir(), 'stapflow-fcglobal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deliberately wrong: sorting numbers as strings (test code, not product code). */
const wrongSort = fc.property(fc.array(fc.integer({ min: 0, max: 100 })), (xs) => {
  const sorted = [...xs].sort();
  for (let i = 1; i < sorted.length; i++) if (sorted[i - 1]! > sorted[i]!) return false;
  return true;
});

describe('fast-check failures leave fixtures', () => {
  it('the reporter is installed for every property in the suite', () => {
    expect(fc.readConfigureGlobal().reporter).toBeTypeOf('function');
    const previous = process.env.FC_FIXTURES;
    process.env.FC_FIXTURES = '0'; // do not write into the repository from this test
    try {
      expect(() => fc.assert(wrongSort, { seed: 7 })).toThrow(/seed: 7, path: "[0-9:]+"/);
    } finally {
      if (previous === undefined) delete process.env.FC_FIXTURES;
      else process.env.FC_FIXTURES = previous;
    }
  });

  it('records seed, path and counterexample, and that seed and path replay the same counterexample byte for byte', () => {
    const details = fc.check(wrongSort, { seed: 20261126 });
    expect(details.failed).toBe(true);
    const file = recordGlobalFailure(details as fc.RunDetails<unknown>, 'toy: wrong sort', 'test/x.test.ts', dir);
    expect(file).not.toBeNull();
    const fixture = JSON.parse(readFileSync(file!, 'utf8')) as GlobalFixture;
    expect(fixture).toMatchObject({ test: 'toy: wrong sort', file: 'test/x.test.ts', seed: 20261126 });
    const replay = fc.check(wrongSort, { seed: fixture.seed, path: fixture.path, endOnFailure: true });
    expect(replay.failed).toBe(true);
    expect(canonicalCounterexample(replay.counterexample)).toBe(fixture.counterexample);
    // Recorded once per test and seed.
    expect(recordGlobalFailure(details as fc.RunDetails<unknown>, 'toy: wrong sort', 'test/x.test.ts', dir)).toBe(file);
  });
});

const ROOT = join(import.meta.dirname, '../..');
const globalFixtures = existsSync(GLOBAL_FIXTURE_DIR) ? readdirSync(GLOBAL_FIXTURE_DIR).filter((f) => f.endsWith('.json')).sort() : [];

describe('recorded failures of the suite replay', () => {
  it.each(globalFixtures)('%s', (name) => {
    const fixture = JSON.parse(readFileSync(join(GLOBAL_FIXTURE_DIR, name), 'utf8')) as GlobalFixture;
    // The test's own name, without the seed @fast-check/vitest appends: -t takes a pattern.
    const title = fixture.test.split(' > ').at(-1)!.replace(/ \(with seed=-?\d+\)$/, '');
    const pattern = title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', fixture.file, '-t', pattern], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, FC_REPLAY: join(GLOBAL_FIXTURE_DIR, name), FC_FIXTURES: '0', CI: '' },
    });
    const output = `${r.stdout}${r.stderr}`;
    expect(output, output).toMatch(/1 passed|1 failed/);
    if (fixture.expect === 'passes') expect(r.status, output).toBe(0);
    else expect(output).toContain('came back byte for byte');
  });
});


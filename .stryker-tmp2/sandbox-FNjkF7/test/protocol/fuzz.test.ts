/**
 * Parser fuzzing (issue #5): adversarial inputs for both decoders, each run
 * feeding a batch of inputs (see test/support/fuzzing.ts for what is
 * generated and checked). `FUZZ_RUNS` sets the fast-check runs per property
 * (default 1000: some 6,000-14,000 inputs per property, about 3 s on 2 cores);
 * `FUZZ_SEED` replays a seed. The seed is printed on every run, and
 * fast-check prints seed and path on failure; a failure also leaves a
 * fixture in test/fixtures/fast-check/ (see test/support/fcFixtures.ts).
 * A million inputs per decoder: `npm run build && node bench/fuzz.mjs`.
 */
// @ts-nocheck


import { afterAll, describe, expect, it } from 'vitest';
import { assertWithFixtures } from '../support/fcFixtures.js';
import { fuzzProperties, stats } from '../support/fuzzing.js';

const runs = Number(process.env.FUZZ_RUNS ?? 1000);
const seed = process.env.FUZZ_SEED === undefined ? (Date.now() ^ (Math.random() * 0x100000000)) | 0 : Number(process.env.FUZZ_SEED);
const props = fuzzProperties();

describe('decoder fuzzing', () => {
  afterAll(() => {
    console.log(
      `fuzz: seed ${seed}, ${runs} runs per property; commandDecoder ${stats.command.inputs} inputs (${stats.command.bytes} bytes, known-bug cases ${stats.command.knownBugHits}); ` +
        `replyDecoder ${stats.reply.inputs} inputs (${stats.reply.bytes} bytes, known-bug cases ${stats.reply.knownBugHits})`,
    );
  });

  it('CommandDecoder: never throws, well-formed items, bounded buffer, equal to the model', () => {
    const before = stats.command.inputs;
    assertWithFixtures(props.command, { numRuns: runs, seed });
    expect(stats.command.inputs - before).toBeGreaterThanOrEqual(runs);
  });

  it('ReplyDecoder: never throws, well-formed events, bounded buffer, equal to the model (mode switches after events)', () => {
    const before = stats.reply.inputs;
    assertWithFixtures(props.reply, { numRuns: runs, seed });
    expect(stats.reply.inputs - before).toBeGreaterThanOrEqual(runs);
  });

  it('ReplyDecoder: mode switches at any moment: no throw, well-formed, bounded, every byte accounted for', () => {
    assertWithFixtures(props.replyChaos, { numRuns: runs, seed });
  });

  // Decoder bugs fuzzing found (fixed; their failing seeds are kept as fixtures), asserted
  // strictly with the seed that found them.
  it('regression: CommandDecoder reports an over-long last line without newline at EOF (after next() returned null)', () => {
    assertWithFixtures(props.commandStrict, { numRuns: 2000, seed: 5 });
  });

  it('regression: ReplyDecoder reports a partly discarded over-long line as line-too-long when switched to raw', () => {
    assertWithFixtures(props.replyChaosStrict, { numRuns: 2000, seed: 5 });
  });
});

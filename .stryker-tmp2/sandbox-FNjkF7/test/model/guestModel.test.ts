/**
 * Model-based tests of the guest (issue #5): paths generated with
 * `xstate/graph` through `guestStapsh` (stdio 4.8, listening mode 4.8, and
 * the pre-1.5 draft dialect), each replayed as bytes through the guest's
 * pump with a puppet child and controlled workspace actors. Two kinds of
 * check: what every step wrote on stdout against the protocol reference
 * (`guestOracle.ts`: REFERENCE.md's reply table and SystemTap 4.8's
 * measured replies, independent of the machine), and, for coverage and
 * replay consistency only, the machine's states and bytes against the
 * model generated from that same machine. The union of the paths must
 * cover every state and transition of the machine.
 */
// @ts-nocheck


import { describe, expect, it } from 'vitest';
import { guestStapsh } from '../../machines/guestStapsh.js';
import { expectFullCoverage, generatePaths, type ModelPath } from './graphModel.js';
import { describeEvent, guestSpec, replayGuestPath, type GuestEnv, type GuestModelOptions } from './guestModel.js';
import { guestOracle } from './guestOracle.js';

const MODELS: { name: string; options: GuestModelOptions }[] = [
  { name: 'stdio 4.8', options: { listening: false } },
  { name: 'listening 4.8', options: { listening: true } },
  { name: 'draft 1.0', options: { listening: false, release: '1.0' } },
];

const generated = MODELS.map((m) => ({ ...m, ...generatePaths(guestSpec(m.options)) }));

/**
 * Transitions no path can take, with the reason. Empty: every transition of
 * the guest is reachable from some protocol input.
 */
const UNREACHABLE: Record<string, string> = {};

/** The reference's stdout for step `index` of a path. */
function guestOracleAt(path: ModelPath<GuestEnv>, options: GuestModelOptions, index: number): string | null {
  const oracle = guestOracle(options);
  let want: string | null = null;
  for (let i = 0; i <= index; i++) want = oracle.step(path.events[i]!);
  return want;
}

const label = (p: ModelPath<GuestEnv>) => p.events.map(describeEvent).join(' → ');

describe('guestStapsh: model-based paths', () => {
  it('covers every state and every transition of the machine', () => {
    expectFullCoverage('guestStapsh', guestStapsh, generated, UNREACHABLE);
  });

  for (const g of generated) {
    it(`[${g.name}] every path's replies are the protocol reference's, and its states and bytes the model's (${g.paths.length} paths)`, async () => {
      const failures: string[] = [];
      let checked = 0;
      for (const path of g.paths) {
        const r = await replayGuestPath(path, g.options);
        // Independent of the machine: each step's stdout as the reference has it.
        const oracle = guestOracle(g.options);
        const wrong = r.steps.findIndex((s, i) => {
          const want = oracle.step(s.event);
          if (want === null) return false;
          checked++;
          return s.actualStdout.slice((r.steps[i - 1]?.actualStdout ?? '').length) !== want;
        });
        const bad = r.steps.findIndex(
          (s) =>
            JSON.stringify(s.actualValue) !== JSON.stringify(s.expectedValue) ||
            s.actualStdout !== s.expectedStdout ||
            s.actualStderr !== s.expectedStderr,
        );
        const problems: string[] = [];
        if (wrong >= 0) {
          const s = r.steps[wrong]!;
          const before = (r.steps[wrong - 1]?.actualStdout ?? '').length;
          problems.push(`step ${wrong + 1} (${describeEvent(s.event)}): wrote ${JSON.stringify(s.actualStdout.slice(before))}, the reference says ${JSON.stringify(guestOracleAt(path, g.options, wrong))}`);
        }
        if (bad >= 0) {
          const s = r.steps[bad]!;
          problems.push(
            `step ${bad + 1} (${describeEvent(s.event)}): state ${JSON.stringify(s.actualValue)} (model ${JSON.stringify(s.expectedValue)}), stdout ${JSON.stringify(s.actualStdout)} (model ${JSON.stringify(s.expectedStdout)}), stderr ${JSON.stringify(s.actualStderr)} (model ${JSON.stringify(s.expectedStderr)})`,
          );
        }
        if (r.status !== r.expectedStatus) problems.push(`status ${r.status} (model ${r.expectedStatus})`);
        if (JSON.stringify(r.output) !== JSON.stringify(r.expectedOutput)) problems.push(`output ${JSON.stringify(r.output)} (model ${JSON.stringify(r.expectedOutput)})`);
        // The temp dir is removed exactly when the session ends.
        if (r.removeStarted !== r.reachedCleaning) problems.push(`workspace removal ${r.removeStarted} (model ${r.reachedCleaning})`);
        // Independent of the model: a finished guest exits with its child's status (128+N for signal N), else 0.
        if (r.status === 'done') {
          const exits = path.events.filter((e) => e.type === 'CHILD.EXITED');
          const last = exits[exits.length - 1];
          const want = last === undefined ? 0 : last.exit.kind === 'exited' ? last.exit.code : 128 + last.exit.number;
          if ((r.output as { exitCode: number }).exitCode !== want) problems.push(`exit code ${(r.output as { exitCode: number }).exitCode}, want ${want}`);
        }
        if (problems.length > 0) failures.push(`${label(path)}\n    ${problems.join('\n    ')}`);
      }
      expect(failures.slice(0, 5).join('\n')).toBe('');
      // The reference had something to say about most steps.
      expect(checked).toBeGreaterThan(g.paths.length);
    });
  }
});

/**
 * Model-based tests of the child (issue #5): paths generated with
 * `xstate/graph` through `staprunChild`, replayed against the machine under
 * a recording parent with a puppet process and a manual clock. Checked
 * independently of the machine: a child that ended reports exactly one end.
 * Checked for coverage and replay consistency only (the model is generated
 * from the machine itself): each step's state, reports (to the guest) and
 * signals (to the process); and the paths must cover every state and
 * transition.
 */
// @ts-nocheck


import { describe, expect, it } from 'vitest';
import { staprunChild } from '../../machines/staprunChild.js';
import { expectFullCoverage, generatePaths } from './graphModel.js';
import { childSpec, describeChildEvent, replayChildPath } from './childModel.js';

const generated = generatePaths(childSpec());

/** Transitions no path can take, with the reason (none: all are reachable). */
const UNREACHABLE: Record<string, string> = {};

describe('staprunChild: model-based paths', () => {
  it('covers every state and every transition of the machine', () => {
    expectFullCoverage('staprunChild', staprunChild, [{ name: 'scripted process', ...generated }], UNREACHABLE);
  });

  it(`every path ends with one end report, and replays to the model's states, reports and signals (replay consistency) (${generated.paths.length} paths)`, async () => {
    const failures: string[] = [];
    for (const path of generated.paths) {
      const r = await replayChildPath(path);
      const problems: string[] = [];
      const bad = r.steps.findIndex(
        (s) => s.error !== undefined || JSON.stringify(s.actualValue) !== JSON.stringify(s.expectedValue) || JSON.stringify(s.actual) !== JSON.stringify(s.expected),
      );
      if (bad >= 0) {
        const s = r.steps[bad]!;
        problems.push(`step ${bad + 1} (${describeChildEvent(s.event)}): ${s.error ?? ''} state ${JSON.stringify(s.actualValue)} (model ${JSON.stringify(s.expectedValue)}), reports|signals ${JSON.stringify(s.actual)} (model ${JSON.stringify(s.expected)})`);
      }
      if (r.status !== r.expectedStatus) problems.push(`status ${r.status} (model ${r.expectedStatus})`);
      if (JSON.stringify(r.output) !== JSON.stringify(r.expectedOutput)) problems.push(`output ${JSON.stringify(r.output)} (model ${JSON.stringify(r.expectedOutput)})`);
      // Independent of the model: a child that ended reports exactly one end (EXITED or FAILED), last.
      if (r.status === 'done') {
        const last = r.steps[r.steps.length - 1]!.actual.filter((x) => x !== '|');
        const ends = last.filter((x) => x.includes('"CHILD.EXITED"') || x.includes('"CHILD.FAILED"'));
        if (ends.length !== 1) problems.push(`${ends.length} end reports`);
      }
      if (problems.length > 0) failures.push(`${path.events.map(describeChildEvent).join(' → ')}\n    ${problems.join('\n    ')}`);
    }
    expect(failures.slice(0, 5).join('\n')).toBe('');
  });
});

/**
 * Model-based tests of the host (issue #5): paths generated with
 * `xstate/graph` through `hostSession` for two hosts (stapflow's on a stale
 * channel with the nonce and `option status`; SystemTap's plain one over
 * stdio), replayed against the machine as an actor with a manual clock and a
 * controlled file sender; each step must reach the model's state and emit
 * the model's bytes and events, and the paths together must cover every
 * state and transition.
 */

import { describe, expect, it } from 'vitest';
import { hostSession } from '../../machines/hostSession.js';
import { expectFullCoverage, generatePaths } from './graphModel.js';
import { describeHostEvent, HOST_INPUTS, hostSpec, replayHostPath } from './hostModel.js';

const generated = Object.entries(HOST_INPUTS).map(([name, input]) => ({ name, input, ...generatePaths(hostSpec(input)) }));

/** Transitions no path can take, with the reason (none: all are reachable). */
const UNREACHABLE: Record<string, string> = {};

describe('hostSession: model-based paths', () => {
  it('covers every state and every transition of the machine', () => {
    expectFullCoverage('hostSession', hostSession, generated, UNREACHABLE);
  });

  for (const g of generated) {
    it(`[${g.name}] every path replays to the model's states, sent bytes, output and result (${g.paths.length} paths)`, async () => {
      const failures: string[] = [];
      for (const path of g.paths) {
        const r = await replayHostPath(path, g.input);
        const problems: string[] = [];
        const bad = r.steps.findIndex(
          (s) => s.error !== undefined || JSON.stringify(s.actualValue) !== JSON.stringify(s.expectedValue) || JSON.stringify(s.actualEmitted) !== JSON.stringify(s.expectedEmitted),
        );
        if (bad >= 0) {
          const s = r.steps[bad]!;
          problems.push(`step ${bad + 1} (${describeHostEvent(s.event)}): ${s.error ?? ''} state ${JSON.stringify(s.actualValue)} (model ${JSON.stringify(s.expectedValue)}), emitted ${JSON.stringify(s.actualEmitted)} (model ${JSON.stringify(s.expectedEmitted)})`);
        }
        if (r.status !== r.expectedStatus) problems.push(`status ${r.status} (model ${r.expectedStatus})`);
        if (JSON.stringify(r.output) !== JSON.stringify(r.expectedOutput)) problems.push(`output ${JSON.stringify(r.output)} (model ${JSON.stringify(r.expectedOutput)})`);
        // Independent of the model: a failed session names the remote; a finished one has the guest's hello.
        const out = r.output as { ok: boolean; error?: string; hello?: unknown } | undefined;
        if (r.status === 'done' && out?.ok === false && !out.error?.includes("on remote 'model:'")) problems.push(`error does not name the remote: ${out.error}`);
        if (problems.length > 0) failures.push(`${path.events.map(describeHostEvent).join(' → ')}\n    ${problems.join('\n    ')}`);
      }
      expect(failures.slice(0, 5).join('\n')).toBe('');
    });
  }
});

import { it } from 'vitest';
import { generatePaths, visitedBy, coverage, coverageLine } from './graphModel.js';
import { guestSpec } from './guestModel.js';
import { guestStapsh } from '../../machines/guestStapsh.js';
it('explore', () => {
  for (const l of [false, true]) {
    const t0 = Date.now();
    const g = generatePaths(guestSpec(l));
    const c = coverage(guestStapsh, visitedBy(g.paths));
    console.log(l, g.paths.length, g.abstractStates, g.edges, Date.now() - t0, 'ms', coverageLine('guest', c));
    console.log(c.states.missing, c.transitions.missing);
    console.log(Math.max(...g.paths.map(p => p.events.length)));
  }
});

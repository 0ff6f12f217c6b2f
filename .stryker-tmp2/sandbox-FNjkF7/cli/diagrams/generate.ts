/** `npm run diagrams`: regenerate diagrams/ from the machines. */
// @ts-nocheck


import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyStateMachine } from 'xstate';
import { guestStapsh } from '../../machines/guestStapsh.js';
import { hostSession } from '../../machines/hostSession.js';
import { staprunChild } from '../../machines/staprunChild.js';
import { dotToSvg, toDot, toMermaid } from './statechart.js';

/** Every machine with a statechart in diagrams/, by file stem. */
export const MACHINES: Readonly<Record<string, AnyStateMachine>> = {
  guestStapsh,
  hostSession,
  staprunChild,
};

/**
 * The files diagrams/ should hold, by name: per machine `<name>.mmd`
 * (Mermaid source) and `<name>.svg` (Graphviz, rendered offline).
 */
export async function diagramFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const [name, machine] of Object.entries(MACHINES)) {
    files.set(`${name}.mmd`, toMermaid(machine));
    files.set(`${name}.svg`, await dotToSvg(toDot(machine)));
  }
  return files;
}

export async function writeDiagrams(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of await diagramFiles()) {
    writeFileSync(join(dir, name), text);
    written.push(join(dir, name));
  }
  return written;
}

/** `npm run diagrams`: regenerate diagrams/ from the machines. */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyStateMachine } from 'xstate';
import { guestStapsh } from '../../machines/guestStapsh.js';
import { hostSession } from '../../machines/hostSession.js';
import { staprunChild } from '../../machines/staprunChild.js';
import { toMermaid } from './statechart.js';

/** Every machine with a statechart in diagrams/, by file stem. */
export const MACHINES: Readonly<Record<string, AnyStateMachine>> = {
  guestStapsh,
  hostSession,
  staprunChild,
};

/** The files diagrams/ should hold, by name. */
export function diagramFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, machine] of Object.entries(MACHINES)) files.set(`${name}.mmd`, toMermaid(machine));
  return files;
}

export function writeDiagrams(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of diagramFiles()) {
    writeFileSync(join(dir, name), text);
    written.push(join(dir, name));
  }
  return written;
}

/** The generated statecharts (diagrams/*.svg) for the trace page. */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The statecharts of diagrams/ (next to package.json), by machine; those missing are left out. */
export function packageStatecharts(): Record<string, string> {
  // dist/cli/common/statecharts.js and cli/common/statecharts.ts both sit three levels below the package root.
  const dir = fileURLToPath(new URL('../../../diagrams/', import.meta.url));
  const out: Record<string, string> = {};
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.svg'));
  } catch {
    return out;
  }
  for (const name of names) {
    try {
      out[name.slice(0, -4)] = readFileSync(join(dir, name), 'utf8');
    } catch {
      // left out
    }
  }
  return out;
}


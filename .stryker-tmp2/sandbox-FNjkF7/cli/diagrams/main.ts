/** `npm run diagrams`: regenerate diagrams/ (next to package.json) from the machines. */
// @ts-nocheck


import { fileURLToPath } from 'node:url';
import { cliProgram, parseCliSync } from '../common/cli.js';
import { writeDiagrams } from './generate.js';

export async function main(argv: readonly string[]): Promise<number> {
  const program = cliProgram('diagrams', "Draw the machines' statecharts as Mermaid source and SVG into diagrams/ (a test fails when they are stale).").option(
    '-o, --output <DIR>',
    'write into DIR instead of the package\'s diagrams/',
  );
  const usage = parseCliSync(program, argv);
  if (usage !== null) return usage;
  // dist/cli/diagrams/main.js → the package root's diagrams/.
  const dir = program.opts<{ output?: string }>().output ?? fileURLToPath(new URL('../../../diagrams', import.meta.url));
  for (const f of await writeDiagrams(dir)) process.stdout.write(`wrote ${f}\n`);
  return 0;
}

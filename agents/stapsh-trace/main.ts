/**
 * `stapsh-trace`: render a stapflow trace (JSONL, docs/trace-format.md) or
 * a shared byte-exact transcript (`{t, dir, bytes, text}` lines; detected
 * automatically) as a text timeline or a Mermaid sequence diagram.
 *
 *   stapsh-trace render FILE [--format text|mermaid] [-o OUT]
 *
 * Lines that fail to parse are reported on stderr with their line number and
 * skipped. Exit status: 0 rendered, 1 unreadable or unrecognisable input
 * (or nothing to render), 2 usage errors.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readAnyTrace, renderMermaid, renderText } from '../trace/render.js';

export interface MainIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const defaultIo: MainIo = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
};

type RenderFormat = 'text' | 'mermaid';

function render(file: string, format: RenderFormat, out: string | undefined, io: MainIo): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : error instanceof Error ? error.message : String(error);
    io.stderr(`stapsh-trace: cannot read ${file}: ${why}\n`);
    return 1;
  }
  const parsed = readAnyTrace(text, { source: file });
  if (parsed === null) {
    io.stderr(`stapsh-trace: ${file} is neither a stapflow trace nor a transcript (no JSON line with "type":"header", "kind" or "dir")\n`);
    return 1;
  }
  for (const e of parsed.errors) io.stderr(`stapsh-trace: ${file}:${e.line}: ${e.message} (line skipped)\n`);
  if (parsed.events.length === 0 && parsed.errors.length > 0) {
    io.stderr(`stapsh-trace: ${file}: no readable events\n`);
    return 1;
  }
  const output = format === 'mermaid' ? renderMermaid(parsed.events) : renderText(parsed.events, parsed.header);
  if (out === undefined) {
    io.stdout(output);
    return 0;
  }
  try {
    writeFileSync(out, output);
  } catch (error) {
    io.stderr(`stapsh-trace: cannot write ${out}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  return 0;
}

/** Run the CLI with `argv` (without node and the script); resolves with the exit status. */
export async function main(argv: readonly string[], io: MainIo = defaultIo): Promise<number> {
  let status = 0;
  const program = new Command('stapsh-trace')
    .description('Render stapflow traces (JSONL, docs/trace-format.md) and byte-exact protocol transcripts.')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();
  program
    .command('render')
    .description('render FILE (a stapflow trace or a {t,dir,bytes,text} transcript, auto-detected) as a timeline or a diagram')
    .argument('<FILE>', 'trace or transcript (JSON Lines)')
    .addOption(
      new Option('-f, --format <FORMAT>', 'text (a timeline) or mermaid (a sequenceDiagram)')
        .default('text')
        .argParser((v: string) => {
          if (v !== 'text' && v !== 'mermaid') throw new InvalidArgumentError("must be 'text' or 'mermaid'");
          return v;
        }),
    )
    .option('-o, --output <OUT>', 'write to OUT instead of stdout')
    .action((file: string, o: { format: RenderFormat; output?: string }) => {
      status = render(file, o.format, o.output, io);
    });
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help / --version exit 0; usage errors were already printed.
      return error.exitCode === 0 ? 0 : 2;
    }
    throw error;
  }
  return status;
}

/**
 * One command-line convention for every program in bin/:
 * - `-h/--help` on every command, `-V/--version` printing package.json's version;
 * - a usage error (an unknown option or command, a missing argument or a bad
 *   value) is one line on stderr naming it, ending `see 'PROG --help'`,
 *   and exit status 2 (`USAGE_STATUS`), never the whole help;
 * - help shows a default only where it tells the reader something (a number,
 *   a path), never `(default: [])` or `(default: false)`, and never twice.
 */
// @ts-nocheck


import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, CommanderError, Help, type Option } from 'commander';

/** Exit status of every usage error. */
export const USAGE_STATUS = 2;

/** stapflow's version, from the package.json above this file (the same from cli/ and dist/cli/). */
export const VERSION: string = (() => {
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'stapflow' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here: look one folder up
    }
    if (dirname(dir) === dir) return '0.0.0';
  }
})();

export interface CliOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processOutput: CliOutput = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
};

/** Commander's message (`error: unknown option '--x'\n(Did you mean --y?)`) as our one line. */
export function usageLine(label: string, message: string): string {
  const text = message
    .replace(/^error: /, '')
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .join(' ');
  return `${label}: ${text}; see '${label} --help'\n`;
}

function optionDescription(option: Option): string {
  const d = option.defaultValue as unknown;
  const said = /\bdefault\b/i.test(option.description);
  // Flags (`-v`, `--json`) have no default worth a word; a value option's number or path does.
  const takesValue = option.required || option.optional;
  const worthSaying = takesValue && (typeof d === 'number' || (typeof d === 'string' && d !== ''));
  const shown = option.defaultValueDescription ?? (typeof d === 'string' ? d : JSON.stringify(d));
  return worthSaying && !said ? `${option.description} (default: ${shown})` : option.description;
}

function conventions(cmd: Command, label: string, out: CliOutput): Command {
  return cmd
    .exitOverride()
    .showHelpAfterError(false)
    .showSuggestionAfterError(true)
    .configureHelp({ optionDescription: (o: Option) => optionDescription(o), sortSubcommands: false } as Partial<Help>)
    .configureOutput({
      writeOut: out.stdout,
      writeErr: out.stderr,
      outputError: (message, write) => write(usageLine(label, message)),
    });
}

/** A program's root command with the conventions above and `-V/--version`. */
export function cliProgram(name: string, description: string, out: CliOutput = processOutput): Command {
  return conventions(new Command(name), name, out)
    .description(description)
    .version(VERSION, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'print this help and exit');
}

/** A subcommand (`stapsh-trace render`): the same conventions, its usage errors named after it. */
export function cliSubcommand(parent: Command, name: string, out: CliOutput = processOutput): Command {
  const label = `${parent.name()} ${name}`;
  return conventions(parent.command(name), label, out).helpOption('-h, --help', 'print this help and exit');
}

/**
 * A usage error found after commander's own checks (two options that
 * exclude each other, a value of the wrong shape): the same one line and
 * status 2. Throws the `CommanderError` that `parseCli` turns into 2.
 */
export function usageError(cmd: Command, message: string): never {
  return cmd.error(message, { exitCode: USAGE_STATUS, code: 'stapflow.usage' });
}

/** `usageError` for code that returns its exit status instead of throwing: reports the line, returns 2. */
export function usageStatus(cmd: Command, message: string): number {
  try {
    return usageError(cmd, message);
  } catch (error) {
    return exitStatusOf(error);
  }
}

/**
 * Parse `argv` (without node and the script), running actions. Resolves
 * with null when the program should go on, or with the exit status when it
 * is done: 0 after `--help`/`--version`, 2 after a usage error (already
 * reported in one line).
 */
export async function parseCli(cmd: Command, argv: readonly string[]): Promise<number | null> {
  try {
    await cmd.parseAsync([...argv], { from: 'user' });
    return null;
  } catch (error) {
    return exitStatusOf(error);
  }
}

/** The same, synchronously, for programs without async actions. */
export function parseCliSync(cmd: Command, argv: readonly string[]): number | null {
  try {
    cmd.parse([...argv], { from: 'user' });
    return null;
  } catch (error) {
    return exitStatusOf(error);
  }
}

/** The exit status for a `CommanderError` (0 after help/version, else 2); anything else is rethrown. */
export function exitStatusOf(error: unknown): number {
  if (!(error instanceof CommanderError)) throw error;
  return error.exitCode === 0 ? 0 : USAGE_STATUS;
}

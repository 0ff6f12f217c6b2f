/**
 * `stapsh-conformance`: run the conformance catalogue against any
 * stapsh-speaking program started over stdio and print PASS, FAIL, QUIRK
 * (a documented SystemTap 4.8 quirk, not a failure) or SKIP per scenario.
 */
// @ts-nocheck


import { InvalidArgumentError } from 'commander';
import { cliProgram, parseCliSync, usageStatus } from '../common/cli.js';
import { splitCommandWords } from '../../host/connect.js';
import { CATALOGUE, selectScenarios } from '../../conformance/catalogue.js';
import { CHILD_SCRIPT } from '../../conformance/child.js';
import { QUIRKS } from '../../conformance/quirks.js';
import { runCatalogue, type ScenarioResult } from '../../conformance/runner.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

const HELP_AFTER = `
Scenarios marked as needing a child (busy/*, quit/during-run, eof/during-run,
signal/*, exit/*, data/*, run/quoted-printable, run/255-arguments) require the
guest command to run, as its staprun, a child that behaves like the script
printed by --print-child; say so with --child-wrapper (else they are SKIPped).
For example:
  stapsh-conformance --print-child > /tmp/child.sh && chmod +x /tmp/child.sh
  SystemTap's:  --child-wrapper --guest "unshare -m sh -c 'mount --bind \\"\\$0\\" /usr/bin/staprun && exec /usr/lib/systemtap/stapsh' /tmp/child.sh"
  stapflow's:   --child-wrapper --guest "node bin/stapsh.js --bindir DIR"   (DIR/staprun = the child)
QUIRK verdicts (SystemTap 4.8 behaviour stapflow deliberately does not share):
${Object.entries(QUIRKS)
  .map(([k, v]) => `  ${k}: ${v}`)
  .join('\n')}
Exit status: 0 when no scenario FAILs, 1 otherwise, 2 on a usage error.`;

function line(r: ScenarioResult): string {
  const v = r.verdict;
  const tag = v.verdict.padEnd(5);
  const time = `${r.durationMs} ms`;
  switch (v.verdict) {
    case 'PASS':
      return v.note === undefined ? `${tag} ${r.name} (${time})` : `${tag} ${r.name} (${time}): ${v.note}`;
    case 'QUIRK':
      return `${tag} ${r.name} (${time}): ${v.quirk}: ${QUIRKS[v.quirk]}`;
    case 'FAIL':
    case 'SKIP':
      return `${tag} ${r.name} (${time}): ${v.reason}`;
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = cliProgram(
    'stapsh-conformance',
    'Run a catalogue of stapsh protocol scenarios against a guest started over stdio (each in a fresh process with a private TMPDIR).',
  )
    .option('--guest <COMMAND>', 'the guest command, split like shell words (no shell)')
    .option('--release <V>', 'the release the guest must say in its hello (also decides option bpf)')
    .option('--filter <RE>', 'only scenarios whose name matches this regular expression')
    .option('--json', 'print a machine-readable report')
    .option('--timeout <MS>', 'bound on each scenario', positiveInt, 10_000)
    .option('--startup <MS>', 'startup wait before scenarios that cannot wait for a hello', positiveInt, 800)
    .option('--quiet-time <MS>', 'output quiet time ending each step', positiveInt, 150)
    .option('--jobs <N>', 'scenarios run at a time', positiveInt, 2)
    .option('--child-wrapper', 'the guest runs the conformance child (--print-child) as staprun: run the scenarios that need it')
    .option('--print-child', 'print the child script and exit')
    .option('--list', 'list the selected scenarios and exit')
    .addHelpText('after', HELP_AFTER);
  const parsed = parseCliSync(program, argv);
  if (parsed !== null) return parsed;
  const usage = (message: string) => usageStatus(program, message);
  const o = program.opts<{
    guest?: string;
    release?: string;
    filter?: string;
    json?: boolean;
    timeout: number;
    startup: number;
    quietTime: number;
    jobs: number;
    childWrapper?: boolean;
    printChild?: boolean;
    list?: boolean;
  }>();
  if (o.printChild) {
    process.stdout.write(CHILD_SCRIPT);
    return 0;
  }
  let scenarios;
  try {
    scenarios = selectScenarios(o.filter ?? null, CATALOGUE);
  } catch (e) {
    return usage(`bad --filter: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (o.list) {
    for (const sc of scenarios) process.stdout.write(`${sc.name}${sc.needsChild ? ' (child)' : ''}\n`);
    return 0;
  }
  if (!o.guest) {
    return usage('--guest COMMAND is required');
  }
  let guestArgv: string[];
  try {
    guestArgv = splitCommandWords(o.guest);
  } catch (e) {
    return usage(`bad --guest: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (guestArgv.length === 0) {
    return usage('--guest is empty');
  }
  if (scenarios.length === 0) {
    return usage('no scenario matches --filter');
  }
  const started = Date.now();
  const results = await runCatalogue(scenarios, {
    argv: guestArgv,
    release: o.release ?? null,
    childWrapper: o.childWrapper === true,
    timeoutMs: o.timeout,
    startupMs: o.startup,
    quietMs: o.quietTime,
    jobs: o.jobs,
  });
  const durationMs = Date.now() - started;
  const count = (v: string) => results.filter((r) => r.verdict.verdict === v).length;
  const summary = { total: results.length, pass: count('PASS'), quirk: count('QUIRK'), fail: count('FAIL'), skip: count('SKIP') };
  if (o.json) {
    const report = {
      guest: guestArgv,
      release: o.release ?? null,
      childWrapper: o.childWrapper === true,
      durationMs,
      summary,
      quirks: [...new Set(results.flatMap((r) => (r.verdict.verdict === 'QUIRK' ? [r.verdict.quirk] : [])))],
      scenarios: results.map((r) => ({
        name: r.name,
        group: r.group,
        ...r.verdict,
        ...(r.verdict.verdict === 'QUIRK' ? { quirkText: QUIRKS[r.verdict.quirk] } : {}),
        durationMs: r.durationMs,
      })),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    for (const r of results) process.stdout.write(`${line(r)}\n`);
    process.stdout.write(
      `${summary.total} scenarios: ${summary.pass} PASS, ${summary.quirk} QUIRK, ${summary.fail} FAIL, ${summary.skip} SKIP in ${(durationMs / 1000).toFixed(1)} s\n`,
    );
  }
  return summary.fail === 0 ? 0 : 1;
}

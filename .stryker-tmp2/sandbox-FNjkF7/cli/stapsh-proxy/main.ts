/** `stapsh-proxy`: a recording, fault-injecting man-in-the-middle between a stap host and a stapsh guest. */
// @ts-nocheck


import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { cliProgram, exitStatusOf, usageError } from '../common/cli.js';
import { cannot } from '../common/words.js';
import { splitCommandWords } from '../../host/connect.js';
import { createTrace, traceSink } from '../../trace/recorder.js';
import { startProxy, type ProxyUpstream } from '../../proxy/proxy.js';
import { parseToxic, parseToxicsJson, type Toxic } from '../../proxy/toxics.js';

export interface ProxyCliOptions {
  readonly listen: string;
  readonly upstream: ProxyUpstream;
  readonly toxics: readonly Toxic[];
  readonly trace: string | null;
  readonly seed: number;
  readonly verbose: boolean;
  readonly halfCloseGraceMs: number;
}

function unixPath(flag: string, value: string): string {
  if (!value.startsWith('unix:') || value.length === 5) throw new InvalidArgumentError(`${flag} takes unix:PATH, not '${value}'`);
  return value.slice(5);
}

/** Parse the command line; throws `CommanderError` (with `exitCode`) on `--help` and on usage errors. */
export function parseProxyArgs(argv: readonly string[]): ProxyCliOptions {
  const program = cliProgram(
    'stapsh-proxy',
    'A man-in-the-middle for the stap remote protocol: listens on a unix socket, opens one upstream connection per client ' +
        '(a unix socket, or a command whose stdin/stdout are relayed and whose stderr is merged downstream), records every ' +
      'chunk into a trace and applies Toxiproxy-like toxics. SIGTERM: stop, close everything, flush the trace, exit 0.',
  )
    .option('--listen <unix:PATH>', 'where host clients connect (required)')
    .option('--connect <unix:PATH>', 'the guest: a listening unix socket')
    .option('--connect-cmd <COMMAND>', 'the guest: a command spawned per client (split like shell words, no shell)')
    .option('--toxic <SPEC>', 'NAME:DIRECTION[:key=value,...], repeatable; NAME: latency(ms,jitter) bandwidth(rate KB/s) slicer(avg,var,delay_us) limit_data(bytes) timeout(ms) reset_peer(ms) slow_close(ms) down; DIRECTION: upstream (host→guest), downstream, both; toxicity=0..1 for any', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--toxics-file <JSON>', 'a JSON array of {name, direction, toxicity?, attributes}')
    .option('--trace <FILE>', 'record a JSONL trace of every connection (actor proxy)')
    .option('--seed <N>', 'seed of the toxics PRNG', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError('must be an integer in 0..4294967295');
      return n;
    }, 0)
    .option('--half-close-grace <MS>', 'after one side sent EOF (forwarded as a half-close), close both this long later, like socat -t', (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
      return n;
    }, 2_000)
    .option('-v, --verbose', 'log connections and toxics on stderr');
  program.parse([...argv], { from: 'user' });
  const o = program.opts<{ listen?: string; connect?: string; connectCmd?: string; toxic: string[]; toxicsFile?: string; trace?: string; seed: number; verbose?: boolean; halfCloseGrace: number }>();
  const usage = (m: string): never => usageError(program, m);
  // Checked after parsing, so that an unknown option is what gets reported, not this.
  if (o.listen === undefined) usage('--listen unix:PATH is required');
  if ((o.connect === undefined) === (o.connectCmd === undefined)) usage('give exactly one of --connect unix:PATH and --connect-cmd COMMAND');
  let upstream: ProxyUpstream;
  let listen: string;
  const toxics: Toxic[] = [];
  try {
    listen = unixPath('--listen', o.listen!);
    if (o.connect !== undefined) {
      upstream = { kind: 'unix', path: unixPath('--connect', o.connect) };
    } else {
      const words = splitCommandWords(o.connectCmd!);
      if (words.length === 0) throw new Error('--connect-cmd is empty');
      upstream = { kind: 'cmd', argv: [words[0]!, ...words.slice(1)] };
    }
    for (const spec of o.toxic) toxics.push(parseToxic(spec));
    if (o.toxicsFile !== undefined) {
      let text: string;
      try {
        text = readFileSync(o.toxicsFile, 'utf8');
      } catch (error) {
        throw new Error(cannot('read --toxics-file', o.toxicsFile, error));
      }
      toxics.push(...parseToxicsJson(text, o.toxicsFile));
    }
  } catch (e) {
    return usage(e instanceof Error ? e.message : String(e));
  }
  return { listen, upstream, toxics, trace: o.trace ?? null, seed: o.seed, verbose: o.verbose === true, halfCloseGraceMs: o.halfCloseGrace };
}

/** Run until SIGTERM/SIGINT/SIGHUP; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let o: ProxyCliOptions;
  try {
    o = parseProxyArgs(argv);
  } catch (e) {
    return exitStatusOf(e);
  }
  const log = o.verbose ? (m: string) => process.stderr.write(`stapsh-proxy: ${m}\n`) : undefined;
  const trace = o.trace === null ? undefined : createTrace({ source: 'stapsh-proxy' });
  let sink;
  try {
    sink = o.trace === null || trace === undefined ? undefined : traceSink(o.trace, { header: trace.header });
  } catch (error) {
    process.stderr.write(`stapsh-proxy: ${cannot('write trace', o.trace!, error)}\n`);
    return 1;
  }
  if (sink !== undefined) trace!.events$.subscribe(sink);
  const finish = () => {
    trace?.close();
    sink?.close();
  };
  let proxy;
  try {
    proxy = await startProxy({
      listen: o.listen,
      upstream: o.upstream,
      toxics: o.toxics,
      seed: o.seed,
      halfCloseGraceMs: o.halfCloseGraceMs,
      ...(trace === undefined ? {} : { trace }),
      ...(log === undefined ? {} : { log }),
    });
  } catch (e) {
    finish();
    throw e;
  }
  log?.(`listening on unix:${o.listen}, seed ${o.seed}, ${o.toxics.length} toxic(s)`);
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
  await new Promise<void>((resolve) => {
    const on = () => {
      for (const s of signals) process.off(s, on);
      resolve();
    };
    for (const s of signals) process.on(s, on);
  });
  await proxy.close();
  finish();
  return 0;
}

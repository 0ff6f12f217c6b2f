/**
 * `stapsh-trace`: render a stapflow trace (JSONL, docs/trace-format.md) or
 * a shared byte-exact transcript (`{t, dir, bytes, text}` lines; detected
 * automatically) as a text timeline, a Mermaid sequence diagram, an SVG
 * sequence diagram or one self-contained HTML page; or follow a growing
 * trace live.
 *
 *   stapsh-trace render FILE [--format text|mermaid|svg|html] [-o OUT]
 *   stapsh-trace follow FILE [--interval MS]
 *
 * `follow` prints each new event as a text line as FILE grows (a trace or a
 * transcript, detected from its first line), reopens FILE when it shrinks or
 * is replaced (rotation), and stops with status 0 on SIGINT (or SIGTERM).
 *
 * Lines that fail to parse are reported on stderr with their line number and
 * skipped. Exit status: 0 rendered, 1 unreadable or unrecognisable input
 * (or nothing to render), 2 usage errors.
 */
// @ts-nocheck


import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { InvalidArgumentError, Option } from 'commander';
import { cliProgram, cliSubcommand, parseCli, usageError } from '../common/cli.js';
import { stdoutClosed } from '../common/launch.js';
import { cannot } from '../common/words.js';
import { parseTraceLine, type TraceEvent } from '../../trace/format.js';
import { renderHtml, renderSvg } from '../../trace/html.js';
import { readAnyTrace, renderMermaid, renderText, transcriptDecoder } from '../../trace/render.js';

export interface MainIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Aborted when stdout's reader went away: `follow` then stops. */
  readonly closed?: AbortSignal;
}

const defaultIo: MainIo = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  closed: stdoutClosed,
};

const FORMATS = ['text', 'mermaid', 'svg', 'html'] as const;
type RenderFormat = (typeof FORMATS)[number];

function render(file: string, format: RenderFormat, out: string | undefined, io: MainIo): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    io.stderr(`stapsh-trace: ${cannot('read', file, error)}\n`);
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
  const output =
    format === 'mermaid'
      ? renderMermaid(parsed.events)
      : format === 'svg'
        ? renderSvg(parsed.events)
        : format === 'html'
          ? renderHtml(parsed.events, parsed.header)
          : renderText(parsed.events, parsed.header);
  if (out === undefined) {
    io.stdout(output);
    return 0;
  }
  try {
    writeFileSync(out, output);
  } catch (error) {
    io.stderr(`stapsh-trace: ${cannot('write', out, error)}\n`);
    return 1;
  }
  return 0;
}

export interface FollowOptions {
  /** Poll period (ms). */
  readonly intervalMs: number;
  /** Stops following; `follow` then resolves with 0. */
  readonly signal: AbortSignal;
}

/**
 * Tail FILE: poll its size every `intervalMs`, read what was appended, and
 * print each complete new line as a text-timeline line. A file that does
 * not exist yet is waited for; a file that shrinks or is replaced (another
 * inode: rotated away) is read again from its start, with a note on stderr.
 * Each (re)opening detects the format from the first JSON line again.
 */
export async function follow(file: string, options: FollowOptions, io: MainIo): Promise<number> {
  let offset = 0;
  let ino: number | null = null;
  let partial = '';
  let decode: ((line: string) => void) | null = null;
  let lineNo = 0;
  const print = (e: TraceEvent) => io.stdout(renderText([e]));
  const restart = () => {
    offset = 0;
    partial = '';
    decode = null;
    lineNo = 0;
  };
  const take = (line: string) => {
    lineNo++;
    if (line.trim() === '') return;
    if (decode === null) {
      let isTrace = true;
      try {
        const o = JSON.parse(line) as Record<string, unknown> | null;
        isTrace = !(typeof o === 'object' && o !== null && 'dir' in o && !('kind' in o));
      } catch {
        // judged as a trace; the line is reported below
      }
      if (isTrace) {
        decode = (l) => {
          try {
            const parsed = parseTraceLine(l);
            if ('kind' in parsed) print(parsed);
            else io.stdout(renderText([], parsed));
          } catch (error) {
            io.stderr(`stapsh-trace: ${file}:${lineNo}: ${error instanceof Error ? error.message : String(error)} (line skipped)\n`);
          }
        };
      } else {
        const d = transcriptDecoder(print, { session: 'transcript' });
        decode = (l) => {
          const why = d(l);
          if (why !== null) io.stderr(`stapsh-trace: ${file}:${lineNo}: ${why} (line skipped)\n`);
        };
      }
    }
    decode(line);
  };
  const poll = () => {
    let size: number;
    let inode: number;
    try {
      const st = statSync(file);
      size = st.size;
      inode = st.ino;
    } catch {
      return; // not there (yet, or between rotation steps)
    }
    if (ino !== null && (inode !== ino || size < offset)) {
      io.stderr(`stapsh-trace: ${file} was ${inode !== ino ? 'replaced' : 'truncated'}; reading it from the start\n`);
      restart();
    }
    ino = inode;
    if (size <= offset) return;
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return;
    }
    try {
      // Read at most 4 MiB per poll, so a huge file cannot stall the loop.
      const want = Math.min(fstatSync(fd).size - offset, 4 << 20);
      if (want <= 0) return;
      const buf = Buffer.alloc(want);
      const n = readSync(fd, buf, 0, want, offset);
      offset += n;
      const text = partial + buf.subarray(0, n).toString('latin1');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) take(Buffer.from(line, 'latin1').toString('utf8'));
    } finally {
      closeSync(fd);
    }
  };
  while (!options.signal.aborted) {
    poll();
    await new Promise<void>((resolveWait) => {
      const timer = setTimeout(done, options.intervalMs);
      function done() {
        clearTimeout(timer);
        options.signal.removeEventListener('abort', done);
        resolveWait();
      }
      options.signal.addEventListener('abort', done, { once: true });
    });
  }
  return 0;
}

/** Run the CLI with `argv` (without node and the script); resolves with the exit status. */
export async function main(argv: readonly string[], io: MainIo = defaultIo): Promise<number> {
  let status = 0;
  const out = { stdout: io.stdout, stderr: io.stderr };
  const program = cliProgram('stapsh-trace', 'Render stapflow traces (JSONL, docs/trace-format.md) and byte-exact protocol transcripts.', out);
  cliSubcommand(program, 'render', out)
    .description('render FILE (a stapflow trace or a {t,dir,bytes,text} transcript, auto-detected) as a timeline or a diagram')
    .argument('<FILE>', 'trace or transcript (JSON Lines)')
    .addOption(
      new Option('-f, --format <FORMAT>', 'text (a timeline), mermaid (a sequenceDiagram), svg (a sequence diagram) or html (one self-contained page)')
        .default('text')
        .argParser((v: string) => {
          if (!(FORMATS as readonly string[]).includes(v)) throw new InvalidArgumentError("must be 'text', 'mermaid', 'svg' or 'html'");
          return v;
        }),
    )
    .option('-o, --output <OUT>', 'write to OUT instead of stdout')
    .action((file: string, o: { format: RenderFormat; output?: string }) => {
      status = render(file, o.format, o.output, io);
    });
  cliSubcommand(program, 'follow', out)
    .description('print new events of FILE (trace or transcript) as text lines as it grows; reopens it on rotation; stop with SIGINT')
    .argument('<FILE>', 'trace or transcript (JSON Lines)')
    .addOption(
      new Option('-i, --interval <MS>', 'how often to look at FILE, in milliseconds (10..10000)').default(200).argParser((v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 10 || n > 10_000) throw new InvalidArgumentError('must be an integer from 10 to 10000');
        return n;
      }),
    )
    .action(async (file: string, o: { interval: number }) => {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      io.closed?.addEventListener('abort', onSignal, { once: true });
      if (io.closed?.aborted) stop.abort();
      try {
        status = await follow(file, { intervalMs: o.interval, signal: stop.signal }, io);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        io.closed?.removeEventListener('abort', onSignal);
      }
    });
  // Commander would print the whole help for a missing command; the convention is one line.
  program
    .allowExcessArguments(true)
    .action(() => {
      const [word] = program.args;
      usageError(program, word === undefined ? 'missing command: render or follow' : `unknown command '${word}' (render or follow)`);
    });
  const usage = await parseCli(program, argv);
  return usage ?? status;
}

/**
 * `npm start`: a whole session on embedded defaults, no root or kernel.
 * Our guest is started on a unix socket with a staprun stand-in as its
 * child; our host uploads a sample module, runs it, streams its output with
 * a live timeline, interrupts it after a few ticks (the stand-in's end probe
 * still reports), and everything is cleaned up.
 */
// @ts-nocheck


import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { latin1 } from '../../protocol/bytes.js';
import { connectUnix } from '../../transports/unixSocket.js';
import { startSession } from '../../host/session.js';
import { pipeline } from 'node:stream/promises';
import type { TraceEvent } from '../../trace/format.js';
import { createTrace, traceSink } from '../../trace/recorder.js';
import { renderMermaid, renderText } from '../../trace/render.js';
import { cliProgram, parseCliSync } from '../common/cli.js';

const ROOT = resolve(import.meta.dirname, '../../..');

function sampleModule(): Uint8Array {
  // An ELF-looking header and some padding: the stand-in only reports name and size.
  const bytes = new Uint8Array(4096);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  for (let i = 64; i < bytes.length; i++) bytes[i] = i & 0xff;
  return bytes;
}

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what} not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The socket file appears at bind(), just before listen(): retry a refused connect briefly. */
async function connectListening(sock: string) {
  for (let tries = 0; ; tries++) {
    try {
      return await connectUnix(sock, { timeoutMs: 5_000 });
    } catch (error) {
      if ((error as { code?: string }).code !== 'ECONNREFUSED' || tries > 100) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export async function main(argv: readonly string[] = []): Promise<number> {
  const usage = parseCliSync(
    cliProgram(
      'demo',
      'A whole session on embedded defaults (`npm start`; no root, no kernel): our guest on a unix socket with a staprun stand-in, ' +
        'our host uploading a sample module, a live timeline, an interrupt after a few ticks, and the trace and its renderings written to a temp dir.',
    ),
    argv,
  );
  if (usage !== null) return usage;
  const dir = mkdtempSync(join(tmpdir(), 'stapflow-demo-'));
  const bindir = join(dir, 'bin');
  mkdirSync(bindir);
  symlinkSync(join(ROOT, 'bin', 'staprun-standin.js'), join(bindir, 'staprun'));
  const sock = join(dir, 'stapsh.sock');
  const t0 = performance.now();
  const outDir = mkdtempSync(join(tmpdir(), 'stapflow-demo-trace-'));
  const tracePath = join(outDir, 'session.trace.jsonl');
  const trace = createTrace({ source: 'npm start' });
  const events: TraceEvent[] = [];
  trace.events$.subscribe(traceSink(tracePath, { header: trace.header }));
  trace.events$.subscribe((e) => events.push(e));
  const stamp = () => `${((performance.now() - t0) / 1000).toFixed(3).padStart(7)}s`;
  const say = (arrow: string, text: string) => process.stderr.write(`${stamp()} ${arrow} ${text}\n`);

  say('  ', `starting our guest: stapsh --listen unix:${sock} --bindir ${bindir} (staprun = the stand-in)`);
  const guest = spawn(process.execPath, [join(ROOT, 'bin', 'stapsh.js'), '--listen', `unix:${sock}`, '--bindir', bindir], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, TMPDIR: dir },
  });
  try {
    await waitFor(() => existsSync(sock), 10_000, 'the guest socket');
    const transport = await connectListening(sock);
    say('  ', `connected to unix:${sock}`);
    const show = (bytes: Uint8Array) => {
      const text = latin1(bytes.subarray(0, 120)).replace(/\n/g, '\\n');
      return /^[\x20-\x7e\\]*$/.test(text) ? text : `<${bytes.length} bytes>`;
    };
    const recorders = trace.recorders('demo', 'host');
    const session = startSession(transport, {
      module: { name: 'stapflow_demo.ko', bytes: sampleModule() },
      remote: `unix:${sock}`,
      wantData: true,
      replyTimeoutMs: 10_000,
      inspect: recorders.inspect,
      onWire: (dir, bytes) => {
        recorders.onWire(dir, bytes);
        say(dir === 'host->guest' ? 'host  → guest:' : 'guest → host :', show(bytes));
      },
    });
    // The child's output at our stdout's pace (backpressure to the guest); `output$` would only tap it.
    const printed = pipeline(session.stdout, process.stdout, { end: false });
    const hello = await session.hello;
    say('  ', `guest is stapsh ${hello.version} on ${hello.machine}, kernel ${hello.kernelRelease}`);
    // Interrupt after three ticks (counted on the tap, which never holds the flow), not after a
    // fixed time: on a loaded machine the child may take longer than that to start. Bounded all the same.
    const interrupt = (why: string) => {
      say('  ', `interrupting (as Ctrl-C would${why}): quit`);
      session.interrupt();
    };
    let ticks = 0;
    const tap = session.output$.subscribe(({ bytes }) => {
      ticks += Buffer.from(bytes).toString('latin1').split('tick ').length - 1;
      if (ticks >= 3) {
        tap.unsubscribe();
        interrupt('');
      }
    });
    const timer = setTimeout(() => interrupt(', no three ticks within 20 s'), 20_000);
    const result = await session.done;
    await printed;
    tap.unsubscribe();
    clearTimeout(timer);
    if (!result.ok) {
      say('  ', `session failed: ${result.error}`);
      return 1;
    }
    const status =
      result.status === null
        ? 'the guest reported no status (SystemTap\'s guests cannot over a socket)'
        : `the child's status, reported by the guest (option status): ${result.status.kind === 'exited' ? `exit ${result.status.code}` : `signal ${result.status.number}`}`;
    say('  ', `session finished (${result.ended === 'quit' ? 'the guest said quit' : 'EOF'}); ${status}`);
    trace.close();
    writeFileSync(join(outDir, 'session.timeline.txt'), renderText(events, trace.header));
    writeFileSync(join(outDir, 'session.sequence.mmd'), renderMermaid(events));
    say('  ', `trace: ${tracePath} (JSONL, docs/trace-format.md)`);
    say('  ', `rendered: ${join(outDir, 'session.timeline.txt')} and ${join(outDir, 'session.sequence.mmd')} (Mermaid sequence diagram)`);
    say('  ', `render it again: npx stapsh-trace render ${tracePath} --format text|mermaid`);
    return 0;
  } finally {
    guest.kill('SIGTERM');
    await new Promise((r) => (guest.exitCode !== null ? r(null) : guest.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
    say('  ', 'guest stopped, temp dirs removed');
  }
}

/**
 * Every program in bin/ follows one command-line convention (cli/common):
 * `-V/--version`, `--help` without commander's default noise, a usage
 * error as one line naming it plus `see '… --help'` and status 2, and
 * errors in words (no errno codes) naming the file. Real processes, built
 * dist/ (npm test builds first).
 */
// @ts-nocheck


import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Ran {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run bin/NAME.js with `args`, stdin closed; killed (and failing the test) after 30 s. */
function run(bin: string, args: readonly string[]): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', `${bin}.js`), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
      env: { ...process.env, STAPSH_BINDIR: dir },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', fail);
    child.on('close', (status, signal) => done({ status, signal, stdout, stderr }));
  });
}

/** A usage error: exactly one line on stderr naming `what`, pointing at --help; nothing on stdout; status 2. */
function expectUsage(r: Ran, label: string, what: string): void {
  expect(r.stdout).toBe('');
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toContain(what);
  expect(r.stderr.startsWith(`${label}: `)).toBe(true);
  expect(r.stderr).toContain(`see '${label} --help'`);
  expect(r.status).toBe(2);
}

/** Program, and a command line missing an argument or a required option, with what the message must name. */
const BINS: readonly { bin: string; missing: readonly [readonly string[], string, string] | null }[] = [
  { bin: 'stapsh', missing: [['--grace'], 'stapsh', '--grace'] },
  { bin: 'stap-remote', missing: [['--remote=stapsh:'], 'stap-remote', 'MODULE'] },
  { bin: 'stapsh-trace', missing: [['render'], 'stapsh-trace render', 'FILE'] },
  { bin: 'stapsh-proxy', missing: [['--connect', 'unix:/nowhere'], 'stapsh-proxy', '--listen'] },
  { bin: 'stapsh-conformance', missing: [['--filter', 'handshake'], 'stapsh-conformance', '--guest'] },
  { bin: 'demo', missing: null },
  { bin: 'diagrams', missing: [['--output'], 'diagrams', '--output'] },
  { bin: 'virtio-standin', missing: [['--socket', '/nowhere.sock'], 'virtio-standin', '--port'] },
  { bin: 'stapvirt', missing: [['query'], 'stapvirt query', 'DOMAIN'] },
  { bin: 'stapflow-vm', missing: [['build', '--out'], 'stapflow-vm build', '--out'] },
];

it('covers every program in bin/ but the staprun stand-in (it takes staprun\'s command line)', () => {
  const programs = readdirSync(join(ROOT, 'bin'))
    .filter((f) => f.endsWith('.js') && f !== 'staprun-standin.js')
    .map((f) => f.slice(0, -3))
    .sort();
  expect(BINS.map((b) => b.bin).sort()).toEqual(programs);
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stapflow-conventions-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(BINS)('bin/$bin.js', ({ bin }) => {
  it('-V and --version print the package version', async () => {
    for (const flag of ['-V', '--version']) {
      const r = await run(bin, [flag]);
      expect(r).toMatchObject({ status: 0, stdout: `${VERSION}\n`, stderr: '' });
    }
  });

  it('--help: usage on stdout, status 0, defaults only where they say something', async () => {
    const r = await run(bin, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^Usage: ${bin}\\b`));
    expect(r.stdout).toContain('-V, --version');
    // No `(default: [])`, `(default: false)`, and no default said twice on one option.
    expect(r.stdout).not.toMatch(/\(default: (\[\]|false|true|""|undefined)\)/);
    const options = r.stdout.replace(/\n {10,}/g, ' ').split('\n');
    for (const line of options) expect(line.match(/\bdefault\b/gi)?.length ?? 0, line).toBeLessThanOrEqual(1);
  });

  it('an unknown option: one line naming it, see --help, status 2', async () => {
    const r = await run(bin, ['--no-such-option']);
    expectUsage(r, bin, "'--no-such-option'");
  });

});

// demo takes no arguments and has no option with a value: nothing can be missing.
describe.each(BINS.filter((b) => b.missing !== null))('bin/$bin.js', ({ bin, missing }) => {
  it('a missing argument: one line naming it, see --help, status 2', async () => {
    const [args, label, what] = missing!;
    expectUsage(await run(bin, args), label, what);
  });
});

describe('errors in words, naming the file', () => {
  const noErrno = (text: string) => expect(text).not.toMatch(/\bE[A-Z]{2,}\b/);

  it('stap-remote: a module that is a directory', async () => {
    const r = await run('stap-remote', ['--remote=stapsh:', dir]);
    expect(r.stderr).toBe(`stap-remote: cannot read module ${dir}: is a directory\n`);
    expect(r.status).toBe(1);
  });

  it('stapsh-trace render: a directory, a missing file', async () => {
    const r = await run('stapsh-trace', ['render', dir]);
    expect(r.stderr).toBe(`stapsh-trace: cannot read ${dir}: is a directory\n`);
    expect(r.status).toBe(1);
    const missingFile = join(dir, 'nope.jsonl');
    const r2 = await run('stapsh-trace', ['render', missingFile]);
    expect(r2.stderr).toBe(`stapsh-trace: cannot read ${missingFile}: no such file or directory\n`);
  });

  it('stapsh --trace into a directory; --listen where no directory is', async () => {
    const r = await run('stapsh', ['--trace', dir]);
    expect(r.stderr).toBe(`stapsh: cannot write trace ${dir}: is a directory\n`);
    expect(r.status).toBe(1);
    const sock = join(dir, 'no', 'such', 'dir', 's.sock');
    const r2 = await run('stapsh', ['--listen', `unix:${sock}`]);
    expect(r2.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r2.stderr).toContain(sock);
    noErrno(r2.stderr);
    expect(r2.status).toBe(1);
  });

  it('stapsh-proxy: a --toxics-file that is a directory', async () => {
    const r = await run('stapsh-proxy', ['--listen', `unix:${join(dir, 'p.sock')}`, '--connect', 'unix:/nowhere', '--toxics-file', dir]);
    expectUsage(r, 'stapsh-proxy', `cannot read --toxics-file ${dir}: is a directory`);
  });
});

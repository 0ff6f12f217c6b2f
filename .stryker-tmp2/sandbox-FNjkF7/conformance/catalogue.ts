/**
 * The conformance catalogue: scenarios for any stapsh-speaking guest, with
 * expectations from SystemTap stapsh 4.8 as measured
 * (docs/stapsh-4.8-measured.md). Where 4.8 has a documented quirk stapflow
 * deliberately does not share, stapflow's behaviour is PASS and 4.8's is
 * QUIRK naming it (quirks.ts); anything else is FAIL.
 *
 * Scenarios with `needsChild` require the guest to run the shipped child
 * script (child.ts) as staprun.
 */
// @ts-nocheck


import { featuresOf } from '../protocol/releases.js';
import type { QuirkId } from './quirks.js';
import type { Step, StepRun } from './stepper.js';

export type Verdict =
  /** `note`: which of the allowed behaviours was seen (stapflow's extensions: used or cleanly refused). */
  | { readonly verdict: 'PASS'; readonly note?: string }
  | { readonly verdict: 'QUIRK'; readonly quirk: QuirkId }
  | { readonly verdict: 'FAIL'; readonly reason: string }
  | { readonly verdict: 'SKIP'; readonly reason: string };

export interface ScenarioContext {
  /** `--release`: the release the guest must say in its hello. */
  readonly release: string | null;
}

export interface GuestRun extends StepRun {
  /** What the guest left in its private TMPDIR after exiting. */
  readonly leftovers: readonly string[];
}

export interface Scenario {
  readonly name: string;
  readonly group: string;
  readonly needsChild: boolean;
  /** Quirks this scenario may report. */
  readonly quirks: readonly QuirkId[];
  readonly steps: readonly Step[];
  judge(run: GuestRun, ctx: ScenarioContext): Verdict;
}

const PASS: Verdict = { verdict: 'PASS' };
const passNote = (note: string): Verdict => ({ verdict: 'PASS', note });
const fail = (reason: string): Verdict => ({ verdict: 'FAIL', reason });
const quirk = (q: QuirkId): Verdict => ({ verdict: 'QUIRK', quirk: q });

const HELLO_RE = /^stapsh (\S+) (\S+) (\S+)\n$/;
const HELLO_LINE = /^stapsh \S+ \S+ \S+\n/m;
const HELLO: Step = { send: 'stap 4.8\n', until: HELLO_LINE };
const line = (l: string): Step => ({ send: `${l}\n` });
const lines = (...ls: string[]): Step[] => ls.map(line);
const upload = (name: string, body: string): Step[] => [{ send: `file ${body.length} ${name}\n` }, { send: body }];
const CHILD_READY: RegExp = /to stderr/;
const EXIT: Step = { awaitExit: true };

const show = (s: string) => JSON.stringify(s.length > 300 ? `${s.slice(0, 300)}…` : s);

/** Splits the stdout into its reply lines; hellos become `<hello>` after checking them. */
function helloCheck(text: string, ctx: ScenarioContext): string | null {
  const m = HELLO_RE.exec(text);
  if (!m) return `not a hello: ${show(text)}`;
  if (ctx.release !== null && m[1] !== ctx.release) return `hello says release ${m[1]}, expected ${ctx.release}`;
  return null;
}

/** Replace each hello line by `<hello>` (checking it), so expectations can be written as text. */
function normalise(stdout: string, ctx: ScenarioContext): { text: string; error: string | null } {
  let error: string | null = null;
  const text = stdout.replace(/^stapsh [^\n]*\n/gm, (h) => {
    error ??= helloCheck(h, ctx);
    return '<hello>\n';
  });
  return { text, error };
}

const withoutDebug = (s: string) =>
  s
    .split(/(?<=\n)/)
    .filter((l) => !l.startsWith('stapsh:'))
    .join('');

/** Common checks after any run: it exited in time, with this status, leaving its TMPDIR empty. */
function ended(run: GuestRun, code: number): string | null {
  if (run.spawnError) return `guest did not start: ${run.spawnError}`;
  if (run.timedOut) return 'guest did not exit within the bound';
  if (run.code !== code) return `exit status ${run.code ?? `signal ${run.signal}`}, expected ${code}`;
  if (run.leftovers.length > 0) return `left in TMPDIR: ${run.leftovers.join(', ')}`;
  return null;
}

/** A scenario whose whole stdout (hellos as `<hello>`) and exit status are fixed. */
function exact(
  name: string,
  steps: readonly Step[],
  expected: string | ((ctx: ScenarioContext) => string),
  extra: { code?: number; check?: (run: GuestRun) => string | null } = {},
): Scenario {
  return {
    name,
    group: name.split('/')[0]!,
    needsChild: false,
    quirks: [],
    steps,
    judge(run, ctx) {
      const e = ended(run, extra.code ?? 0);
      if (e) return fail(e);
      const { text, error } = normalise(run.stdout, ctx);
      if (error) return fail(error);
      const want = typeof expected === 'string' ? expected : expected(ctx);
      if (text !== want) return fail(`stdout ${show(text)}, expected ${show(want)}`);
      const c = extra.check?.(run);
      return c ? fail(c) : PASS;
    },
  };
}

/** Parse `data stdout|stderr N\n` frames; returns the payload or an error. */
function frames(text: string, stream: 'stdout' | 'stderr'): { payload: string; rest: string } | { error: string } {
  let payload = '';
  let i = 0;
  const header = /^data (stdout|stderr) (\d+)\n/;
  while (i < text.length) {
    const m = header.exec(text.slice(i));
    if (!m) return { payload, rest: text.slice(i) };
    if (m[1] !== stream) return { error: `a ${m[1]} frame on the guest's ${stream}` };
    const n = Number(m[2]);
    const start = i + m[0].length;
    if (start + n > text.length) return { error: `a frame of ${n} bytes is cut short` };
    payload += text.slice(start, start + n);
    i = start + n;
  }
  return { payload, rest: '' };
}

const ARGS_LINE = (args: string) => new RegExp(`args: \\S*staprun ${args.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`);

/** A scenario with the child; `judge` sees the run after the common exit checks. */
function withChild(
  name: string,
  steps: readonly Step[],
  code: number,
  judge: (run: GuestRun, ctx: ScenarioContext) => Verdict,
  quirks: readonly QuirkId[] = [],
): Scenario {
  return {
    name,
    group: name.split('/')[0]!,
    needsChild: true,
    quirks,
    steps,
    judge(run, ctx) {
      const e = ended(run, code);
      if (e) return fail(e);
      return judge(run, ctx);
    },
  };
}

/** Without data mode: stdout is `<hello>\n` + `OK\n` (for run) + the child's output; output first is the 4.8 quirk. */
function plainRun(name: string, steps: readonly Step[], code: number, childOut: (RegExp | string)[], prefix = '<hello>\nOK\n'): Scenario {
  return withChild(
    name,
    steps,
    code,
    (run, ctx) => {
      const { text, error } = normalise(run.stdout, ctx);
      if (error) return fail(error);
      for (const want of childOut) {
        const ok = typeof want === 'string' ? text.includes(want) : want.test(text);
        if (!ok) return fail(`stdout ${show(text)} lacks ${String(want)}`);
      }
      if (!withoutDebug(run.stderr).includes('to stderr\n')) return fail(`stderr ${show(run.stderr)} lacks the child's "to stderr"`);
      if (text.startsWith(prefix)) return PASS;
      const okAt = text.indexOf('OK\n');
      if (okAt > 0 && text.startsWith('<hello>\n') && !text.slice(0, okAt).includes('ERROR')) return quirk('output-before-ok');
      return fail(`stdout does not start with ${show(prefix)}: ${show(text)}`);
    },
    ['output-before-ok'],
  );
}

/** The child is hung up (by quit, EOF or a signal to the guest): it says `got HUP`, the guest exits 7. */
function hangup(name: string, how: Step): Scenario {
  return plainRun(name, [HELLO, { ...line('run'), until: CHILD_READY }, how, EXIT], 7, [/args: \S*staprun \n/, 'cwd: stapsh.\n', 'got HUP\n']);
}

/** Data mode: `<hello>\nOK\nOK\n`, then stdout frames, then `quit\n`; stderr frames on stderr. */
function dataRun(
  name: string,
  steps: readonly Step[],
  code: number,
  check: (payload: string, errPayload: string) => Verdict,
  quirks: readonly QuirkId[] = [],
): Scenario {
  return withChild(
    name,
    steps,
    code,
    (run, ctx) => {
      const { text, error } = normalise(run.stdout, ctx);
      if (error) return fail(error);
      const head = '<hello>\nOK\nOK\n';
      if (!text.startsWith(head)) return fail(`stdout does not start with ${show(head)}: ${show(text)}`);
      const out = frames(text.slice(head.length), 'stdout');
      if ('error' in out) return fail(out.error);
      if (out.rest !== 'quit\n') return fail(`after the frames: ${show(out.rest)}, expected "quit\\n"`);
      const err = frames(withoutDebug(run.stderr), 'stderr');
      if ('error' in err) return fail(err.error);
      if (err.rest !== '') return fail(`unframed stderr: ${show(err.rest)}`);
      return check(out.payload, err.payload);
    },
    quirks,
  );
}

const BAD_CHARS: readonly [string, string][] = [
  ['_a', '_'],
  ['a-b', '-'],
  ['.x', '.'],
  ['a/b', '/'],
  ['ab$', '$'],
];

function buildCatalogue(): Scenario[] {
  const s: Scenario[] = [];

  // --- handshake
  s.push(exact('handshake/hello', [HELLO], '<hello>\n'));
  s.push(
    exact('handshake/hello-forms', [HELLO, ...lines('stap', 'stap 1.0 extra words', 'stap\r', '\tstap')], '<hello>\n'.repeat(5), {
      check: (run) => (new Set(run.stdout.split('\n').filter(Boolean)).size === 1 ? null : 'the hellos differ'),
    }),
  );
  s.push(
    exact('handshake/repeated-stap', [HELLO, HELLO, HELLO], '<hello>\n'.repeat(3), {
      check: (run) => (new Set(run.stdout.split('\n').filter(Boolean)).size === 1 ? null : 'the hellos differ'),
    }),
  );
  s.push(exact('handshake/commands-before-stap', [...lines('option dyninst', 'file 0 a'), HELLO], 'OK\nERROR: Bad file size 0\n<hello>\n'));
  s.push(exact('handshake/stale-lines-before-stap', [...lines('garbage', 'xx stap 4.8', '', 'STAP', 'stapsh 4.8 x y'), HELLO], '<hello>\n'));
  s.push(exact('handshake/unknown-commands', [HELLO, ...lines('bogus', '', 'OPTION data', 'Stap', 'quitx'), HELLO], '<hello>\n<hello>\n'));
  s.push(exact('handshake/trailing-command-at-eof', [HELLO, { send: 'stap', quietMs: 300 }, { eof: true }, EXIT], '<hello>\n<hello>\n'));

  // --- options
  s.push(exact('option/data', [HELLO, line('option data'), { eof: true }, EXIT], '<hello>\nOK\nquit\n'));
  s.push(
    exact('option/verbose', [HELLO, ...lines('option verbose', 'stap', 'file 0 a')], '<hello>\nOK\n<hello>\nERROR: Bad file size 0\n', {
      check: (run) => {
        const l = run.stderr.split('\n').filter(Boolean);
        if (l.length === 0) return 'no debug lines on stderr';
        const bad = l.find((x) => !x.startsWith('stapsh:'));
        return bad === undefined ? null : `stderr line not a stapsh: debug line: ${show(bad)}`;
      },
    }),
  );
  s.push(exact('option/dyninst', [HELLO, line('option dyninst')], '<hello>\nOK\n'));
  s.push({
    ...exact('option/bpf-by-release', [HELLO, line('option bpf')], ''),
    judge(run, ctx) {
      const e = ended(run, 0);
      if (e) return fail(e);
      const m = /^stapsh (\S+) \S+ \S+\n([\s\S]*)$/.exec(run.stdout);
      if (!m) return fail(`no hello: ${show(run.stdout)}`);
      const h = normalise(run.stdout, ctx).error;
      if (h) return fail(h);
      const release = ctx.release ?? m[1]!;
      const want = featuresOf(release).bpf ? 'OK\n' : 'ERROR: Invalid option\n';
      return m[2] === want ? PASS : fail(`release ${release}: ${show(m[2]!)}, expected ${show(want)}`);
    },
  });
  s.push(exact('option/errors', [HELLO, ...lines('option', 'option foo', 'option DATA')], '<hello>\nERROR: Could not parse option\nERROR: Invalid option\nERROR: Invalid option\n'));
  s.push(exact('option/extra-words-and-spaces', [HELLO, ...lines('option dyninst extra', 'option  dyninst', 'option\tdyninst')], '<hello>\nOK\nOK\nOK\n'));

  // --- file
  s.push(exact('file/size-zero', [HELLO, ...lines('file 0 a'), HELLO], '<hello>\nERROR: Bad file size 0\n<hello>\n'));
  s.push(exact('file/size-minus-one', [HELLO, ...lines('file -1 a', 'file'), HELLO], '<hello>\nERROR: Bad file size -1\nERROR: Bad file size -1\n<hello>\n'));
  s.push(exact('file/size-over-limit', [HELLO, ...lines('file 32000001 a'), HELLO], '<hello>\nERROR: Bad file size 32000001\n<hello>\n'));
  s.push(
    exact(
      'file/size-atoi-refused',
      [HELLO, ...lines('file x a', 'file 0x10 b', 'file 99999999999999999999 a'), HELLO],
      '<hello>\nERROR: Bad file size 0\nERROR: Bad file size 0\nERROR: Bad file size -1\n<hello>\n',
    ),
  );
  s.push(exact('file/size-atoi-accepted', [HELLO, line('file +5 b x y'), { send: '12345' }, line('file 3abc c'), { send: 'xyz' }, HELLO], '<hello>\nOK\nOK\n<hello>\n'));
  s.push(exact('file/missing-name', [HELLO, line('file 10')], '<hello>\nERROR: Missing file name\n'));
  for (const [name, c] of BAD_CHARS) {
    s.push(exact(`file/bad-character-${name}`, [HELLO, line(`file 3 ${name}`)], `<hello>\nERROR: Bad character '${c}' in file name\n`));
  }
  const n256 = 'a'.repeat(256);
  s.push(exact('file/name-256-chars', [HELLO, line(`file 3 ${n256}`)], `<hello>\nERROR: Can't open file "${n256}" for writing\n`));
  s.push(exact('file/name-255-chars', [HELLO, ...upload('b'.repeat(255), 'abc'), HELLO], '<hello>\nOK\n<hello>\n'));
  s.push(exact('file/extra-words', [HELLO, line('file 3 x y'), { send: 'abc' }, HELLO], '<hello>\nOK\n<hello>\n'));
  s.push(exact('file/upload', [HELLO, ...upload('A9._', 'x\ny\nz'), ...upload('mod.ko', 'stap 4.8\n'), HELLO], '<hello>\nOK\nOK\n<hello>\n'));
  s.push({
    name: 'file/refused-payload',
    group: 'file',
    needsChild: false,
    quirks: ['refused-file-payload'],
    steps: [HELLO, line('file 3 _bad'), { send: 'abcstap 4.8\n' }],
    judge(run, ctx) {
      const e = ended(run, 0);
      if (e) return fail(e);
      const { text, error } = normalise(run.stdout, ctx);
      if (error) return fail(error);
      const refused = "<hello>\nERROR: Bad character '_' in file name\n";
      if (text === `${refused}<hello>\n`) return PASS;
      if (text === refused) return quirk('refused-file-payload');
      return fail(`stdout ${show(text)}`);
    },
  });

  // --- run argument encoding
  s.push(
    exact(
      'run/bad-encodings',
      [HELLO, ...lines('run =', 'run =4', 'run =G1', 'run a=', 'run ok =zz'), HELLO],
      '<hello>\n' + ['=', '=4', '=G1', 'a=', '=zz'].map((a) => `ERROR: Invalid encoding in argument "${a}"\n`).join('') + '<hello>\n',
    ),
  );
  s.push(exact('run/256-arguments', [HELLO, line(`run ${Array(256).fill('a').join(' ')}`), HELLO], '<hello>\nERROR: Too many arguments\n<hello>\n'));
  s.push(
    plainRun(
      'run/quoted-printable',
      [HELLO, ...upload('mod.ko', 'ELF'), { ...line('run exit3 a=20b c\tx =3D=0a =41=4a=4A'), until: CHILD_READY }, EXIT],
      3,
      [ARGS_LINE('exit3 a b c x =\n AJJ'), 'cwd: stapsh.\n', 'mod.ko\n'],
      '<hello>\nOK\nOK\n',
    ),
  );
  s.push(plainRun('run/255-arguments', [HELLO, { ...line(`run exit3 ${Array(254).fill('a').join(' ')}`), until: CHILD_READY }, EXIT], 3, [ARGS_LINE(`exit3 ${Array(254).fill('a').join(' ')}`)]));

  // --- busy: after run only option is answered
  s.push(
    withChild('busy/after-run', [HELLO, { ...line('run'), until: CHILD_READY }, ...lines('stap', 'file 3 a', 'run', 'bogus'), line('option dyninst'), line('quit'), EXIT], 7, (run) => {
      const silent = run.steps.slice(2, 6);
      const noisy = silent.find((st) => st.stdout !== '' || withoutDebug(st.stderr) !== '');
      if (noisy) return fail(`${show(noisy.sent)} after run got ${show(noisy.stdout + noisy.stderr)}`);
      if (run.steps[6]!.stdout !== 'OK\n') return fail(`option after run got ${show(run.steps[6]!.stdout)}, expected "OK\\n"`);
      if (!run.stdout.includes('got HUP\n')) return fail('quit did not hang up the child');
      return PASS;
    }),
  );

  // --- quit and EOF
  s.push(exact('quit/before-run', [HELLO, line('quit'), EXIT], '<hello>\n'));
  s.push(exact('quit/before-run-data', [HELLO, ...lines('option data', 'quit'), EXIT], '<hello>\nOK\nquit\n'));
  s.push(hangup('quit/during-run', line('quit')));
  s.push(exact('eof/before-run', [HELLO, { eof: true }, EXIT], '<hello>\n'));
  s.push(hangup('eof/during-run', { eof: true }));
  s.push({
    name: 'eof/commands-with-eof',
    group: 'eof',
    needsChild: false,
    quirks: ['eof-drop'],
    steps: [{ send: 'stap 4.8\nstap 4.8\noption data\noption\nquit\n', eof: true }, EXIT],
    judge(run, ctx) {
      const e = ended(run, 0);
      if (e) return fail(e);
      const { text, error } = normalise(run.stdout, ctx);
      if (error) return fail(error);
      const want = ['<hello>', '<hello>', 'OK', 'ERROR: Could not parse option', 'quit'];
      const got = text.split('\n').filter(Boolean);
      if (got.join('\n') === want.join('\n')) return PASS;
      // 4.8 handles one line per wake-up; whatever it handled is a prefix (data mode still announces quit).
      const core = got[got.length - 1] === 'quit' ? got.slice(0, -1) : got;
      if (core.length < 4 && core.every((l, i) => l === want[i])) return quirk('eof-drop');
      return fail(`stdout ${show(text)}`);
    },
  });

  // --- signals to the guest during run
  for (const signal of ['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE'] as const) s.push(hangup(`signal/${signal}`, { signal }));

  // --- exit status and data framing
  s.push(plainRun('exit/child-status', [HELLO, { ...line('run exit3'), until: CHILD_READY }, EXIT], 3, [ARGS_LINE('exit3'), 'cwd: stapsh.\n']));
  s.push(plainRun('exit/killed-child', [HELLO, { ...line('run kill9'), until: CHILD_READY }, EXIT], 137, [ARGS_LINE('kill9')]));
  const dataSteps = (arg: string): Step[] => [HELLO, line('option data'), { ...line(`run ${arg}`), until: CHILD_READY }, EXIT];
  s.push(
    dataRun('data/framed-stdout', dataSteps('exit3'), 3, (payload) =>
      ARGS_LINE('exit3').test(payload) && payload.includes('cwd: stapsh.\n') ? PASS : fail(`stdout payload ${show(payload)}`),
    ),
  );
  s.push(dataRun('data/framed-stderr', dataSteps('exit3'), 3, (_p, err) => (err === 'to stderr\n' ? PASS : fail(`stderr payload ${show(err)}`))));
  s.push(dataRun('data/killed-child', dataSteps('kill9'), 137, (payload) => (ARGS_LINE('kill9').test(payload) ? PASS : fail(`stdout payload ${show(payload)}`))));
  s.push(
    dataRun(
      'data/output-after-hangup',
      [HELLO, line('option data'), { ...line('run'), until: CHILD_READY }, line('quit'), EXIT],
      7,
      (payload) => (payload.includes('got HUP\n') ? PASS : quirk('lost-after-sighup')),
      ['lost-after-sighup'],
    ),
  );

  // --- stapflow's extensions: a guest either implements one exactly or answers as SystemTap does
  s.push(...extensionScenarios());

  // --- line length
  s.push({
    name: 'lines/over-4095-bytes',
    group: 'lines',
    needsChild: false,
    quirks: ['long-line-split'],
    steps: [HELLO, line(`${'x'.repeat(4095)}stap`), line('file 0 a'), line('option dyninst')],
    judge(run, ctx) {
      const e = ended(run, 0);
      if (e) return fail(e);
      const { text, error } = normalise(run.stdout, ctx);
      if (error) return fail(error);
      const want = '<hello>\nERROR: Bad file size 0\nOK\n';
      if (text === want) return PASS;
      if (text.startsWith('<hello>\n') && text.slice(8).includes('<hello>\n')) return quirk('long-line-split');
      return fail(`stdout ${show(text)}, expected ${show(want)}`);
    },
  });

  return s;
}

/**
 * stapflow's negotiated extensions (README, "Protocol extensions"): the
 * hello nonce and `option status`. Both behaviours pass: the extension
 * exactly as specified (note `extension`), or SystemTap's answer (note
 * `no extension`); anything else fails.
 */
function extensionScenarios(): Scenario[] {
  const NONCE = 'Conformance-1';
  const helloWords = (line: string) => /^stapsh (\S+) (\S+) (\S+)(?: (\S+))?$/.exec(line);
  const nonce: Scenario = {
    name: 'extension/hello-nonce',
    group: 'extension',
    needsChild: false,
    quirks: [],
    steps: [{ send: `stap 4.8 nonce=${NONCE}\n`, until: /^stapsh [^\n]*\n/m }, line('stap 4.8 nonce=bad/token'), line('stap 4.8 x nonce=abc')],
    judge(run, ctx) {
      const e = ended(run, 0);
      if (e) return fail(e);
      const got = run.stdout.split('\n').filter(Boolean);
      if (got.length !== 3) return fail(`expected three hellos, got ${show(run.stdout)}`);
      const first = helloWords(got[0]!);
      if (!first) return fail(`not a hello: ${show(got[0]!)}`);
      if (ctx.release !== null && first[1] !== ctx.release) return fail(`hello says release ${first[1]}, expected ${ctx.release}`);
      const plain = `stapsh ${first[1]} ${first[2]} ${first[3]}`;
      // A malformed nonce, or one not in third place, is an extra word: the plain hello.
      if (got[1] !== plain || got[2] !== plain) return fail(`malformed nonces must get the plain hello ${show(plain)}, got ${show(got.slice(1).join('\n'))}`);
      if (first[4] === undefined) return passNote('no extension: the plain hello, as SystemTap');
      return first[4] === `nonce=${NONCE}` ? passNote('extension: the nonce echoed') : fail(`hello echoes ${show(first[4])}, expected nonce=${NONCE}`);
    },
  };

  /** `option status` in data mode: `OK` and `status …` before `quit`, or SystemTap's `ERROR: Invalid option` and no status. */
  const status = (name: string, arg: string, code: number, statusLine: string): Scenario =>
    withChild(name, [HELLO, line('option data'), line('option status'), { ...line(`run ${arg}`), until: CHILD_READY }, EXIT], code, (run, ctx) => {
      const { text, error } = normalise(run.stdout, ctx);
      if (error) return fail(error);
      const heads = { ext: '<hello>\nOK\nOK\nOK\n', plain: '<hello>\nOK\nERROR: Invalid option\nOK\n' };
      const withExt = text.startsWith(heads.ext);
      if (!withExt && !text.startsWith(heads.plain)) return fail(`stdout does not start with the replies to option data, option status and run: ${show(text)}`);
      const out = frames(text.slice((withExt ? heads.ext : heads.plain).length), 'stdout');
      if ('error' in out) return fail(out.error);
      const want = withExt ? `${statusLine}\nquit\n` : 'quit\n';
      if (out.rest !== want) return fail(`after the frames: ${show(out.rest)}, expected ${show(want)}`);
      return passNote(withExt ? `extension: ${statusLine}` : 'no extension: ERROR: Invalid option, no status');
    });

  const noData = withChild('extension/status-without-data-mode', [HELLO, line('option status'), { ...line('run exit3'), until: CHILD_READY }, EXIT], 3, (run, ctx) => {
    const { text, error } = normalise(run.stdout, ctx);
    if (error) return fail(error);
    if (/^status /m.test(text)) return fail(`a status line without data mode: ${show(text)}`);
    if (text.startsWith('<hello>\nOK\n')) return passNote('extension: OK, and no status line without data mode');
    if (text.startsWith('<hello>\nERROR: Invalid option\n')) return passNote('no extension: ERROR: Invalid option');
    return fail(`stdout ${show(text)}`);
  });

  return [nonce, status('extension/status-exit-code', 'exit3', 3, 'status 3'), status('extension/status-signal', 'kill9', 137, 'status signal 9'), noData];
}

export const CATALOGUE: readonly Scenario[] = buildCatalogue();

/** The scenarios whose name matches `filter` (a regular expression), all without one. */
export function selectScenarios(filter: string | null, catalogue: readonly Scenario[] = CATALOGUE): Scenario[] {
  if (filter === null) return [...catalogue];
  const re = new RegExp(filter);
  return catalogue.filter((sc) => re.test(sc.name));
}

/** The conformance catalogue, without processes: its shape, its judges on recorded transcripts, --filter. */
// @ts-nocheck


import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOGUE, selectScenarios, type GuestRun, type Scenario } from '../../conformance/catalogue.js';
import { CHILD_SCRIPT } from '../../conformance/child.js';
import { isQuirk, QUIRKS } from '../../conformance/quirks.js';

const HELLO = 'stapsh 4.8 x86_64 6.1.0\n';

function transcript(stdout: string, more: Partial<GuestRun> = {}): GuestRun {
  return { steps: [], stdout, stderr: '', code: 0, signal: null, timedOut: false, spawnError: null, leftovers: [], ...more };
}

const byName = (name: string): Scenario => {
  const sc = CATALOGUE.find((s) => s.name === name);
  if (!sc) throw new Error(`no scenario ${name}`);
  return sc;
};

const ctx = { release: null };

describe('the conformance catalogue', () => {
  it('has at least 30 scenarios with unique names', () => {
    expect(CATALOGUE.length).toBeGreaterThanOrEqual(30);
    expect(new Set(CATALOGUE.map((s) => s.name)).size).toBe(CATALOGUE.length);
  });

  it('covers every area of the brief', () => {
    const groups = new Set(CATALOGUE.map((s) => s.group));
    for (const g of ['handshake', 'option', 'file', 'run', 'busy', 'quit', 'eof', 'signal', 'exit', 'data', 'lines', 'extension']) expect(groups).toContain(g);
  });

  it('names only documented quirks, and every documented quirk is used', () => {
    const readme = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');
    const used = new Set(CATALOGUE.flatMap((s) => s.quirks));
    for (const q of used) expect(isQuirk(q)).toBe(true);
    for (const q of Object.keys(QUIRKS)) expect(used).toContain(q);
    // Each quirk text points at a numbered README difference that exists.
    for (const text of Object.values(QUIRKS)) {
      const n = /README difference (\d+)/.exec(text)?.[1];
      expect(n).toBeDefined();
      expect(readme).toMatch(new RegExp(`^${n}\\. `, 'm'));
    }
  });

  it('every QUIRK verdict on a SystemTap-like transcript names a quirk the scenario declares', () => {
    const cases: [string, GuestRun][] = [
      ['file/refused-payload', transcript(`${HELLO}ERROR: Bad character '_' in file name\n`)],
      ['eof/commands-with-eof', transcript(`${HELLO}${HELLO}`)],
      ['lines/over-4095-bytes', transcript(`${HELLO}${HELLO}ERROR: Bad file size 0\n`)],
      ['data/output-after-hangup', transcript(`${HELLO}OK\nOK\ndata stdout 5\nargs\nquit\n`, { code: 7 })],
      ['exit/child-status', transcript(`${HELLO}args: /usr/bin/staprun exit3\ncwd: stapsh.\nOK\n`, { code: 3, stderr: 'to stderr\n' })],
    ];
    for (const [name, run] of cases) {
      const sc = byName(name);
      const v = sc.judge(run, ctx);
      expect(v.verdict, name).toBe('QUIRK');
      if (v.verdict === 'QUIRK') {
        expect(isQuirk(v.quirk)).toBe(true);
        expect(sc.quirks).toContain(v.quirk);
      }
    }
  });

  it("stapflow's behaviour is PASS where 4.8 has a quirk", () => {
    expect(byName('file/refused-payload').judge(transcript(`${HELLO}ERROR: Bad character '_' in file name\n${HELLO}`), ctx)).toEqual({ verdict: 'PASS' });
    expect(byName('lines/over-4095-bytes').judge(transcript(`${HELLO}ERROR: Bad file size 0\nOK\n`), ctx)).toEqual({ verdict: 'PASS' });
    expect(
      byName('data/output-after-hangup').judge(transcript(`${HELLO}OK\nOK\ndata stdout 8\ngot HUP\nquit\n`, { code: 7 }), ctx),
    ).toEqual({ verdict: 'PASS' });
  });

  it('anything else is FAIL', () => {
    expect(byName('file/refused-payload').judge(transcript(`${HELLO}OK\n`), ctx).verdict).toBe('FAIL');
    expect(byName('handshake/hello').judge(transcript(HELLO, { code: 1 }), ctx).verdict).toBe('FAIL');
    expect(byName('handshake/hello').judge(transcript(HELLO, { leftovers: ['stapsh.abc123'] }), ctx).verdict).toBe('FAIL');
    expect(byName('handshake/hello').judge(transcript(HELLO, { timedOut: true, code: null }), ctx).verdict).toBe('FAIL');
    expect(byName('data/output-after-hangup').judge(transcript(`${HELLO}OK\nOK\ndata stdout 99\nx`, { code: 7 }), ctx).verdict).toBe('FAIL');
  });

  it('checks the release in the hello against --release', () => {
    expect(byName('handshake/hello').judge(transcript(HELLO), { release: '4.8' })).toEqual({ verdict: 'PASS' });
    expect(byName('handshake/hello').judge(transcript(HELLO), { release: '5.5' }).verdict).toBe('FAIL');
  });

  it('expects option bpf by release', () => {
    const bpf = byName('option/bpf-by-release');
    expect(bpf.judge(transcript(`${HELLO}ERROR: Invalid option\n`), ctx)).toEqual({ verdict: 'PASS' });
    expect(bpf.judge(transcript('stapsh 5.1 x86_64 6.1.0\nOK\n'), ctx)).toEqual({ verdict: 'PASS' });
    expect(bpf.judge(transcript(`${HELLO}OK\n`), ctx).verdict).toBe('FAIL');
  });

  it('--filter selects by regular expression on the name', () => {
    expect(selectScenarios(null)).toHaveLength(CATALOGUE.length);
    const signals = selectScenarios('^signal/');
    expect(signals.map((s) => s.name)).toEqual(['signal/SIGHUP', 'signal/SIGINT', 'signal/SIGTERM', 'signal/SIGPIPE']);
    expect(selectScenarios('nothing-matches-this')).toEqual([]);
    expect(() => selectScenarios('(')).toThrow();
  });

  it('ships a child script that behaves like the differential suite child', () => {
    for (const part of ['args: $0 $*', 'cwd: ', 'ls', 'to stderr', 'got HUP', 'exit 7', 'exit3', 'kill -9 $$']) expect(CHILD_SCRIPT).toContain(part);
    expect(CATALOGUE.filter((s) => s.needsChild).length).toBeGreaterThan(0);
  });
});

describe('the extension scenarios', () => {
  const PLAIN = HELLO.trimEnd();
  it('pass a guest with the extension and one without, and fail anything else', () => {
    const nonce = byName('extension/hello-nonce');
    expect(nonce.judge(transcript(`${PLAIN} nonce=Conformance-1\n${HELLO}${HELLO}`), ctx)).toEqual({ verdict: 'PASS', note: 'extension: the nonce echoed' });
    expect(nonce.judge(transcript(HELLO.repeat(3)), ctx)).toMatchObject({ verdict: 'PASS', note: expect.stringMatching(/^no extension/) });
    expect(nonce.judge(transcript(`${PLAIN} nonce=other\n${HELLO}${HELLO}`), ctx).verdict).toBe('FAIL');
    expect(nonce.judge(transcript(`${PLAIN} nonce=Conformance-1\n${PLAIN} nonce=bad/token\n${HELLO}`), ctx).verdict).toBe('FAIL');

    const code = byName('extension/status-exit-code');
    const ext = `${HELLO}OK\nOK\nOK\ndata stdout 3\nhi\nstatus 3\nquit\n`;
    expect(code.judge(transcript(ext, { code: 3 }), ctx)).toEqual({ verdict: 'PASS', note: 'extension: status 3' });
    const plain = `${HELLO}OK\nERROR: Invalid option\nOK\ndata stdout 3\nhi\nquit\n`;
    expect(code.judge(transcript(plain, { code: 3 }), ctx)).toMatchObject({ verdict: 'PASS', note: expect.stringMatching(/^no extension/) });
    // Agreed but no status line, a wrong one, or a status line after refusing: FAIL.
    expect(code.judge(transcript(`${HELLO}OK\nOK\nOK\ndata stdout 3\nhi\nquit\n`, { code: 3 }), ctx).verdict).toBe('FAIL');
    expect(code.judge(transcript(`${HELLO}OK\nOK\nOK\nstatus 0\nquit\n`, { code: 3 }), ctx).verdict).toBe('FAIL');
    expect(code.judge(transcript(`${HELLO}OK\nERROR: Invalid option\nOK\nstatus 3\nquit\n`, { code: 3 }), ctx).verdict).toBe('FAIL');

    const raw = byName('extension/status-without-data-mode');
    expect(raw.judge(transcript(`${HELLO}OK\nOK\nargs\nstatus 3\n`, { code: 3 }), ctx).verdict).toBe('FAIL');
    expect(raw.judge(transcript(`${HELLO}OK\nOK\nargs\n`, { code: 3 }), ctx).verdict).toBe('PASS');
  });
});

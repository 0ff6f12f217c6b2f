/**
 * `stapsh-conformance` (after `npm run build`) against SystemTap's stapsh 4.8
 * (its child bind-mounted over /usr/bin/staprun) and against ours (the child
 * as staprun in --bindir): no FAIL for either; SystemTap's documented quirks
 * show as QUIRK; ours passes everything.
 */
// @ts-nocheck


import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../conformance/catalogue.js';
import { CHILD_SCRIPT } from '../../conformance/child.js';
import { QUIRKS } from '../../conformance/quirks.js';
import { cleanupRealPeers, describeReal, itReal, REAL_STAPSH, scriptedBindir, trackedTempDir } from '../support/realPeers.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/stapsh-conformance.js');

interface Report {
  summary: { total: number; pass: number; quirk: number; fail: number; skip: number };
  quirks: string[];
  durationMs: number;
  scenarios: { name: string; verdict: string; quirk?: string; reason?: string; note?: string }[];
}

function conformance(args: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    // Steps end on quiet output: give a loaded CI machine more of it.
    const timing = process.env.CI ? ['--quiet-time', '250', '--startup', '1500'] : [];
    execFile(process.execPath, [CLI, ...args, ...timing, '--json'], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      try {
        resolvePromise({ code, report: JSON.parse(stdout) as Report, stderr });
      } catch (e) {
        reject(new Error(`no JSON report (exit ${code}): ${stderr}\n${stdout}`, { cause: e }));
      }
    });
  });
}

/** The extension scenarios' notes: which behaviour each guest showed. */
const extensionNotes = (r: Report) => r.scenarios.filter((s) => s.name.startsWith('extension/')).map((s) => [s.name, s.verdict, s.note?.split(':')[0]]);
const EXTENSION_SCENARIOS = CATALOGUE.filter((s) => s.name.startsWith('extension/')).map((s) => s.name);

const failures = (r: Report) => r.scenarios.filter((s) => s.verdict !== 'PASS' && s.verdict !== 'QUIRK');

describeReal("stapsh-conformance against SystemTap's stapsh 4.8", () => {
  itReal(
    'exits 0 with no FAIL; the documented quirks are listed',
    async () => {
      const dir = trackedTempDir('stapflow-conf-real-');
      const child = join(dir, 'child.sh');
      writeFileSync(child, CHILD_SCRIPT);
      chmodSync(child, 0o755);
      const wrapper = `unshare -m sh -c 'mount --bind "$0" /usr/bin/staprun && exec ${REAL_STAPSH}' ${child}`;
      const { code, report } = await conformance(['--guest', wrapper, '--child-wrapper', '--release', '4.8']);
      expect(failures(report)).toEqual([]);
      expect(code).toBe(0);
      expect(report.summary.total).toBe(CATALOGUE.length);
      for (const q of report.quirks) expect(Object.keys(QUIRKS)).toContain(q);
      // Deterministic with SystemTap 4.8 (eof-drop and output-before-ok are races).
      expect(report.quirks).toEqual(expect.arrayContaining(['refused-file-payload', 'lost-after-sighup', 'long-line-split']));
      // SystemTap's guest knows none of stapflow's extensions, and refuses them cleanly.
      expect(extensionNotes(report)).toEqual(EXTENSION_SCENARIOS.map((n) => [n, 'PASS', 'no extension']));
    },
    120_000,
  );
});

describe('stapsh-conformance against our stapsh', () => {
  afterAll(cleanupRealPeers);

  it(
    'passes every scenario',
    async () => {
      const dir = trackedTempDir('stapflow-conf-ours-');
      const bindir = scriptedBindir(dir, CHILD_SCRIPT, ['staprun']);
      const guest = `${process.execPath} bin/stapsh.js --protocol-version 4.8 --bindir ${bindir}`;
      const { code, report } = await conformance(['--guest', guest, '--child-wrapper', '--release', '4.8']);
      expect(report.scenarios.filter((s) => s.verdict !== 'PASS')).toEqual([]);
      expect(code).toBe(0);
      expect(report.summary.pass).toBe(CATALOGUE.length);
      expect(EXTENSION_SCENARIOS.length).toBeGreaterThanOrEqual(4);
      expect(extensionNotes(report)).toEqual(EXTENSION_SCENARIOS.map((n) => [n, 'PASS', 'extension']));
    },
    120_000,
  );

  it('skips the scenarios needing a child without --child-wrapper, and --filter selects', async () => {
    const guest = `${process.execPath} bin/stapsh.js --protocol-version 4.8`;
    const { code, report } = await conformance(['--guest', guest, '--filter', '^(handshake/hello|signal/SIGHUP)$']);
    expect(code).toBe(0);
    expect(report.scenarios.map((s) => [s.name, s.verdict])).toEqual([
      ['handshake/hello', 'PASS'],
      ['signal/SIGHUP', 'SKIP'],
    ]);
  });

  it('fails when the hello does not say --release', async () => {
    const guest = `${process.execPath} bin/stapsh.js --protocol-version 4.8`;
    const { code, report } = await conformance(['--guest', guest, '--filter', '^handshake/hello$', '--release', '5.5']);
    expect(code).toBe(1);
    expect(report.scenarios[0]).toMatchObject({ verdict: 'FAIL', reason: expect.stringContaining('expected 5.5') });
  });
});

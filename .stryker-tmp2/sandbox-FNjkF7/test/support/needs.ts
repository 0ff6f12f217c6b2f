/**
 * The one guard for tests that need something from the machine (SystemTap's
 * binaries, socat, sshd, Chromium, systemd-analyze…): with everything there
 * they run; without it they SKIP with a notice locally and FAIL, naming what
 * is missing, when `CI` is set, so a CI run can never pass by skipping.
 * test/real/harness.test.ts runs every guard built on this through a fixture
 * suite with the needs pretended missing (`STAPFLOW_PRETEND_MISSING`, the
 * need's names comma-separated).
 */
// @ts-nocheck


import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { describe, it, type TestContext } from 'vitest';

/** Something a test needs from this machine. */
export interface Need {
  /** Short name, as `STAPFLOW_PRETEND_MISSING` spells it (e.g. `socat`). */
  readonly name: string;
  /** What to say when it is missing (with the package that provides it). */
  readonly missing: string;
  /** Is it here? Called at most once per process. */
  readonly present: () => boolean;
}

export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function onPath(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$0"', cmd], { stdio: 'ignore', timeout: 5_000 }).status === 0;
}

/** A need that is an executable file (absolute path) or a command on PATH. */
export function program(name: string, pathOrCommand: string, pkg: string): Need {
  const present = pathOrCommand.startsWith('/') ? () => executable(pathOrCommand) : () => onPath(pathOrCommand);
  return { name, missing: `${pathOrCommand} (Debian package ${pkg})`, present };
}

export const ROOT: Need = { name: 'root', missing: 'root', present: () => process.getuid?.() === 0 };

const seen = new Map<Need, boolean>();

function pretendedMissing(): Set<string> {
  return new Set((process.env.STAPFLOW_PRETEND_MISSING ?? '').split(',').filter(Boolean));
}

/** What of `needs` is missing here, in words (empty when all are present). */
export function missingOf(needs: readonly Need[]): string[] {
  const pretend = pretendedMissing();
  const out: string[] = [];
  for (const need of needs) {
    if (pretend.has(need.name)) {
      out.push(`${need.name} (pretended by STAPFLOW_PRETEND_MISSING)`);
      continue;
    }
    let here = seen.get(need);
    if (here === undefined) {
      here = need.present();
      seen.set(need, here);
    }
    if (!here) out.push(need.missing);
  }
  return out;
}

/** Whether this run must not skip (`CI` set to anything but `''`, `0` or `false`). */
export function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

function ciMessage(what: string, missing: readonly string[]): string {
  return `${what} cannot run in CI (CI=${process.env.CI ?? ''}), missing: ${missing.join(', ')}`;
}

/** At the start of a test: returns when `needs` are here; otherwise skips (locally) or throws (in CI). */
export function requireNeeds(ctx: Pick<TestContext, 'skip'>, needs: readonly Need[], what = 'this test'): void {
  const missing = missingOf(needs);
  if (missing.length === 0) return;
  if (inCi()) throw new Error(ciMessage(what, missing));
  ctx.skip(`missing ${missing.join(', ')}`);
}

/**
 * A describe block whose tests need `needs`: a plain `describe` when they
 * are here; otherwise skipped with a notice locally, and in CI one failing
 * test naming what is missing.
 */
export function describeNeeding(needs: readonly Need[], what: string, name: string, body: () => void): void {
  const missing = missingOf(needs);
  if (missing.length === 0) describe(name, body);
  else if (inCi()) {
    describe(name, () => {
      it(`has ${needs.map((n) => n.name).join(', ')} (required in CI)`, () => {
        throw new Error(ciMessage(what, missing));
      });
    });
  } else describe.skip(`${name} (skipped: missing ${missing.join(', ')})`, body);
}

/** One test that needs `needs`, guarded like {@link describeNeeding}, usable anywhere. */
export function itNeeding(
  needs: readonly Need[],
  what: string,
  name: string,
  body: (ctx: TestContext) => Promise<void> | void,
  timeoutMs?: number,
): void {
  it(
    name,
    async (ctx) => {
      requireNeeds(ctx, needs, what);
      await body(ctx);
    },
    timeoutMs,
  );
}

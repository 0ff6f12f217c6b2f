/**
 * Real-browser test infrastructure: Debian's Chromium driven by
 * playwright-core (which never downloads a browser here). {@link
 * describeChromium} SKIPS locally when /usr/bin/chromium is missing but
 * FAILS when `CI` is set, like `describeReal` in realPeers.ts.
 */

import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { describe, it } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet, offline, headless Chromium (see /work/shared/design/TOOLING.md). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/** Same rule as `inCi` in realPeers.ts. */
function inCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/**
 * Launch Chromium headless. Playwright gives every `launch()` a fresh
 * temporary profile (its own `--user-data-dir`, removed on close).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS], timeout: 30_000 });
}

/** A describe block that needs Chromium: skipped locally without it, a failing test in CI. */
export function describeChromium(name: string, body: () => void): void {
  if (existsSync(CHROMIUM)) describe(name, body);
  else if (inCi()) {
    describe(name, () => {
      it('has Chromium installed (required in CI)', () => {
        throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
      });
    });
  } else describe.skip(`${name} (skipped: ${CHROMIUM} missing)`, body);
}

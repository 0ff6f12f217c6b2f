/**
 * Real-browser test infrastructure: Debian's Chromium driven by
 * playwright-core (which never downloads a browser here), guarded by
 * needs.ts (skipped locally without it, a failure in CI).
 */
// @ts-nocheck


import { chromium, type Browser } from 'playwright-core';
import { describeNeeding, program } from './needs.js';

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

export const NEED_CHROMIUM = program('chromium', CHROMIUM, 'chromium');

/**
 * Launch Chromium headless. Playwright gives every `launch()` a fresh
 * temporary profile (its own `--user-data-dir`, removed on close).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS], timeout: 30_000 });
}

/** A describe block that needs Chromium: skipped locally without it, a failing test in CI. */
export function describeChromium(name: string, body: () => void): void {
  describeNeeding([NEED_CHROMIUM], 'browser tests', name, body);
}

/** The HTML page of a transcript in real headless Chromium: offline, drawn, filterable. */
// @ts-nocheck

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { renderHtml } from '../../trace/html.js';
import { readAnyTrace } from '../../trace/render.js';
import { describeChromium, launchChromium } from '../support/chromium.js';

const root = resolve(import.meta.dirname, '../..');
const TRANSCRIPTS = resolve(root, '../shared/protocol/transcripts');

describeChromium('trace HTML in Chromium', () => {
  let browser: Browser | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stapflow-tracehtml-'));
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders the diagram and timeline without any request, and the filters hide rows and arrows', async () => {
    const name = readdirSync(TRANSCRIPTS).filter((f) => f.endsWith('.jsonl')).sort()[0]!;
    const parsed = readAnyTrace(readFileSync(join(TRANSCRIPTS, name), 'utf8'), { source: name })!;
    const file = join(dir, 'trace.html');
    writeFileSync(file, renderHtml(parsed.events, parsed.header));
    const url = pathToFileURL(file).href;

    const page = await browser!.newPage({ viewport: { width: 1100, height: 900 } });
    const requests: string[] = [];
    await page.route('**', async (route) => {
      const u = route.request().url();
      requests.push(u);
      if (u === url) await route.continue();
      else await route.abort();
    });
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The page's own Content-Security-Policy would block an external load before it reached
    // the router; Chromium reports such a block as a console error, so collect those too.
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) errors.push(m.text());
    });

    await page.goto(url, { waitUntil: 'load', timeout: 20_000 });

    // The sequence diagram and the timeline are drawn and visible.
    await expect.poll(() => page.locator('svg.seq').isVisible()).toBe(true);
    expect(await page.locator('svg.timeline').isVisible()).toBe(true);
    const seq = await page.locator('svg.seq').boundingBox();
    expect(seq!.width).toBeGreaterThan(500);
    expect(seq!.height).toBeGreaterThan(300);
    expect(await page.locator('svg.seq').textContent()).toContain('stap 4.8');
    for (const lane of ['host', 'guest', 'child']) {
      expect(await page.locator(`svg.timeline g[data-lane="${lane}"] rect`).count(), lane).toBeGreaterThan(0);
    }

    // All rows shown; unticking guest->host hides its rows and arrows, ticking it shows them again.
    const rows = page.locator('#events tbody tr');
    const visibleRows = () => page.locator('#events tbody tr:visible').count();
    const total = await rows.count();
    expect(total).toBe(parsed.events.length);
    expect(await visibleRows()).toBe(total);
    const replies = parsed.events.filter((e) => e.kind === 'frame' && e.direction === 'guest->host').length;
    expect(replies).toBeGreaterThan(0);
    const arrows = page.locator('svg.seq g.ev[data-dir="guest->host"]');
    expect(await arrows.first().isVisible()).toBe(true);

    await page.locator('#filter-dir input[value="guest->host"]').uncheck();
    expect(await visibleRows()).toBe(total - replies);
    expect(await page.locator('#shown').textContent()).toBe(String(total - replies));
    expect(await page.locator('svg.seq g.ev[data-dir="guest->host"]:visible').count()).toBe(0);
    expect(await page.locator('svg.seq g.ev[data-dir="host->guest"]:visible').count()).toBeGreaterThan(0);

    // Kind filter: transport events go too.
    await page.locator('#filter-kind input[value="transport"]').uncheck();
    const transports = parsed.events.filter((e) => e.kind === 'transport').length;
    expect(await visibleRows()).toBe(total - replies - transports);

    await page.locator('#filter-kind input[value="transport"]').check();
    await page.locator('#filter-dir input[value="guest->host"]').check();
    expect(await visibleRows()).toBe(total);

    mkdirSync(join(root, 'artifacts'), { recursive: true });
    await page.screenshot({ path: join(root, 'artifacts/trace-html.png'), fullPage: true });

    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
    expect(failed).toEqual([]);
    await page.close();
  });
});

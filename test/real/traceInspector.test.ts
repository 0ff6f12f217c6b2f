/**
 * The trace page as a debugger in real headless Chromium (Debian's, via
 * playwright-core): a data frame opens to its bytes in hex, the arrow key
 * steps the host statechart's highlighted state, search narrows the table,
 * and no request leaves the page.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runMemorySession } from '../../memory/session.js';
import { parseHexDump } from '../../trace/bytes.js';
import type { TraceEvent, TraceFrameEvent, TraceStateEvent } from '../../trace/format.js';
import { renderHtml } from '../../trace/html.js';
import { createTrace } from '../../trace/recorder.js';
import { describeChromium, launchChromium } from '../support/chromium.js';

const DIAGRAMS = resolve(import.meta.dirname, '../../diagrams');
const PAYLOAD = 'hello\tworld \u00e9\n';

describeChromium('trace page as a debugger in Chromium', () => {
  let browser: Browser | undefined;
  let dir: string;
  let events: TraceEvent[];
  let page: Page;
  const requests: string[] = [];
  const errors: string[] = [];
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stapflow-inspector-'));
    // Coalescing off: one event per data frame.
    const trace = createTrace({ source: 'inspector test' });
    events = [];
    trace.events$.subscribe((e) => events.push(e));
    const r = await runMemorySession({ child: { start: [['stdout', PAYLOAD]], exitCode: 0 }, trace });
    expect(r.host.ok).toBe(true);
    trace.close();
    const statecharts = Object.fromEntries(readdirSync(DIAGRAMS).filter((f) => f.endsWith('.svg')).map((f) => [f.slice(0, -4), readFileSync(join(DIAGRAMS, f), 'utf8')]));
    const file = join(dir, 'trace.html');
    writeFileSync(file, renderHtml(events, trace.header, { statecharts }));
    url = pathToFileURL(file).href;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await page.route('**', async (route) => {
      const u = route.request().url();
      requests.push(u);
      if (u === url) await route.continue();
      else await route.abort();
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) errors.push(m.text());
    });
    await page.goto(url, { waitUntil: 'load', timeout: 20_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = () => page.locator('#events tbody tr');
  const hostActive = () => page.locator('.chart[data-machine="hostSession"] g.node.active title').allTextContents();

  it('clicking a data frame shows its bytes in hex', async () => {
    const i = events.findIndex((e) => e.kind === 'frame' && e.frame === 'data' && e.stream === 'stdout');
    expect(i).toBeGreaterThanOrEqual(0);
    await rows().nth(i).click();
    const hex = (await page.locator('#hex').textContent()) ?? '';
    const payload = Buffer.from(PAYLOAD, 'utf8');
    const expected = Buffer.concat([Buffer.from(`data stdout ${payload.length}\n`), payload]);
    expect(Buffer.from(parseHexDump(hex))).toEqual(expected);
    // Text side by side with the hex: the header's first 16 bytes and the payload's start.
    expect(hex.split('\n')[0]).toMatch(/^00000000 {2}64 61 74 61 20 73 74 64 {2}6f 75 74 20 31 35 0a 68 {2}\|data stdout 15\.h\|$/);
    expect(await page.locator('#bytes-note').textContent()).toBe(`all ${expected.length} bytes recorded`);
    expect(await page.locator('#hex').isVisible()).toBe(true);
  });

  it('the arrow key moves the highlighted state on the host statechart', async () => {
    const host = events.map((e, i) => [e, i] as const).filter((x): x is readonly [TraceStateEvent, number] => x[0].kind === 'state' && x[0].machine === 'hostSession');
    // Two consecutive host state changes into different states, with the second one's row right after another row.
    const k = host.findIndex(([e], j) => j > 0 && e.to !== host[j - 1]![0].to && host[j]![1] > 0);
    expect(k).toBeGreaterThan(0);
    const [before] = host[k - 1]!;
    const [after, at] = host[k]!;
    const leaf = (to: string) => `hostSession_${to.replace(/\./g, '_')}`;
    await rows().nth(at - 1).click();
    expect(await hostActive()).toEqual([leaf(before.to)]);
    await page.keyboard.press('ArrowDown');
    expect(await rows().nth(at).getAttribute('class')).toContain('selected');
    expect(await hostActive()).toEqual([leaf(after.to)]);
    await page.keyboard.press('ArrowUp');
    expect(await hostActive()).toEqual([leaf(before.to)]);
    // The context at that moment is shown next to the chart.
    expect(await page.locator('.chart[data-machine="hostSession"] .ctx').textContent()).toContain('"nonce"');
  });

  it('search narrows the table, over summaries and payload text, and keeps the filters', async () => {
    const total = await rows().count();
    expect(total).toBe(events.length);
    const visible = () => page.locator('#events tbody tr:visible').count();
    await page.locator('#search').fill('world');
    const matching = events.filter((e) => e.kind === 'frame' && (e as TraceFrameEvent).preview?.includes('world')).length;
    expect(matching).toBeGreaterThan(0);
    expect(await visible()).toBe(matching);
    expect(await page.locator('#shown').textContent()).toBe(String(matching));
    // A filter unticked while searching: both apply.
    await page.locator('#filter-dir input[value="guest->host"]').uncheck();
    expect(await visible()).toBe(0);
    await page.locator('#filter-dir input[value="guest->host"]').check();
    await page.locator('#search').press('Enter');
    expect(await visible()).toBe(matching);
    await page.locator('#search').fill('');
    expect(await visible()).toBe(total);
  });

  it('made no request but the page itself, and no error', () => {
    expect(errors).toEqual([]);
    expect(requests).toEqual([url]);
  });
});

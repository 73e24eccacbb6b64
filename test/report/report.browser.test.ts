/**
 * `flowgate report` pages in a real headless Chromium (Debian's, through playwright-core):
 * the statechart's highlighted states and transitions are exactly those the replay went
 * through, the current state is the replay's final one, the timeline has one row per event,
 * the page loads nothing from anywhere (no request but its own file, no CSP violation),
 * and an erased subject reads `(erased)`. With FLOWGATE_UPDATE_SCREENSHOTS=1 it writes
 * docs/images/report.png.
 *
 * Checked by mutation: with `takenPath` marking every declared state visited, "highlights
 * exactly the states the replay visited" failed; with the CSS hash left out of the CSP
 * (`style-src 'none'`), "loads nothing" failed on the console's CSP report; both restored.
 *
 * Without Chromium these tests are skipped locally (loudly) and fail in CI; see
 * test/support/chromium.ts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timelineReport, writeAllReports } from '../../src/audit/report/report.js';
import { subjectKeyId } from '../../src/crypto/vault.js';
import { subjectRefOf } from '../../src/engine/subject-ref.js';
import { readTimeline, type Timeline } from '../../src/replay/timeline.js';
import { findChromium, launchChromium, skipBrowserTests } from '../support/chromium.js';
import { storeTargets } from '../support/stores.js';
import { ISSUER, openScenarioEngine, writeScenario, type Scenario, type ScenarioEngine } from '../replay/support/scenario.js';

const SCREENSHOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/images/report.png');
const chromium = findChromium();

/** The states a replay went through, parents included (what the chart must highlight). */
function replayedStates(timeline: Timeline): string[] {
  const states = new Set<string>();
  for (const e of timeline.entries) {
    for (const state of [e.before, e.after]) {
      if (!state) continue;
      const parts = state.split('.');
      parts.forEach((_, i) => states.add(parts.slice(0, i + 1).join('.')));
    }
  }
  return [...states].sort();
}

describe.skipIf(skipBrowserTests(chromium, 'test/report/report.browser.test.ts'))('report pages in headless Chromium', () => {
  let browser: Browser | undefined;
  let s: ScenarioEngine;
  let scenario: Scenario;
  let dir: string;
  beforeAll(async () => {
    [browser, s] = await Promise.all([launchChromium(chromium), openScenarioEngine(storeTargets()[0]!)]);
    scenario = await writeScenario(s);
    dir = mkdtempSync(join(tmpdir(), 'flowgate-report-'));
  });
  afterAll(async () => {
    await browser?.close();
    await s?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a page, recording requests and console messages. */
  async function open(html: string, name: string, viewport = { width: 1400, height: 900 }): Promise<{ page: Page; requests: string[]; console: string[] }> {
    const file = join(dir, name);
    writeFileSync(file, html);
    const context = await browser!.newContext({ viewport });
    const page = await context.newPage();
    const requests: string[] = [];
    const console: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => console.push(`[${m.type()}] ${m.text()}`));
    await page.goto(pathToFileURL(file).href);
    return { page, requests, console };
  }

  const highlighted = (page: Page, selector: string) =>
    page.$$eval(selector, (nodes) => nodes.map((n) => (n.getAttribute('id') ?? '').replace(/^state-/, '')).sort());

  for (const which of ['replayed', 'live'] as const) {
    it(`highlights exactly the states the replay visited (${which} flow and its grant)`, async () => {
      for (const streamId of [scenario[which].flow, scenario[which].grant]) {
        const timeline = await readTimeline(s.store, streamId, { vault: s.vault });
        const { page } = await open(await timelineReport(timeline, { generatedAt: s.clock.now() }), `${which}-${streamId.split(':')[0]}.html`);
        expect(await highlighted(page, 'svg g.visited')).toEqual(replayedStates(timeline));
        const current = await highlighted(page, 'svg g.current');
        expect(current.at(-1)).toBe(timeline.finalState);
        expect(await page.$$eval('tbody tr[data-version]', (rows) => rows.length)).toBe(timeline.entries.length);
        const rows = await page.$$eval('tbody tr[data-version]', (rs) => rs.map((r) => `${r.getAttribute('data-before')}>${r.getAttribute('data-after')}`));
        expect(rows).toEqual(timeline.entries.map((e) => `${e.before}>${e.after}`));
        // Every legal step took a drawn transition (the grant's context-only ones are in its label).
        const taken = await page.$$eval('svg g.edge.taken', (edges) => edges.length);
        expect(taken).toBeGreaterThan(0);
        await page.context().close();
      }
    });
  }

  it('loads nothing but itself: no request, no CSP violation, no script', async () => {
    const timeline = await readTimeline(s.store, scenario.replayed.flow, { vault: s.vault });
    const html = await timelineReport(timeline, { generatedAt: s.clock.now() });
    expect(html).not.toMatch(/<script|https?:\/\/(?!127\.0\.0\.1|www\.w3\.org)/);
    const { page, requests, console } = await open(html, 'self-contained.html');
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatch(/^file:/);
    expect(console.filter((m) => /Content Security Policy|Refused/.test(m))).toEqual([]);
    // The style applied: a visited state is filled with the highlight colour.
    const fill = await page.$eval('svg g.node.visited path, svg g.node.visited polygon', (el) => (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } }).getComputedStyle(el).fill);
    expect(fill).toBe('rgb(219, 234, 254)');
    if (process.env.FLOWGATE_UPDATE_SCREENSHOTS === '1') {
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }
    await page.context().close();
  });

  it('shows an erased subject as (erased) and links every stream from the index', async () => {
    const bob = await subjectRefOf(s.vault, ISSUER, 'bob');
    await s.vault.destroy(subjectKeyId(bob));
    const timeline = await readTimeline(s.store, scenario.revoked.flow, { vault: s.vault });
    const { page } = await open(await timelineReport(timeline, { generatedAt: s.clock.now() }), 'erased.html');
    const cell = await page.$eval('tr[data-fields="6"] td.fields', (td) => td.textContent ?? '');
    expect(cell).toContain('subject=(erased)');
    expect(cell).not.toContain('bob');
    await page.context().close();

    const index = join(dir, 'all', 'index.html');
    mkdirSync(dirname(index), { recursive: true });
    const entries = await writeAllReports(s.store, index, { vault: s.vault, since: null, limit: 50, kinds: ['flow', 'grant'], now: s.clock.now() });
    expect(entries.length).toBe(8);
    const context = await browser!.newContext();
    const indexPage = await context.newPage();
    await indexPage.goto(pathToFileURL(index).href);
    const links = await indexPage.$$eval('a', (as) => as.map((a) => a.textContent));
    expect(links.sort()).toEqual(entries.map((e) => e.streamId).sort());
    await indexPage.click(`text=${scenario.replayed.flow}`);
    expect(await indexPage.$eval('h1', (h) => h.textContent)).toBe(scenario.replayed.flow);
    await context.close();
  });
});

/**
 * A real headless Chromium for the browser tests (test/browser), driven by playwright-core.
 * The browser is Debian's `chromium` package, never one Playwright downloads.
 *
 * Where it is looked for: `FLOWGATE_CHROMIUM` when set (and then only there: an explicit
 * path that is wrong is reported, not silently replaced by another browser), else
 * `/usr/bin/chromium`, then `/usr/bin/chromium-browser`.
 *
 * When none is found: in CI (`CI` set) the browser tests FAIL, they are never skipped;
 * locally they are skipped with a banner on stderr naming what was tried and how to install
 * Chromium (the same rule test/support/global-setup.ts applies to PostgreSQL).
 *
 * ```ts
 * const chromium = findChromium();
 * describe.skipIf(skipBrowserTests(chromium))('…', () => {
 *   let browser: Browser;
 *   beforeAll(async () => { browser = await launchChromium(chromium); });
 *   afterAll(() => browser?.close());
 * });
 * ```
 *
 * @module
 */
import { accessSync, constants } from 'node:fs';
import { chromium as playwrightChromium, type Browser, type LaunchOptions } from 'playwright-core';

/** Where Chromium is looked for when `FLOWGATE_CHROMIUM` is not set. */
export const DEFAULT_CHROMIUM_PATHS: readonly string[] = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/**
 * The flags every launch passes. Without the background-networking ones Chromium tries to
 * reach Google's hosts at every start, which this machine's closed network refuses.
 * `--user-data-dir` is not among them: playwright-core refuses it in `launch()` and makes a
 * fresh, empty profile directory itself for every launch (and removes it on `close()`).
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The outcome of looking for Chromium. */
export interface ChromiumLookup {
  /** True when an executable was found. */
  readonly available: boolean;
  /** The executable, when found. */
  readonly executablePath: string | null;
  /** Every path looked at, in order. */
  readonly tried: readonly string[];
  /** Where the paths came from. */
  readonly source: 'FLOWGATE_CHROMIUM' | 'default paths';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Looks for Chromium (see the module comment for the order). */
export function findChromium(env: NodeJS.ProcessEnv = process.env): ChromiumLookup {
  const configured = env.FLOWGATE_CHROMIUM?.trim();
  const source = configured ? 'FLOWGATE_CHROMIUM' : 'default paths';
  const tried = configured ? [configured] : [...DEFAULT_CHROMIUM_PATHS];
  const executablePath = tried.find(isExecutable) ?? null;
  return { available: executablePath !== null, executablePath, tried, source };
}

/** True in CI, where nothing may be skipped for want of a browser. */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.CI);
}

/** What is missing and how to get it, for the banner and for the CI failure. */
export function missingChromiumMessage(lookup: ChromiumLookup): string[] {
  return [
    `Chromium is not available (${lookup.source}: tried ${lookup.tried.join(', ')}).`,
    "Install it with: apt-get update && apt-get install -y chromium   (Debian's package, /usr/bin/chromium)",
    'or point FLOWGATE_CHROMIUM at a Chromium executable. Never `npx playwright install`.',
  ];
}

function banner(lines: string[]): void {
  const bar = '!'.repeat(78);
  process.stderr.write(`\n${bar}\n${lines.map((l) => `!! ${l}`).join('\n')}\n${bar}\n\n`);
}

/**
 * Whether the browser tests of a file are skipped: only locally and only when Chromium is
 * missing, and then loudly (a banner on stderr). In CI this is always false, so the tests
 * run and {@link launchChromium} fails them with the reason.
 */
export function skipBrowserTests(lookup: ChromiumLookup, what = 'the browser tests'): boolean {
  if (lookup.available || inCi()) return false;
  banner([`${what}: SKIPPED.`, ...missingChromiumMessage(lookup), 'CI never skips them.']);
  return true;
}

/** Launches headless Chromium with {@link CHROMIUM_FLAGS}; throws with the reason when it is missing. */
export async function launchChromium(lookup: ChromiumLookup = findChromium(), options: LaunchOptions = {}): Promise<Browser> {
  if (!lookup.available || !lookup.executablePath) {
    throw new Error(`${inCi() ? 'CI requires Chromium for the browser tests. ' : ''}${missingChromiumMessage(lookup).join(' ')}`);
  }
  return playwrightChromium.launch({
    executablePath: lookup.executablePath,
    headless: true,
    chromiumSandbox: false,
    timeout: 20_000,
    ...options,
    args: [...CHROMIUM_FLAGS, ...(options.args ?? [])],
  });
}

/**
 * flowgate's consent page in a real headless Chromium (Debian's, through playwright-core):
 * a user opens the authorize URL of a registered public client, sees the consent page,
 * clicks Approve or Deny by its visible text, signs in at the upstream IdP, and the client's
 * own loopback listener receives the answer. Also checks, in the browser, that flowgate's
 * pages cannot be framed, and (with FLOWGATE_UPDATE_SCREENSHOTS=1) writes the consent page's
 * screenshot for the docs.
 *
 * Without Chromium these tests are skipped locally (loudly) and fail in CI; see
 * test/support/chromium.ts.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findChromium, launchChromium, skipBrowserTests } from '../support/chromium.js';
import { authorizationRequest, exchangeCode, registerClient, startProxy, type TestProxy } from '../support/proxy.js';
import { startPageServer, startRedirectListener, type LoopbackServer, type RedirectListener } from './loopback.js';

const SCREENSHOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/images/consent.png');
const VIEWPORT = { width: 900, height: 800 };
const chromium = findChromium();

describe.skipIf(skipBrowserTests(chromium, 'test/browser/consent.browser.test.ts'))('consent page in headless Chromium', () => {
  let proxy: TestProxy | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let listener: RedirectListener | undefined;
  let framer: LoopbackServer | undefined;
  /** What the page logged (CSP violations land here), for failure messages. */
  let consoleLog: string[] = [];

  beforeAll(async () => {
    [proxy, browser] = await Promise.all([startProxy(), launchChromium(chromium)]);
  });
  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
  });

  beforeEach(async () => {
    listener = await startRedirectListener();
    context = await browser!.newContext({ viewport: VIEWPORT });
    context.setDefaultTimeout(10_000);
    context.setDefaultNavigationTimeout(10_000);
    page = await context.newPage();
    consoleLog = [];
    page.on('console', (m) => consoleLog.push(`[${m.type()}] ${m.text()}`));
  });
  afterEach(async () => {
    await context?.close();
    context = undefined;
    await listener?.close();
    listener = undefined;
    await framer?.close();
    framer = undefined;
  });

  /** Awaits one step of the flow; on failure, says where the browser is and what it logged. */
  async function step<T>(what: string, promise: Promise<T>): Promise<T> {
    try {
      return await promise;
    } catch (error) {
      const first = ((error as Error).message ?? String(error)).split('\n')[0];
      throw new Error(`${what}: ${first}\nbrowser at ${page.url()}\nbrowser console:\n${consoleLog.join('\n') || '(nothing)'}`);
    }
  }

  async function openConsentPage() {
    const client = await registerClient(proxy!, { client_name: 'Example MCP client', redirect_uris: [listener!.redirectUri] });
    const request = authorizationRequest(proxy!, client);
    const response = await page.goto(request.url);
    expect(response?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/consent');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toContain('Example MCP client');
    return { client, request, response: response! };
  }

  it('Approve: consent, upstream sign-in, code at the loopback listener, tokens at /token', async () => {
    const { client, request, response } = await openConsentPage();
    // The consent page, as the browser got it, may not be framed.
    const headers = await response.allHeaders();
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    // Refresh the docs' screenshot only on request (its ids and ports change on every run).
    if (process.env.FLOWGATE_UPDATE_SCREENSHOTS === '1') await page.screenshot({ path: SCREENSHOT, type: 'png' });

    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    // The upstream's login page.
    await step('Approve should lead to the upstream login', page.waitForURL((u) => u.origin === new URL(proxy!.idp.issuer).origin));
    await page.locator('input[name="username"]').fill('alice');
    await page.locator('input[name="password"]').fill('alice');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    const callback = await step('the sign-in should end at the client', listener!.next());
    await page.waitForURL((u) => u.origin === listener!.origin);
    await expect.poll(() => page.locator('body').innerText()).toBe('done');
    expect(listener!.received).toHaveLength(1);
    const params = callback.searchParams;
    expect(params.get('error'), callback.toString()).toBeNull();
    expect(params.get('state')).toBe(request.state);
    expect(params.get('iss')).toBe(proxy!.url);
    const code = params.get('code');
    expect(code).toBeTruthy();

    const tokens = await exchangeCode(proxy!, client, code!, request.verifier);
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools' });
    expect(typeof tokens.body.access_token).toBe('string');
    expect(typeof tokens.body.refresh_token).toBe('string');
  });

  it('Deny: the listener receives access_denied with the state, and no code', async () => {
    const { request } = await openConsentPage();
    await page.getByRole('button', { name: 'Deny', exact: true }).click();

    const callback = await step('Deny should redirect to the client', listener!.next());
    await page.waitForURL((u) => u.origin === listener!.origin);
    const params = callback.searchParams;
    expect(params.get('error'), callback.toString()).toBe('access_denied');
    expect(params.get('state')).toBe(request.state);
    expect(params.get('iss')).toBe(proxy!.url);
    expect(params.get('code')).toBeNull();
    expect(listener!.received).toHaveLength(1);
  });

  it('flowgate pages cannot be framed by another origin', async () => {
    const client = await registerClient(proxy!, { client_name: 'Framed client', redirect_uris: [listener!.redirectUri] });
    const request = authorizationRequest(proxy!, client);
    // A control frame (flowgate's metadata document, JSON without anti-framing headers)
    // shows that a frame from flowgate's origin would render here if its headers allowed it.
    const control = `${proxy!.url}/.well-known/oauth-authorization-server`;
    framer = await startPageServer(
      `<!doctype html><title>framer</title>
<iframe id="control" name="control" src="${control}" width="400" height="200"></iframe>
<iframe id="victim" name="victim" src="${request.url}" width="800" height="600"></iframe>`,
    );
    expect(new URL(framer.origin).port).not.toBe(new URL(proxy!.url).port);

    const consentResponse = page.waitForResponse((r) => new URL(r.url()).pathname === '/consent');
    await page.goto(`${framer.origin}/`, { waitUntil: 'load' });

    // The browser did fetch the consent page inside the frame, with the anti-framing headers …
    const headers = await (await consentResponse).allHeaders();
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");

    // … and refused to render it, while the control frame rendered.
    const controlFrame = page.frame({ name: 'control' })!;
    await expect.poll(() => controlFrame.locator('body').innerText()).toContain('authorization_endpoint');
    const victim = page.frame({ name: 'victim' })!;
    expect(victim).toBeTruthy();
    await expect.poll(() => victim.url()).not.toContain('/consent');
    expect(await victim.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await victim.locator('form').count()).toBe(0);
    await expect.poll(() => consoleLog.join('\n')).toMatch(/frame-ancestors|X-Frame-Options/);
  });
});

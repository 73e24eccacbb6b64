/**
 * Consent modes: `remember` skips the page only for a client + redirect URI this browser
 * approved, and only on a direct or same-origin navigation (a cross-site bounce or a missing
 * Sec-Fetch-Site always sees the page, GHSA-6x8h-498w-gv8c); `off` never shows it. Either
 * way the log records `consent.approved` with its basis.
 *
 * Checked by hand: with `navigationAllowsRememberedConsent` returning true, the cross-site
 * and missing-header cases skip the page and this test fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationRequest, authorizeInBrowser, HeadlessBrowser, registerClient, startProxy, type TestProxy } from '../support/proxy.js';

async function consentBasis(proxy: TestProxy, flowId: string): Promise<string | undefined> {
  const events = await proxy.flowgate.store.readStream(`flow:${flowId}`);
  return (events.find((e) => e.type === 'consent.approved')?.data as { basis?: string } | undefined)?.basis;
}

describe('consent mode remember', () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startProxy({ config: () => ({ consent: { mode: 'remember' } }) });
  });
  afterAll(() => proxy.close());

  it('remembers an approval for the same client and redirect URI on direct navigation only', async () => {
    const client = await registerClient(proxy);
    const browser = new HeadlessBrowser();
    const first = await authorizeInBrowser(browser, client, authorizationRequest(proxy, client));
    expect(first.reason).toBe('stopAt');
    expect(browser.cookies(proxy.url).map((c) => c.name)).toContain('fg_consent');

    const direct = await browser.request(authorizationRequest(proxy, client).url);
    expect(direct.status).toBe(302);
    expect(direct.headers.get('location')).toContain(proxy.idp.issuer);

    const crossSite = await browser.request(authorizationRequest(proxy, client).url, { initiator: 'https://evil.example/' });
    expect(crossSite.status).toBe(303);
    expect(crossSite.headers.get('location')).toContain('/consent?flow=');

    const noHeader = await fetch(authorizationRequest(proxy, client).url, {
      redirect: 'manual',
      headers: { cookie: browser.jar.cookieHeader(proxy.url) },
    });
    expect(noHeader.status).toBe(303);

    const other = await registerClient(proxy);
    const otherClient = await browser.request(authorizationRequest(proxy, other).url);
    expect(otherClient.headers.get('location')).toContain('/consent?flow=');

    const flows = await proxy.flowgate.store.db.selectFrom('transactions').select(['flow_id', 'consent_basis']).execute();
    expect(flows.map((f) => f.consent_basis)).toContain('remembered');
  });
});

describe('consent mode off', () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startProxy({ config: () => ({ consent: { mode: 'off' } }) });
  });
  afterAll(() => proxy.close());

  it('goes straight upstream and records consent.approved with basis disabled', async () => {
    const client = await registerClient(proxy);
    const request = authorizationRequest(proxy, client);
    const browser = new HeadlessBrowser();
    const start = await browser.request(request.url);
    expect(start.status).toBe(302);
    expect(start.headers.get('location')).toContain(proxy.idp.issuer);
    const result = await authorizeInBrowser(browser, client, authorizationRequest(proxy, client));
    expect(result.reason).toBe('stopAt');
    const flowId = (await proxy.flowgate.store.db.selectFrom('transactions').select('flow_id').execute())[0]!.flow_id as string;
    expect(await consentBasis(proxy, flowId)).toBe('disabled');
    expect(proxy.flowgate.warnings.join(' ')).toContain('consent.mode is off');
  });
});

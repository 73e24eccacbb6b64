/**
 * Every error path of the authorization flow, one test each, against the real IdP.
 *
 * Protections checked by hand (each test failed with its protection removed):
 * - unregistered redirect URI: `resolveRedirectUri` returning ok for any URI → a redirect appears;
 * - CSRF: `csrfMatches` returning true → the forged and other-browser POSTs go upstream;
 * - callback browser binding: `requireSameBrowser` a no-op and the machine's browser guard
 *   removed → the victim's browser (with a binding cookie of its own) gets a code;
 * - error-callback browser binding: the cookie check moved back after the `error` branch in
 *   `callback.ts` → another browser's `?error=` ends the user's flow;
 * - PKCE at /token: the verifier comparison and the machine's `verifierChallenge` guard
 *   removed → the wrong verifier gets tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomToken } from '../../src/crypto/random.js';
import {
  authorizationRequest,
  authorizeInBrowser,
  exchangeCode,
  HeadlessBrowser,
  registerClient,
  startProxy,
  type TestClient,
  type TestProxy,
} from '../support/proxy.js';

describe('authorization errors', () => {
  let proxy: TestProxy;
  let client: TestClient;
  beforeAll(async () => {
    proxy = await startProxy();
    client = await registerClient(proxy);
  });
  afterAll(() => proxy.close());

  async function get(url: string, browser = new HeadlessBrowser()) {
    const response = await browser.request(url);
    return { status: response.status, location: response.headers.get('location'), body: await response.text(), headers: response.headers };
  }

  function expectLocalPage(r: { status: number; location: string | null; headers: Headers }, status = 400) {
    expect(r.location).toBeNull();
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toContain('text/html');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(r.headers.get('referrer-policy')).toBe('same-origin');
    expect(r.headers.get('cache-control')).toBe('no-store');
  }

  it('shows a local page for an unknown client, never a redirect', async () => {
    const request = authorizationRequest(proxy, { ...client, clientId: 'no-such-client' });
    const r = await get(request.url);
    expectLocalPage(r);
    expect(r.body).toContain('not registered');
  });

  it('shows a local page for an unregistered redirect URI, never a redirect', async () => {
    for (const redirectUri of ['https://evil.example/cb', 'http://127.0.0.1:53682/other', 'http://localhost:53682/callback']) {
      const r = await get(authorizationRequest(proxy, { ...client, redirectUri }).url);
      expectLocalPage(r);
      expect(r.body).not.toContain(redirectUri);
    }
  });

  it('accepts another port on the registered loopback host', async () => {
    const r = await get(authorizationRequest(proxy, { ...client, redirectUri: 'http://127.0.0.1:40001/callback' }).url);
    expect(r.status).toBe(303);
    expect(r.location).toContain('/consent?flow=');
  });

  it('refuses plain, missing and unknown PKCE methods (redirected to the loopback client)', async () => {
    for (const method of ['plain', '', 'S512']) {
      const r = await get(authorizationRequest(proxy, client, { code_challenge_method: method }).url);
      expect(r.status).toBe(302);
      const location = new URL(r.location!);
      expect(location.origin + location.pathname).toBe(client.redirectUri);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('iss')).toBe(proxy.url);
    }
    const none = await get(authorizationRequest(proxy, client, { code_challenge: '', code_challenge_method: '' }).url);
    expect(new URL(none.location!).searchParams.get('error')).toBe('invalid_request');
  });

  it('answers a foreign resource with invalid_target and an unknown scope with invalid_scope', async () => {
    const foreign = await get(authorizationRequest(proxy, client, { resource: 'https://other.example/mcp' }).url);
    expect(new URL(foreign.location!).searchParams.get('error')).toBe('invalid_target');
    const scope = await get(authorizationRequest(proxy, client, { scope: 'mcp:tools admin:everything' }).url);
    const params = new URL(scope.location!).searchParams;
    expect(params.get('error')).toBe('invalid_scope');
    expect(params.get('state')).toBeTruthy();
  });

  it('shows errors locally for a non-loopback client before consent', async () => {
    const web = await registerClient(proxy, { redirect_uris: ['https://app.example/callback'] });
    const r = await get(authorizationRequest(proxy, web, { code_challenge_method: 'plain' }).url);
    expectLocalPage(r);
  });

  it('refuses a duplicated parameter', async () => {
    const request = authorizationRequest(proxy, client);
    const r = await get(`${request.url}&state=second`);
    expectLocalPage(r);
  });

  it('refuses a wrong verifier, then a reused code revokes what it issued', async () => {
    const request = authorizationRequest(proxy, client);
    const result = await authorizeInBrowser(new HeadlessBrowser(), client, request);
    const code = result.stoppedAt!.searchParams.get('code')!;
    const wrong = await exchangeCode(proxy, client, code, randomToken(32));
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_grant');
    const first = await exchangeCode(proxy, client, code, request.verifier);
    expect(first.status).toBe(200);
    const replay = await exchangeCode(proxy, client, code, request.verifier);
    expect(replay.body.error).toBe('invalid_grant');
    const refresh = await fetch(`${proxy.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: client.clientId }),
    });
    expect((await refresh.json() as any).error).toBe('invalid_grant');
  });

  it('delivers access_denied with the client state when the user clicks Deny', async () => {
    const request = authorizationRequest(proxy, client);
    const result = await authorizeInBrowser(new HeadlessBrowser(), client, request, { button: 'Deny' });
    expect(result.reason).toBe('stopAt');
    const params = result.stoppedAt!.searchParams;
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('state')).toBe(request.state);
    expect(params.get('iss')).toBe(proxy.url);
    expect(proxy.idp.stats.logins).toBeGreaterThanOrEqual(0);
  });

  async function consentPage(browser: HeadlessBrowser) {
    const request = authorizationRequest(proxy, client);
    const started = await browser.request(request.url);
    const consentUrl = new URL(started.headers.get('location')!, proxy.url).toString();
    const page = await browser.request(consentUrl);
    const html = await page.text();
    const flow = /name="flow" value="([^"]+)"/.exec(html)![1]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    return { consentUrl, flow, csrf, html, request };
  }

  async function post(browser: HeadlessBrowser, url: string, form: Record<string, string>) {
    const response = await browser.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      initiator: url,
    });
    return { status: response.status, location: response.headers.get('location'), headers: response.headers, body: await response.text() };
  }

  it('shows the consent page with the client, the redirect host and the scopes, Approve and Deny', async () => {
    const { html } = await consentPage(new HeadlessBrowser());
    expect(html).toContain('e2e client');
    expect(html).toContain('unverified');
    expect(html).toContain('127.0.0.1:53682');
    expect(html).toContain('mcp:tools');
    expect(html).toMatch(/>Approve<\/button>/);
    expect(html).toMatch(/>Deny<\/button>/);
  });

  it('refuses a consent POST with a missing or wrong CSRF token, and from another browser', async () => {
    const browser = new HeadlessBrowser();
    const { consentUrl, flow, csrf } = await consentPage(browser);
    const action = consentUrl.split('?')[0]!;
    const missing = await post(browser, action, { flow, decision: 'approve' });
    expectLocalPage(missing, 403);
    const wrong = await post(browser, action, { flow, decision: 'approve', csrf: randomToken(32) });
    expectLocalPage(wrong, 403);
    const other = await post(new HeadlessBrowser(), action, { flow, decision: 'approve', csrf });
    expectLocalPage(other, 403);
    const ok = await post(browser, action, { flow, decision: 'approve', csrf });
    expect(ok.status).toBe(303);
    expect(ok.location).toContain(proxy.idp.issuer);
    const again = await post(browser, action, { flow, decision: 'approve', csrf });
    expectLocalPage(again, 400);
  });

  it('lets several tabs of one browser each complete', async () => {
    const browser = new HeadlessBrowser();
    const first = await consentPage(browser);
    const second = await consentPage(browser);
    for (const tab of [second, first]) {
      const r = await post(browser, tab.consentUrl.split('?')[0]!, { flow: tab.flow, decision: 'approve', csrf: tab.csrf });
      expect(r.status).toBe(303);
    }
  });

  it('refuses the upstream callback in another browser (no code), and a replayed state', async () => {
    const attacker = new HeadlessBrowser();
    const { consentUrl, flow, csrf } = await consentPage(attacker);
    const approved = await post(attacker, consentUrl.split('?')[0]!, { flow, decision: 'approve', csrf });
    const upstreamUrl = approved.location!;
    const victim = new HeadlessBrowser();
    // The victim's browser has its own flowgate session (a binding cookie of its own).
    await victim.request(authorizationRequest(proxy, client).url);
    expect(victim.cookies(proxy.url).map((c) => c.name)).toContain('fg_browser');
    const victimResult = await victim.navigate(upstreamUrl, {
      stopAt: (u) => u.port === '53682',
      fields: { username: 'alice', password: 'alice' },
      button: 'Sign in',
    });
    expect(victimResult.reason).not.toBe('stopAt');
    expect(victimResult.status).toBe(403);
    expect(victimResult.body).toContain('another browser');

    const own = await attacker.navigate(upstreamUrl, {
      stopAt: (u) => u.port === '53682',
      fields: { username: 'bob', password: 'bob' },
      button: 'Sign in',
    });
    expect(own.reason).toBe('stopAt');
    const callback = own.trace.find((t) => t.url.includes('/auth/callback'))!.url;
    const replay = await attacker.request(callback);
    expect(replay.status).toBe(400);
    expect(replay.headers.get('location')).toBeNull();
  });

  it("refuses an upstream error callback from another browser: the user's flow goes on", async () => {
    const user = new HeadlessBrowser();
    const { consentUrl, flow, csrf, request } = await consentPage(user);
    const approved = await post(user, consentUrl.split('?')[0]!, { flow, decision: 'approve', csrf });
    const upstreamState = new URL(approved.location!).searchParams.get('state')!;
    // Someone who learnt the upstream state (a log, a referrer) tries to end the flow with an
    // error: from a browser without flowgate's cookie, and from one with a cookie of its own.
    const forged = `${proxy.url}/auth/callback?${new URLSearchParams({ state: upstreamState, error: 'access_denied' })}`;
    const withOwnCookie = new HeadlessBrowser();
    await withOwnCookie.request(authorizationRequest(proxy, client).url);
    for (const stranger of [new HeadlessBrowser(), withOwnCookie]) {
      const answer = await stranger.request(forged);
      expect(answer.status).toBe(403);
      expect(answer.headers.get('location')).toBeNull();
      expect(await answer.text()).not.toContain(request.state);
    }
    const own = await user.navigate(approved.location!, {
      stopAt: (u) => u.port === '53682',
      fields: { username: 'alice', password: 'alice' },
      button: 'Sign in',
    });
    expect(own.reason).toBe('stopAt');
    expect(own.stoppedAt!.searchParams.get('code')).toBeTruthy();
  });

  it('shows an expired transaction as a local page', async () => {
    let skew = 0;
    const fast = await startProxy({ config: () => ({ flows: { ttlSeconds: 60 } }), flowgate: { clock: () => Date.now() + skew } });
    try {
      const c = await registerClient(fast);
      const browser = new HeadlessBrowser();
      const started = await browser.request(authorizationRequest(fast, c).url);
      skew = 61_000;
      const page = await browser.request(new URL(started.headers.get('location')!, fast.url).toString());
      expect(page.status).toBe(400);
      expect(await page.text()).toContain('expired');
    } finally {
      await fast.close();
    }
  });

  it('sends an upstream error to the client as an OAuth error, without the upstream text', async () => {
    const request = authorizationRequest(proxy, client);
    const result = await new HeadlessBrowser().navigate(request.url, {
      stopAt: (u) => u.port === '53682',
      fields: { username: 'alice', password: 'alice' },
      button: ['Approve', 'Cancel'],
    });
    expect(result.reason).toBe('stopAt');
    const params = result.stoppedAt!.searchParams;
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('state')).toBe(request.state);
    expect(params.get('error_description')).not.toMatch(/interaction|oidc|End-User/i);
  });

  it('turns a failed upstream exchange into an error for the client, and keeps the upstream text out', async () => {
    proxy.idp.setTokenFault({ kind: 'error', status: 400, error: 'invalid_grant', error_description: 'SECRET-UPSTREAM-DETAIL', times: 1 });
    try {
      const request = authorizationRequest(proxy, client);
      const result = await authorizeInBrowser(new HeadlessBrowser(), client, request);
      const params = result.stoppedAt!.searchParams;
      expect(params.get('error')).toBe('access_denied');
      expect(result.stoppedAt!.toString()).not.toContain('SECRET-UPSTREAM-DETAIL');
    } finally {
      proxy.idp.setTokenFault(null);
    }
  });
});

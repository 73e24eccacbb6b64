/**
 * Counterparts of fastmcp tests (docs/compatibility.md) whose behaviour no other flowgate
 * test pinned down: authorization-request scopes, external https callbacks, exactly one
 * RFC 9207 `iss` on every redirect to the client (even when the registered redirect URI
 * carries one), the consent page's anti-framing headers, and the browser binding holding
 * with consent off. Runs flowgate in front of the real upstream IdP on 127.0.0.1.
 *
 * Protections checked by hand (each test failed with its protection removed, then restored):
 * - default scopes: `requested.length > 0 ? requested : defaultScopes` replaced by
 *   `[...defaultScopes]` → the narrow request is widened; by `requested` → the omitted
 *   scope records nothing;
 * - single `iss`: `clientRedirect` back to plain appending → two `iss` on the success, error,
 *   deny and upstream-error redirects;
 * - consent page headers: `X-Frame-Options` / `frame-ancestors` dropped from
 *   `HTML_SECURITY_HEADERS` → the header test fails;
 * - binding with consent off: the browser comparison removed from `requireSameBrowser`
 *   and from the flow machine's `stateIsCurrent` guard → the victim's browser (with a
 *   binding cookie of its own) receives a code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationRequest,
  authorizeInBrowser,
  exchangeCode,
  HeadlessBrowser,
  registerClient,
  startProxy,
  type TestProxy,
} from '../support/proxy.js';

async function flowIdOf(response: Response): Promise<string> {
  return new URL(response.headers.get('location')!, 'http://x').searchParams.get('flow')!;
}

describe('fastmcp counterparts: authorization requests', () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startProxy({
      config: () => ({
        server: {
          scopes: [
            { name: 'mcp:tools', description: 'Use the tools' },
            { name: 'mcp:read', description: 'Read resources' },
          ],
          defaultScopes: ['mcp:tools', 'mcp:read'],
        },
      }),
    });
  });
  afterAll(() => proxy.close());

  // fastmcp test_authorize_records_configured_scopes_when_client_omits_scope
  it('records the configured default scopes on the flow when the client omits scope', async () => {
    const client = await registerClient(proxy);
    const started = await new HeadlessBrowser().request(authorizationRequest(proxy, client, { scope: '' }).url);
    expect(started.status).toBe(303);
    const flow = await proxy.flowgate.store.readStream(`flow:${await flowIdOf(started)}`);
    expect(flow[0]).toMatchObject({ type: 'flow.started', data: { scopes: ['mcp:tools', 'mcp:read'] } });
  });

  // fastmcp test_authorize_does_not_widen_explicit_client_scopes
  it('never widens an explicit, narrower scope request: the flow and the tokens keep it', async () => {
    const client = await registerClient(proxy);
    const request = authorizationRequest(proxy, client, { scope: 'mcp:read' });
    const started = await new HeadlessBrowser().request(request.url);
    const flow = await proxy.flowgate.store.readStream(`flow:${await flowIdOf(started)}`);
    expect(flow[0]).toMatchObject({ data: { scopes: ['mcp:read'] } });
    const result = await authorizeInBrowser(new HeadlessBrowser(), client, request);
    const tokens = await exchangeCode(proxy, client, result.stoppedAt!.searchParams.get('code')!, request.verifier);
    expect(tokens.body.scope).toBe('mcp:read');
    // fastmcp test_verify_token_rejects_access_token_as_refresh: an access token is no refresh token.
    const asRefresh = await fetch(`${proxy.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.body.access_token, client_id: client.clientId }),
    });
    expect(asRefresh.status).toBe(400);
    expect(((await asRefresh.json()) as { error: string }).error).toBe('invalid_grant');
  });

  // fastmcp test_register_client_allows_external_https_by_default, test_dcr_client_accepts_registered_external_redirect_uri
  it('registers an ordinary external https callback by default and delivers the code there', async () => {
    const client = await registerClient(proxy, { redirect_uris: ['https://app.example.com/oauth/callback'] });
    const request = authorizationRequest(proxy, client);
    const result = await authorizeInBrowser(new HeadlessBrowser(), client, request);
    expect(result.reason).toBe('stopAt');
    expect(result.stoppedAt!.origin + result.stoppedAt!.pathname).toBe('https://app.example.com/oauth/callback');
    expect(result.stoppedAt!.searchParams.get('code')).toBeTruthy();
  });
});

describe('fastmcp counterparts: exactly one iss on every redirect to the client', () => {
  let proxy: TestProxy;
  // A registered redirect URI may carry its own `iss` (and other bytes that must survive).
  const redirectUri = 'http://127.0.0.1:53682/callback?iss=registered-value&keep=1&flag';
  beforeAll(async () => {
    proxy = await startProxy();
  });
  afterAll(() => proxy.close());

  function expectOneIss(location: URL) {
    expect(location.searchParams.getAll('iss')).toEqual([proxy.url]);
    expect(location.searchParams.get('keep')).toBe('1');
    expect(location.search).toContain('&flag');
  }

  // fastmcp test_success_redirect_does_not_duplicate_iss_already_in_redirect_uri (both files), test_callback_redirect_includes_proxy_issuer
  it('on the code redirect', async () => {
    const client = await registerClient(proxy, { redirect_uris: [redirectUri] });
    const request = authorizationRequest(proxy, client);
    const result = await authorizeInBrowser(new HeadlessBrowser(), client, request);
    expect(result.stoppedAt!.searchParams.get('code')).toBeTruthy();
    expectOneIss(result.stoppedAt!);
    const tokens = await exchangeCode(proxy, client, result.stoppedAt!.searchParams.get('code')!, request.verifier);
    expect(tokens.status).toBe(200);
  });

  // fastmcp test_error_redirect_with_existing_iss_not_duplicated, test_redirect_error_includes_proxy_issuer
  it('on an authorization error redirect', async () => {
    const client = await registerClient(proxy, { redirect_uris: [redirectUri] });
    const response = await new HeadlessBrowser().request(authorizationRequest(proxy, client, { code_challenge_method: 'plain' }).url);
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expectOneIss(location);
  });

  // fastmcp test_deny_redirect_does_not_duplicate_iss_already_in_redirect_uri
  it('on the Deny redirect', async () => {
    const client = await registerClient(proxy, { redirect_uris: [redirectUri] });
    const result = await authorizeInBrowser(new HeadlessBrowser(), client, authorizationRequest(proxy, client), { button: 'Deny' });
    expect(result.stoppedAt!.searchParams.get('error')).toBe('access_denied');
    expectOneIss(result.stoppedAt!);
  });

  // fastmcp test_error_redirect_does_not_duplicate_iss_already_in_redirect_uri (IdP error forwarding)
  it('on an upstream error forwarded to the client', async () => {
    const client = await registerClient(proxy, { redirect_uris: [redirectUri] });
    const result = await new HeadlessBrowser().navigate(authorizationRequest(proxy, client).url, {
      stopAt: (u) => u.port === '53682',
      fields: { username: 'alice', password: 'alice' },
      button: ['Approve', 'Cancel'],
    });
    expect(result.stoppedAt!.searchParams.get('error')).toBe('access_denied');
    expectOneIss(result.stoppedAt!);
  });
});

describe('fastmcp counterparts: consent page and browser binding', () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startProxy();
  });
  afterAll(() => proxy.close());

  // fastmcp test_consent_sets_xfo_header, test_default_csp_omits_form_action
  it('serves the consent page with X-Frame-Options DENY and a CSP that forbids framing but has no form-action', async () => {
    const client = await registerClient(proxy);
    const browser = new HeadlessBrowser();
    const started = await browser.request(authorizationRequest(proxy, client).url);
    const page = await browser.request(new URL(started.headers.get('location')!, proxy.url));
    expect(page.status).toBe(200);
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('form-action');
  });
});

describe('fastmcp counterparts: the browser binding holds with consent off', () => {
  let proxy: TestProxy;
  beforeAll(async () => {
    proxy = await startProxy({ config: () => ({ consent: { mode: 'off' } }) });
  });
  afterAll(() => proxy.close());

  // fastmcp test_consent_disabled_skips_binding_check — flowgate deliberately keeps the check;
  // test_idp_callback_rejects_missing_consent_cookie, test_idp_callback_rejects_wrong_consent_cookie.
  it('refuses the callback in a browser other than the one that started the flow', async () => {
    const client = await registerClient(proxy);
    const attacker = new HeadlessBrowser();
    const started = await attacker.request(authorizationRequest(proxy, client).url);
    expect(started.status).toBe(302);
    const upstreamUrl = started.headers.get('location')!;
    const login = { stopAt: (u: URL) => u.port === '53682', fields: { username: 'alice', password: 'alice' }, button: ['Sign in'] };

    // A browser with no binding cookie at all.
    const fresh = await new HeadlessBrowser().navigate(upstreamUrl, login);
    expect(fresh.reason).not.toBe('stopAt');
    expect(fresh.status).toBe(403);
    expect(fresh.body).toContain('Wrong browser');

    // The victim has a browser-binding cookie of its own (it used flowgate before).
    const victim = new HeadlessBrowser();
    await victim.request(authorizationRequest(proxy, client).url);
    expect(victim.cookies(proxy.url).map((c) => c.name)).toContain('fg_browser');
    const result = await victim.navigate(upstreamUrl, login);
    expect(result.reason).not.toBe('stopAt');
    expect(result.status).toBe(403);
    expect(result.body).toContain('Wrong browser');

    // The refusals consumed nothing: the browser that started the flow still completes it.
    const own = await attacker.navigate(upstreamUrl, login);
    expect(own.reason).toBe('stopAt');
    expect(own.stoppedAt!.searchParams.get('code')).toBeTruthy();
  });
});

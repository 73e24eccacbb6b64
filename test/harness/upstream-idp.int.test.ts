/**
 * Proves the test harness against the real upstream IdP (oidc-provider on 127.0.0.1):
 * the headless browser drives the login page, tokens are exchanged and verified, faults
 * are injected, and instances are isolated.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { randomToken } from '../../src/crypto/random.js';
import { startUpstreamIdp, type UpstreamIdp } from '../../src/demo/upstream-idp.js';
import { isOidcProviderNoise } from '../../src/demo/upstream-idp/quiet.js';
import { HeadlessBrowser, type NavigationResult } from '../support/browser.js';
import {
  authorizationUrl,
  basicAuthorization,
  clientPost,
  pkcePair,
  TEST_REDIRECT_URI,
  testClients,
  withIdp,
  type Pkce,
  type TestClientAuth,
} from '../support/idp.js';

const BASIC: TestClientAuth = { client_id: 'test-client', client_secret: 'test-secret', method: 'client_secret_basic' };
const POST: TestClientAuth = { client_id: 'gh-client', client_secret: 'gh-secret', method: 'client_secret_post' };
const ALICE = { username: 'alice', password: 'alice' };

interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  token_type: string;
  expires_in: number;
  scope: string;
  error?: string;
}

/** Drives `/auth` through the login form to the redirect URI; returns the callback parameters. */
async function login(
  idp: UpstreamIdp,
  options: {
    browser?: HeadlessBrowser;
    client_id?: string;
    scope?: string;
    fields?: Record<string, string>;
    button?: string;
    extra?: Record<string, string>;
  } = {},
): Promise<{ result: NavigationResult; pkce: Pkce; state: string; nonce: string; params: URLSearchParams }> {
  const browser = options.browser ?? new HeadlessBrowser();
  const pkce = pkcePair();
  const state = randomToken(16);
  const nonce = randomToken(16);
  const scope = options.scope ?? 'openid email profile';
  const url = authorizationUrl(idp, {
    client_id: options.client_id ?? BASIC.client_id,
    scope,
    pkce,
    state,
    ...(scope.split(' ').includes('openid') ? { nonce } : {}), // nonce without openid is invalid_request
    ...(options.extra ? { extra: options.extra } : {}),
  });
  const result = await browser.navigate(url, {
    stopAt: TEST_REDIRECT_URI,
    fields: options.fields ?? ALICE,
    button: options.button ?? 'Sign in',
  });
  return { result, pkce, state, nonce, params: result.stoppedAt?.searchParams ?? new URLSearchParams() };
}

async function exchangeCode(idp: UpstreamIdp, code: string, pkce: Pkce, client = BASIC) {
  return clientPost<TokenResponse>(
    idp.endpoints.token,
    { grant_type: 'authorization_code', code, redirect_uri: TEST_REDIRECT_URI, code_verifier: pkce.verifier },
    client,
  );
}

async function refresh(idp: UpstreamIdp, refreshToken: string, client = BASIC) {
  return clientPost<TokenResponse>(idp.endpoints.token, { grant_type: 'refresh_token', refresh_token: refreshToken }, client);
}

/** Logs in and exchanges the code: a ready token set. */
async function tokens(idp: UpstreamIdp, client = BASIC, scope = 'openid email profile'): Promise<TokenResponse> {
  const { params, pkce } = await login(idp, { client_id: client.client_id, scope });
  const code = params.get('code');
  expect(code, `no code: ${params.toString()}`).toBeTruthy();
  const response = await exchangeCode(idp, code!, pkce, client);
  expect(response.status, JSON.stringify(response.json)).toBe(200);
  return response.json;
}

describe('upstream IdP harness (oidc-provider on loopback)', () => {
  let oidc: UpstreamIdp;
  const warnings: unknown[][] = [];

  beforeAll(async () => {
    // A pass-through recorder, installed before the first import of oidc-provider (whose Node 20
    // warning must be filtered) and left in place: the quiet filter wraps it.
    const original = console.warn;
    console.warn = (...args: unknown[]) => {
      warnings.push(args);
      original.apply(console, args);
    };
    const t0 = performance.now();
    oidc = await withIdp({ clients: testClients() });
    const first = performance.now() - t0;
    const t1 = performance.now();
    const second = await withIdp({ clients: testClients() });
    const again = performance.now() - t1;
    const t2 = performance.now();
    const rsa = await withIdp({ clients: testClients(), idTokenAlg: 'RS256' });
    const withRsa = performance.now() - t2;
    console.info(
      `[upstream-idp] startup: first ${first.toFixed(1)} ms (includes import('oidc-provider')), ` +
        `next ${again.toFixed(1)} ms (EC key only), with RSA-2048 ${withRsa.toFixed(1)} ms`,
    );
    await Promise.all([second.close(), rsa.close()]);
  });

  afterEach(() => {
    oidc.setTokenFault(null);
  });

  it('filters oidc-provider noise but keeps real warnings', () => {
    expect(warnings.filter((args) => String(args[0]).includes('oidc-provider'))).toEqual([]);
    expect(isOidcProviderNoise('oidc-provider WARNING: Unsupported runtime. Use Node.js v22.x LTS, or a later LTS release.')).toBe(true);
    expect(isOidcProviderNoise('oidc-provider NOTICE: default ttl.AccessToken function called')).toBe(true);
    expect(isOidcProviderNoise('oidc-provider WARNING: failed to setup SSRF protection for fetch')).toBe(false);
  });

  it('has the exact issuer and serves discovery with S256 only', async () => {
    expect(oidc.issuer).toBe(`http://127.0.0.1:${oidc.port}`);
    const discovery = (await (await fetch(oidc.endpoints.discovery)).json()) as Record<string, unknown>;
    expect(discovery.issuer).toBe(oidc.issuer);
    expect(discovery.token_endpoint).toBe(oidc.endpoints.token);
    expect(discovery.authorization_endpoint).toBe(oidc.endpoints.authorization);
    expect(discovery.introspection_endpoint).toBe(oidc.endpoints.introspection);
    expect(discovery.revocation_endpoint).toBe(oidc.endpoints.revocation);
    expect(discovery.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('OIDC: login form -> code -> tokens; id_token verifies; refresh rotates; introspection active', async () => {
    const browser = new HeadlessBrowser();
    const started = performance.now();
    const { result, pkce, state, nonce, params } = await login(oidc, { browser });
    expect(result.reason).toBe('stopAt');
    expect(params.get('state')).toBe(state);
    expect(params.get('iss')).toBe(oidc.issuer);
    // GET /auth -> 303 login page -> 200 form -> POST 303 -> GET /auth/<uid> -> 303 redirect_uri (not requested)
    expect(result.trace.map((t) => `${t.method} ${new URL(t.url).pathname} ${t.status}`)).toEqual([
      'GET /auth 303',
      expect.stringMatching(/^GET \/interaction\/[\w-]+ 200$/),
      expect.stringMatching(/^POST \/interaction\/[\w-]+ 303$/),
      expect.stringMatching(/^GET \/auth\/[\w-]+ 303$/),
    ]);
    expect(browser.history.some((t) => t.url.startsWith(TEST_REDIRECT_URI))).toBe(false);

    const token = await exchangeCode(oidc, params.get('code')!, pkce);
    const elapsed = performance.now() - started;
    console.info(`[upstream-idp] full login flow (4 browser requests + POST /token): ${elapsed.toFixed(1)} ms`);
    expect(token.status).toBe(200);
    expect(token.json).toMatchObject({ token_type: 'Bearer', scope: 'openid email profile' });
    expect(token.json.refresh_token).toBeTruthy();
    expect(token.json.access_token).toMatch(/^[\w-]{43}$/); // opaque

    const jwks = createRemoteJWKSet(new URL(oidc.endpoints.jwks));
    const idToken = token.json.id_token!;
    expect(decodeProtectedHeader(idToken).alg).toBe('ES256');
    const { payload } = await jwtVerify(idToken, jwks, { issuer: oidc.issuer, audience: BASIC.client_id });
    expect(payload).toMatchObject({ sub: 'alice', nonce });

    const userinfo = await fetch(oidc.endpoints.userinfo, {
      headers: { authorization: `Bearer ${token.json.access_token}` },
    });
    expect(await userinfo.json()).toMatchObject({
      sub: 'alice',
      email: 'alice@example.test',
      email_verified: true,
      name: 'Alice Example',
      preferred_username: 'alice',
    });

    const introspected = await clientPost(oidc.endpoints.introspection, { token: token.json.access_token }, BASIC);
    expect(introspected.json).toMatchObject({ active: true, sub: 'alice', client_id: BASIC.client_id });

    const refreshed = await refresh(oidc, token.json.refresh_token!);
    expect(refreshed.status).toBe(200);
    expect(refreshed.json.refresh_token).toBeTruthy();
    expect(refreshed.json.refresh_token).not.toBe(token.json.refresh_token); // rotated
    expect(refreshed.json.access_token).not.toBe(token.json.access_token);
    await jwtVerify(refreshed.json.id_token!, jwks, { issuer: oidc.issuer, audience: BASIC.client_id });
    const replay = await refresh(oidc, token.json.refresh_token!);
    expect(replay.status).toBe(400);
    expect(replay.json.error).toBe('invalid_grant');

    // SSO: a second /auth in the same browser redirects straight back with a code.
    const again = await login(oidc, { browser });
    expect(again.result.trace).toHaveLength(1);
    expect(again.params.get('code')).toBeTruthy();
  });

  it('measures warm login flows (fresh browser each: 4 browser requests + POST /token)', async () => {
    const samples: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const t0 = performance.now();
      await tokens(oidc);
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    console.info(
      `[upstream-idp] warm full login flow: median ${samples[10]!.toFixed(1)} ms, min ${samples[0]!.toFixed(1)} ms, max ${samples[19]!.toFixed(1)} ms`,
    );
  });

  it('a wrong password re-renders the form with an error and never redirects; a retry succeeds', async () => {
    const browser = new HeadlessBrowser();
    const before = { ...oidc.stats };
    const { result } = await login(oidc, { browser, fields: { username: 'alice', password: 'nope' } });
    expect(result.reason).toBe('form-repeated');
    expect(result.status).toBe(200);
    expect(result.stoppedAt).toBeUndefined();
    expect(result.body).toContain('Invalid username or password');
    expect(result.body).toContain('value="alice"'); // username kept, password not echoed
    expect(result.body).not.toContain('nope');
    expect(oidc.stats.failedLogins).toBe(before.failedLogins + 1);
    expect(oidc.stats.logins).toBe(before.logins);

    const retry = await browser.navigate(result.url, { stopAt: TEST_REDIRECT_URI, fields: ALICE, button: 'Sign in' });
    expect(retry.stoppedAt?.searchParams.get('code')).toBeTruthy();
  });

  it('switches account with prompt=login in the same browser (auto-submitted logout form)', async () => {
    const browser = new HeadlessBrowser();
    await login(oidc, { browser });
    const { result, params, pkce } = await login(oidc, {
      browser,
      fields: { username: 'bob', password: 'bob' },
      extra: { prompt: 'login' },
    });
    expect(result.reason).toBe('stopAt');
    const token = await exchangeCode(oidc, params.get('code')!, pkce);
    const introspected = await clientPost(oidc.endpoints.introspection, { token: token.json.access_token }, BASIC);
    expect(introspected.json).toMatchObject({ active: true, sub: 'bob' });
  });

  it('escapes what it echoes', async () => {
    const { result } = await login(oidc, { fields: { username: '<img src=x onerror=alert(1)>"', password: 'x' } });
    expect(result.body).toContain('value="&lt;img src=x onerror=alert(1)&gt;&quot;"');
    expect(result.body).not.toContain('<img');
  });

  it('Cancel yields error=access_denied at the redirect URI', async () => {
    const { result, state, params } = await login(oidc, { button: 'Cancel', fields: {} });
    expect(result.reason).toBe('stopAt');
    expect(params.get('error')).toBe('access_denied');
    expect(params.get('state')).toBe(state);
    expect(params.get('code')).toBeNull();
  });

  it('requires PKCE (a request without code_challenge is refused at the redirect URI)', async () => {
    const url = new URL(oidc.endpoints.authorization);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: BASIC.client_id,
      redirect_uri: TEST_REDIRECT_URI,
      scope: 'openid',
      state: 's1',
    }).toString();
    const result = await new HeadlessBrowser().navigate(url, { stopAt: TEST_REDIRECT_URI });
    expect(result.stoppedAt?.searchParams.get('error')).toBe('invalid_request');
  });

  it('client_secret_basic form-encodes id and secret before base64', () => {
    expect(basicAuthorization('a b:c', 'p&q=r%')).toBe(`Basic ${Buffer.from('a+b%3Ac:p%26q%3Dr%25').toString('base64')}`);
  });

  it('injected token faults are observed by the client and counted', async () => {
    const set = await tokens(oidc);
    oidc.resetStats();

    oidc.setTokenFault({ kind: 'error', status: 400, error: 'invalid_grant', grantType: 'refresh_token', times: 1 });
    const faulted = await refresh(oidc, set.refresh_token!);
    expect(faulted.status).toBe(400);
    expect(faulted.json).toEqual({ error: 'invalid_grant' });
    // The fault was used up and the refresh token was never seen by oidc-provider: it still works.
    const ok = await refresh(oidc, set.refresh_token!);
    expect(ok.status).toBe(200);

    oidc.setTokenFault({ kind: 'drop', times: 1 });
    await expect(refresh(oidc, ok.json.refresh_token!)).rejects.toThrow(TypeError); // fetch failed (socket closed)
    const afterDrop = await refresh(oidc, ok.json.refresh_token!);
    expect(afterDrop.status).toBe(200);

    oidc.setTokenFault({ kind: 'delay', ms: 250, grantType: 'refresh_token' });
    const t0 = performance.now();
    const delayed = await refresh(oidc, afterDrop.json.refresh_token!);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(240);
    expect(delayed.status).toBe(200);

    // A fault limited to another grant type leaves refreshes alone.
    oidc.setTokenFault({ kind: 'error', status: 503, error: 'temporarily_unavailable', grantType: 'authorization_code' });
    expect((await refresh(oidc, delayed.json.refresh_token!)).status).toBe(200);
    const { params, pkce } = await login(oidc);
    const codeExchange = await exchangeCode(oidc, params.get('code')!, pkce);
    expect(codeExchange.status).toBe(503);
    expect(codeExchange.json.error).toBe('temporarily_unavailable');

    expect(oidc.stats.tokenRequests).toEqual({ authorization_code: 1, refresh_token: 6, other: 0, total: 7 });
    expect(oidc.stats.faultsInjected).toBe(4);
    expect(oidc.stats.logins).toBe(1);
  });

  it('revokeAllTokens kills access and refresh tokens', async () => {
    const set = await tokens(oidc);
    oidc.revokeAllTokens();
    expect((await clientPost(oidc.endpoints.introspection, { token: set.access_token }, BASIC)).json).toEqual({ active: false });
    expect((await refresh(oidc, set.refresh_token!)).json.error).toBe('invalid_grant');
  });

  it("the IdP's cookies carry the prefix, and (like in a browser) are not isolated by port", async () => {
    const browser = new HeadlessBrowser();
    await login(oidc, { browser });
    const names = browser.jar.all().map((c) => c.name);
    expect(names).toContain('idp_session');
    expect(names).toContain('idp_session.sig');
    for (const name of names) expect(name.startsWith('idp_')).toBe(true);
    // 127.0.0.1:<another port> gets the IdP's session cookie too: flowgate must not use these names.
    expect(browser.cookies('http://127.0.0.1:1/anything').map((c) => c.name)).toContain('idp_session');

    const custom = await withIdp({ clients: testClients(), cookiePrefix: 'up_' });
    const other = new HeadlessBrowser();
    await login(custom, { browser: other });
    const customNames = other.jar.all().map((c) => c.name);
    expect(customNames).toContain('up_session');
    expect(customNames.every((name) => name.startsWith('up_'))).toBe(true);
  });
});

describe('GitHub-like upstream', () => {
  it('issues no id_token and serves /user and /user/emails with explicit endpoints only', async () => {
    const gh = await withIdp({ mode: 'github', clients: testClients() });
    expect(gh.endpoints.user).toBe(`${gh.issuer}/user`);
    const set = await tokens(gh, POST, 'repo read:user user:email');
    expect(set.id_token).toBeUndefined();
    expect(set.scope).toBe('repo read:user user:email');
    expect(set.refresh_token).toBeTruthy();

    const user = await fetch(gh.endpoints.user!, { headers: { authorization: `Bearer ${set.access_token}` } });
    expect(user.status).toBe(200);
    expect(user.headers.get('x-oauth-scopes')).toBe('repo, read:user, user:email');
    expect(await user.json()).toEqual({ login: 'alice', id: 1001, name: 'Alice Example', email: 'alice@example.test', type: 'User' });

    const emails = await fetch(gh.endpoints.userEmails!, { headers: { authorization: `token ${set.access_token}` } });
    expect(await emails.json()).toEqual([{ email: 'alice@example.test', primary: true, verified: true, visibility: 'private' }]);

    const bad = await fetch(gh.endpoints.user!, { headers: { authorization: 'Bearer not-a-token' } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ message: 'Bad credentials' });
    expect((await fetch(gh.endpoints.user!)).status).toBe(401);

    // userinfo needs openid: refused, as at a plain OAuth 2 upstream.
    const userinfo = await fetch(gh.endpoints.userinfo, { headers: { authorization: `Bearer ${set.access_token}` } });
    expect(userinfo.status).toBe(403);

    const refreshed = await refresh(gh, set.refresh_token!, POST);
    expect(refreshed.status).toBe(200);
    expect(refreshed.json.id_token).toBeUndefined();

    const narrow = await tokens(gh, POST, 'read:user');
    const denied = await fetch(gh.endpoints.userEmails!, { headers: { authorization: `Bearer ${narrow.access_token}` } });
    expect(denied.status).toBe(403);
    expect(gh.stats.userCalls).toBe(3);
    expect(gh.stats.userEmailsCalls).toBe(2);
  });
});

describe('isolation', () => {
  it('two IdPs in one process share no state', async () => {
    const [a, b] = await Promise.all([withIdp({ clients: testClients() }), withIdp({ clients: testClients() })]);
    expect(a.port).not.toBe(b.port);
    const set = await tokens(a);
    expect((await clientPost(b.endpoints.introspection, { token: set.access_token }, BASIC)).json).toEqual({ active: false });
    expect((await refresh(b, set.refresh_token!)).json.error).toBe('invalid_grant');
    const { params, pkce } = await login(a);
    expect((await exchangeCode(b, params.get('code')!, pkce)).json.error).toBe('invalid_grant');
    expect((await exchangeCode(a, params.get('code')!, pkce)).status).toBe(200);
    expect(a.stats.logins).toBe(2);
    expect(b.stats.logins).toBe(0);
    expect(b.stats.tokenRequests.total).toBe(2);
    expect(a.stats.tokenRequests.total).toBe(2);
  });

  it('one browser keeps sessions at two IdPs apart only when their cookie names differ', async () => {
    const [a, b] = await Promise.all([
      withIdp({ clients: testClients(), cookiePrefix: 'a_' }),
      withIdp({ clients: testClients(), cookiePrefix: 'b_' }),
    ]);
    const browser = new HeadlessBrowser();
    await login(a, { browser });
    await login(b, { browser, fields: { username: 'bob', password: 'bob' } });
    // Both sessions survive: SSO at each IdP is a single redirect.
    expect((await login(a, { browser })).result.trace).toHaveLength(1);
    expect((await login(b, { browser })).result.trace).toHaveLength(1);

    // The same cookie names on two ports clash, as they would in a real browser.
    const [c, d] = await Promise.all([withIdp({ clients: testClients() }), withIdp({ clients: testClients() })]);
    const shared = new HeadlessBrowser();
    await login(c, { browser: shared });
    await login(d, { browser: shared });
    expect((await login(c, { browser: shared })).result.trace.length).toBeGreaterThan(1); // c's session cookie was overwritten
  });

  it('close() is quick and frees the port', async () => {
    const idp = await startUpstreamIdp({ clients: testClients() });
    const browser = new HeadlessBrowser();
    // Leave a keep-alive connection open.
    await browser.request(idp.endpoints.discovery);
    const t0 = performance.now();
    await idp.close();
    expect(performance.now() - t0).toBeLessThan(500);
    await expect(fetch(idp.endpoints.discovery)).rejects.toThrow();
  });
});

describe('missing oidc-provider', () => {
  it('fails with an install hint', async () => {
    vi.resetModules();
    vi.doMock('oidc-provider', () => {
      throw new Error("Cannot find package 'oidc-provider'");
    });
    try {
      const { loadOidcProvider } = await import('../../src/demo/upstream-idp/load-provider.js');
      await expect(loadOidcProvider()).rejects.toThrow(/npm install --include=dev.*npm install oidc-provider/);
    } finally {
      vi.doUnmock('oidc-provider');
      vi.resetModules();
    }
  });
});

/**
 * The upstream authorization request against the real IdP: every core parameter exactly
 * once, flowgate's own PKCE/state/nonce, extras appended (and accepted by the IdP), never
 * overriding a core parameter.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { randomToken } from '../../src/crypto/random.js';
import type { UpstreamIdp } from '../../src/demo/upstream-idp.js';
import { s256Challenge } from '../../src/oauth/pkce.js';
import { UpstreamClient, UpstreamError } from '../../src/upstream/index.js';
import { upstreamConfigSchema } from '../../src/config/schema.js';
import { testClients, withIdp } from '../support/idp.js';
import { client, githubConfig, oidcConfig, signInAtUpstream, TEST_REDIRECT_URI } from './support.js';

const CORE = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'nonce'];

function flow() {
  const verifier = randomToken(32);
  return { state: randomToken(32), nonce: randomToken(24), verifier, codeChallenge: s256Challenge(verifier) };
}

describe('upstream authorization URL', () => {
  let idp: UpstreamIdp;
  let github: UpstreamIdp;

  beforeAll(async () => {
    idp = await withIdp({ clients: testClients() });
    github = await withIdp({ clients: testClients(), mode: 'github' });
  });

  it('OIDC: core parameters exactly once, flowgate PKCE S256, state and nonce, extras appended after them', async () => {
    const upstream = client(oidcConfig(idp, { extraAuthorizeParams: { prompt: 'consent', ui_locales: 'de' } }));
    const f = flow();
    const url = await upstream.authorizationUrl({ state: f.state, codeChallenge: f.codeChallenge, nonce: f.nonce, redirectUri: TEST_REDIRECT_URI });
    expect(url.origin + url.pathname).toBe(idp.endpoints.authorization);
    for (const name of CORE) expect(url.searchParams.getAll(name), name).toHaveLength(1);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'test-client',
      redirect_uri: TEST_REDIRECT_URI,
      scope: 'openid email profile',
      state: f.state,
      code_challenge: f.codeChallenge,
      code_challenge_method: 'S256',
      nonce: f.nonce,
      prompt: 'consent',
      ui_locales: 'de',
    });
    const names = [...url.searchParams.keys()];
    expect(names.slice(-2)).toEqual(['prompt', 'ui_locales']); // appended after the core ones
  });

  it('the IdP accepts the request, extras included, and calls back with code, state and iss', async () => {
    const upstream = client(oidcConfig(idp, { extraAuthorizeParams: { prompt: 'consent' } }));
    const attempt = await signInAtUpstream(upstream);
    const params = attempt.callbackUrl.searchParams;
    expect(params.get('code')).toBeTruthy();
    expect(params.get('state')).toBe(attempt.state);
    expect(params.get('iss')).toBe(idp.issuer);
  });

  it('plain OAuth 2: no nonce, the configured scopes, no discovery', async () => {
    const requests: string[] = [];
    const upstream = client(githubConfig(github), {
      fetch: ((input: string | URL | Request, init?: RequestInit) => {
        requests.push(String(input));
        return fetch(input, init);
      }) as typeof fetch,
    });
    const f = flow();
    const url = await upstream.authorizationUrl({ state: f.state, codeChallenge: f.codeChallenge, nonce: f.nonce, redirectUri: TEST_REDIRECT_URI });
    expect(url.searchParams.has('nonce')).toBe(false);
    expect(url.searchParams.get('scope')).toBe('repo read:user user:email');
    expect(requests).toEqual([]); // GitHub has no metadata document: nothing was fetched
  });

  it('an explicit scope list replaces the configured one; an empty list omits scope', async () => {
    const upstream = client(githubConfig(github));
    const f = flow();
    const custom = await upstream.authorizationUrl({ ...f, scopes: ['read:user'], redirectUri: TEST_REDIRECT_URI });
    expect(custom.searchParams.getAll('scope')).toEqual(['read:user']);
    const none = await upstream.authorizationUrl({ ...f, scopes: [], redirectUri: TEST_REDIRECT_URI });
    expect(none.searchParams.has('scope')).toBe(false);
  });

  // Protection check: with the reserved-name loops of src/upstream/authorization-url.ts
  // removed, the attacker's values survive here (tried once, then restored).
  it('an extra can never override or duplicate a core parameter, not even through the endpoint query', async () => {
    const parsed = upstreamConfigSchema.safeParse(oidcConfig(idp, { extraAuthorizeParams: { redirect_uri: 'https://attacker.example/cb' } }));
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/"redirect_uri" is set by flowgate itself/);

    // A configuration that bypassed the schema is refused at use.
    const valid = upstreamConfigSchema.parse(oidcConfig(idp));
    const bypassed = new UpstreamClient({ ...valid, extraAuthorizeParams: { State: 'attacker', redirect_uri: 'https://attacker.example/cb' } });
    const f = flow();
    await expect(bypassed.authorizationUrl({ ...f, redirectUri: TEST_REDIRECT_URI })).rejects.toBeInstanceOf(UpstreamError);

    // Core parameters planted in a configured endpoint's query are replaced, once each.
    const planted = client(
      githubConfig(github, {
        authorizationEndpoint: `${github.endpoints.authorization}?redirect_uri=https%3A%2F%2Fattacker.example&State=x&code_challenge=abc&tenant=t1`,
      }),
    );
    const url = await planted.authorizationUrl({ ...f, redirectUri: TEST_REDIRECT_URI });
    expect(url.searchParams.getAll('redirect_uri')).toEqual([TEST_REDIRECT_URI]);
    expect(url.searchParams.getAll('code_challenge')).toEqual([f.codeChallenge]);
    expect(url.searchParams.has('State')).toBe(false);
    expect(url.searchParams.getAll('tenant')).toEqual(['t1']);
  });

  it('refuses a missing nonce for OIDC and a malformed challenge', async () => {
    const upstream = client(oidcConfig(idp));
    const f = flow();
    await expect(upstream.authorizationUrl({ state: f.state, codeChallenge: f.codeChallenge, redirectUri: TEST_REDIRECT_URI })).rejects.toThrow(/nonce/);
    await expect(upstream.authorizationUrl({ ...f, codeChallenge: 'plain-verifier', redirectUri: TEST_REDIRECT_URI })).rejects.toThrow(/S256/);
  });

  it('builds the fixed redirect URI from a base URL and redirectPath', () => {
    const upstream = client(oidcConfig(idp, { redirectPath: '/auth/callback' }));
    expect(upstream.redirectUri('https://mcp.example')).toBe('https://mcp.example/auth/callback');
    expect(upstream.redirectUri('https://mcp.example/flowgate/?x=1')).toBe('https://mcp.example/flowgate/auth/callback');
  });
});

/**
 * Preset `github` (OAuth apps) against oidc-provider set up with GitHub's quirks: GitHub's
 * paths (`/login/oauth/…`, the REST API under `/api/v3` as on GitHub Enterprise Server), no
 * discovery document, no RFC 9207 `iss`, and token replies that are form-encoded whatever
 * `Accept` says, with a comma-separated `scope` and, like an OAuth app's, neither
 * `expires_in` nor `refresh_token`.
 *
 * Protection checked by hand: with the authorization response validated against metadata
 * whose issuer is whatever `iss` it carries (exchange-code.ts), "refuses an authorization
 * response from another issuer" fails (tried once, then restored).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamIdp } from '../../../src/demo/upstream-idp.js';
import { testClients, withIdp } from '../../support/idp.js';
import { client, exchangeParams, recordingFetch, REDIRECT_PATH, signInAndExchange, signInAtUpstream, upstreamFailure } from '../support.js';
import { consentPageHtml, GITHUB_QUIRKS, loginAndRefresh, startPresetProxy, upstreamGrantOf } from './support.js';

/** An OAuth app's token reply: form-encoded, comma-separated scope, no expiry, no refresh token. */
const OAUTH_APP_TOKENS = { format: 'form', omit: ['expires_in', 'refresh_token'], scopeSeparator: ',' } as const;

describe('preset github', () => {
  let idp: UpstreamIdp;

  beforeAll(async () => {
    idp = await withIdp({ clients: testClients(), ...GITHUB_QUIRKS, tokenResponse: OAUTH_APP_TOKENS });
  });

  function githubClient(overrides: Record<string, unknown> = {}, fetch?: typeof globalThis.fetch) {
    return client(
      { preset: 'github', baseUrl: idp.origin, clientId: 'gh-client', clientSecret: 'gh-secret', redirectPath: REDIRECT_PATH, ...overrides },
      fetch ? { fetch } : {},
    );
  }

  it('uses github.com and api.github.com by default, client_secret_post, read:user and user:email', () => {
    const upstream = client({ preset: 'github', clientId: 'Iv1.abc', clientSecret: 's3cret' });
    expect(upstream.config).toMatchObject({
      kind: 'oauth2',
      issuer: 'https://github.com',
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      userinfoEndpoint: 'https://api.github.com/user',
      emailsEndpoint: 'https://api.github.com/user/emails',
      subjectField: 'id',
      clientAuthMethod: 'client_secret_post',
      scopes: ['read:user', 'user:email'],
    });
    expect(upstream.config.revocationEndpoint).toBeUndefined(); // GitHub's token API is not RFC 7009
    expect(upstream.displayName).toBe('GitHub');
  });

  it('signs in on a GitHub Enterprise Server shape: form-encoded reply, numeric id as subject, verified e-mail, no expiry', async () => {
    const contentTypes: string[] = [];
    const recorder = recordingFetch((request, response) => {
      if (request.url === `${idp.origin}/login/oauth/access_token`) contentTypes.push(response.headers.get('content-type') ?? '');
      return response;
    });
    const upstream = githubClient({}, recorder.fetch);
    expect(upstream.config.userinfoEndpoint).toBe(`${idp.origin}/api/v3/user`);
    const { attempt, signIn } = await signInAndExchange(upstream);

    expect(attempt.callbackUrl.searchParams.has('iss')).toBe(false); // as GitHub: no RFC 9207 iss
    expect(contentTypes).toEqual([expect.stringContaining('application/x-www-form-urlencoded')]);
    expect(signIn.subject).toBe('1001');
    expect(signIn.claims).toEqual({ preferred_username: 'alice', name: 'Alice Example', email: 'alice@example.test', email_verified: true });
    expect(signIn.grantedScopes).toEqual(['read:user', 'user:email']);
    // An OAuth app's token: valid until GitHub rejects it, nothing to refresh.
    expect(signIn.expiresAt).toBeNull();
    expect(signIn.refreshable).toBe(false);
    expect(signIn.tokenSet.refresh_token).toBeUndefined();
    expect(upstream.isExpiring(signIn.expiresAt)).toBe(false);

    const token = recorder.requests.find((r) => r.url.endsWith('/login/oauth/access_token'))!;
    expect(new URLSearchParams(token.body).get('client_secret')).toBe('gh-secret');
    expect(token.headers.get('authorization')).toBeNull();
    expect(recorder.requests.some((r) => r.url.includes('/.well-known/'))).toBe(false);
    expect(recorder.requests.filter((r) => r.url.startsWith(`${idp.origin}/api/v3/`)).map((r) => new URL(r.url).pathname)).toEqual([
      '/api/v3/user',
      '/api/v3/user/emails',
    ]);
  });

  it('reads /user/emails only when user:email (or user) was granted', async () => {
    const before = idp.stats.userEmailsCalls;
    const { signIn } = await signInAndExchange(githubClient({ scopes: ['read:user'] }), { user: 'bob' });
    expect(signIn.subject).toBe('1002');
    expect(signIn.claims).toEqual({ preferred_username: 'bob', name: 'Bob Example', email: 'bob@example.test' });
    expect(idp.stats.userEmailsCalls).toBe(before);
  });

  it('refuses an authorization response from another issuer (RFC 9207)', async () => {
    const upstream = githubClient();
    const attempt = await signInAtUpstream(upstream);
    const forged = new URL(attempt.callbackUrl);
    forged.searchParams.set('iss', 'https://attacker.example');
    const error = await upstreamFailure(upstream.exchangeCode({ ...exchangeParams(attempt), callbackUrl: forged }));
    expect(error).toMatchObject({ reason: 'issuer_mismatch', kind: 'definitive' });
  });

  it('end to end: flowgate names GitHub on its consent page, signs in, and refreshes its own tokens with no upstream refresh', async () => {
    const proxy = await startPresetProxy({
      idp: { ...GITHUB_QUIRKS, tokenResponse: OAUTH_APP_TOKENS },
      upstream: ({ origin }) => ({ preset: 'github', baseUrl: origin, clientId: 'flowgate', clientSecret: 'flowgate-upstream-secret' }),
    });
    try {
      expect(await consentPageHtml(proxy)).toContain('sign in with GitHub');
      const before = proxy.idp.stats.tokenRequests.refresh_token;
      const { tokens, refreshStatus } = await loginAndRefresh(proxy);
      expect(refreshStatus).toBe(200);
      const grant = await upstreamGrantOf(proxy, tokens.accessToken);
      expect(grant.subject).toBe('1001');
      expect(grant).toMatchObject({ expiresAt: null, refreshable: false });
      expect(typeof grant.tokenSet.access_token).toBe('string');
      expect(proxy.idp.stats.tokenRequests.refresh_token).toBe(before);
    } finally {
      await proxy.close();
    }
  });
});

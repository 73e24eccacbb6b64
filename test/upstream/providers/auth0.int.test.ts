/**
 * Preset `auth0` against oidc-provider set up like an Auth0 tenant: issuer
 * `https://<domain>/` with its trailing slash, Auth0's paths (`/authorize`, `/oauth/token`,
 * `/userinfo`, `/.well-known/jwks.json`, `/oauth/revoke`), and `private_key_jwt` assertions
 * accepted only when addressed to the tenant itself (the issuer), as Auth0 documents.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamIdp } from '../../../src/demo/upstream-idp.js';
import { TEST_REDIRECT_URI, withIdp } from '../../support/idp.js';
import { client, recordingFetch, REDIRECT_PATH, signInAndExchange, upstreamFailure } from '../support.js';
import { AUTH0_LAYOUT, clientKeyPair, consentPageHtml, loginAndRefresh, startPresetProxy, upstreamGrantOf } from './support.js';

const key = clientKeyPair('ec', 'auth0-key');
const API = 'https://api.example.com/mcp';

describe('preset auth0', () => {
  let idp: UpstreamIdp;

  beforeAll(async () => {
    idp = await withIdp({
      clients: [
        { client_id: 'auth0-app', client_secret: 'auth0-secret', redirect_uris: [TEST_REDIRECT_URI] },
        { client_id: 'auth0-jwt-app', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, redirect_uris: [TEST_REDIRECT_URI] },
      ],
      layout: AUTH0_LAYOUT,
      clientAssertionAudience: 'issuer',
    });
  });

  function auth0Client(options: Record<string, unknown> = {}, fetch?: typeof globalThis.fetch) {
    return client({ preset: 'auth0', domain: idp.origin, clientId: 'auth0-app', clientSecret: 'auth0-secret', redirectPath: REDIRECT_PATH, ...options }, fetch ? { fetch } : {});
  }

  it("defaults to the tenant's issuer with its trailing slash, offline_access, and audience as an authorization parameter", () => {
    const upstream = client({ preset: 'auth0', domain: 'example.eu.auth0.com', audience: API, clientId: 'a', clientSecret: 's' });
    expect(upstream.config).toMatchObject({
      kind: 'oidc',
      issuer: 'https://example.eu.auth0.com/',
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      extraAuthorizeParams: { audience: API },
    });
    expect(upstream.displayName).toBe('Auth0');
  });

  it('sends audience to the IdP and signs in against the trailing-slash issuer', async () => {
    const upstream = auth0Client({ audience: API });
    expect((await upstream.metadata()).issuer).toBe(`${idp.origin}/`);
    const { attempt, signIn } = await signInAndExchange(upstream);
    expect(attempt.authorizationUrl.pathname).toBe('/authorize');
    expect(attempt.authorizationUrl.searchParams.get('audience')).toBe(API);
    expect(idp.stats.authorizationRequests.at(-1)?.audience).toBe(API);
    expect(signIn).toMatchObject({ subject: 'alice', refreshable: true });
    expect(signIn.claims).toMatchObject({ email: 'alice@example.test', email_verified: true });
  });

  it('the trailing slash is part of the issuer: written without it, discovery is refused', async () => {
    const error = await upstreamFailure(auth0Client({ issuer: idp.origin }).metadata());
    expect(error).toMatchObject({ reason: 'issuer_mismatch', operation: 'discovery' });
  });

  it('private_key_jwt: the assertion is addressed to the tenant (the issuer)', async () => {
    const recorder = recordingFetch();
    const upstream = auth0Client({ clientId: 'auth0-jwt-app', clientSecret: undefined, clientAuthMethod: 'private_key_jwt', clientAssertion: { privateKey: key.privateJwk } }, recorder.fetch);
    expect(upstream.config.clientAssertion?.audience).toBe('issuer');
    const { signIn } = await signInAndExchange(upstream);
    expect(signIn.subject).toBe('alice');
    const assertion = new URLSearchParams(recorder.requests.find((r) => r.url === `${idp.origin}/oauth/token`)!.body).get('client_assertion')!;
    expect(JSON.parse(Buffer.from(assertion.split('.')[1]!, 'base64url').toString()).aud).toBe(`${idp.origin}/`);
  });

  it('end to end: flowgate names Auth0, and audience reaches the tenant', async () => {
    const proxy = await startPresetProxy({
      idp: { layout: AUTH0_LAYOUT },
      upstream: ({ origin }) => ({ preset: 'auth0', domain: origin, audience: API, clientId: 'flowgate', clientSecret: 'flowgate-upstream-secret' }),
    });
    try {
      expect(await consentPageHtml(proxy)).toContain('sign in with Auth0');
      const { tokens, refreshStatus } = await loginAndRefresh(proxy);
      expect(refreshStatus).toBe(200);
      expect(proxy.idp.stats.authorizationRequests.at(-1)?.audience).toBe(API);
      expect(await upstreamGrantOf(proxy, tokens.accessToken)).toMatchObject({ subject: 'alice', refreshable: true });
    } finally {
      await proxy.close();
    }
  });
});

/**
 * Preset `okta` against oidc-provider set up like an Okta custom authorization server:
 * issuer `https://<domain>/oauth2/<id>`, endpoints `/oauth2/<id>/v1/authorize|token|keys|
 * userinfo|revoke`, discovery under the issuer, and `private_key_jwt` assertions accepted
 * only when addressed to the token endpoint (as Okta documents).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamIdp } from '../../../src/demo/upstream-idp.js';
import { TEST_REDIRECT_URI, withIdp } from '../../support/idp.js';
import { client, recordingFetch, REDIRECT_PATH, signInAndExchange } from '../support.js';
import { clientKeyPair, consentPageHtml, loginAndRefresh, oktaLayout, PROXY_CLIENT, startPresetProxy, upstreamGrantOf } from './support.js';

const key = clientKeyPair('rsa', 'okta-key');
const SERVER = 'aus7custom1';

describe('preset okta', () => {
  let idp: UpstreamIdp;

  beforeAll(async () => {
    idp = await withIdp({
      clients: [
        { client_id: 'okta-app', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, redirect_uris: [TEST_REDIRECT_URI] },
        { client_id: 'okta-secret-app', client_secret: 'okta-secret', redirect_uris: [TEST_REDIRECT_URI] },
      ],
      layout: oktaLayout(SERVER),
      clientAssertionAudience: 'token_endpoint',
    });
  });

  it('defaults to the default custom authorization server of the domain, with offline_access', () => {
    const upstream = client({ preset: 'okta', domain: 'dev-123.okta.com', clientId: 'app', clientSecret: 's' });
    expect(upstream.config).toMatchObject({ kind: 'oidc', issuer: 'https://dev-123.okta.com/oauth2/default', scopes: ['openid', 'profile', 'email', 'offline_access'] });
    expect(upstream.displayName).toBe('Okta');
    expect(client({ preset: 'okta', domain: 'login.example.com', authorizationServerId: 'aus1a2b', clientId: 'a', clientSecret: 's' }).issuer).toBe('https://login.example.com/oauth2/aus1a2b');
  });

  it("discovers the custom server's /v1 endpoints and signs in with a private_key_jwt addressed to its token endpoint", async () => {
    const recorder = recordingFetch();
    const upstream = client(
      {
        preset: 'okta',
        domain: idp.origin,
        authorizationServerId: SERVER,
        clientId: 'okta-app',
        clientAuthMethod: 'private_key_jwt',
        clientAssertion: { privateKey: key.privateJwk },
        redirectPath: REDIRECT_PATH,
      },
      { fetch: recorder.fetch },
    );
    const as = await upstream.metadata();
    expect(as.issuer).toBe(`${idp.origin}/oauth2/${SERVER}`);
    expect(as.token_endpoint).toBe(`${idp.origin}/oauth2/${SERVER}/v1/token`);
    expect(as.authorization_endpoint).toBe(`${idp.origin}/oauth2/${SERVER}/v1/authorize`);
    const { attempt, signIn } = await signInAndExchange(upstream);
    expect(attempt.authorizationUrl.pathname).toBe(`/oauth2/${SERVER}/v1/authorize`);
    expect(signIn).toMatchObject({ subject: 'alice', refreshable: true });
    const assertion = new URLSearchParams(recorder.requests.find((r) => r.url === as.token_endpoint)!.body).get('client_assertion')!;
    expect(JSON.parse(Buffer.from(assertion.split('.')[1]!, 'base64url').toString()).aud).toBe(as.token_endpoint);
    // Refresh and revocation (discovered /v1/revoke) authenticate the same way.
    const refreshed = await upstream.refresh(signIn.tokenSet);
    expect(await upstream.revoke(refreshed.tokenSet)).toBe(true);
    expect(recorder.requests.some((r) => r.url === `${idp.origin}/oauth2/${SERVER}/v1/revoke`)).toBe(true);
  });

  it('an explicit issuer wins over the computed one (here: the same server, written out)', async () => {
    const upstream = client({ preset: 'okta', domain: 'ignored.okta.com', issuer: idp.issuer, clientId: 'okta-secret-app', clientSecret: 'okta-secret', redirectPath: REDIRECT_PATH });
    expect(upstream.issuer).toBe(`${idp.origin}/oauth2/${SERVER}`);
    const { signIn } = await signInAndExchange(upstream);
    expect(signIn.subject).toBe('alice');
  });

  it('end to end with private_key_jwt: flowgate names Okta and signs in', async () => {
    const proxyKey = clientKeyPair('ec', 'flowgate-1');
    const proxy = await startPresetProxy({
      idp: { layout: oktaLayout(), clientAssertionAudience: 'token_endpoint' },
      clients: [{ client_id: PROXY_CLIENT.clientId, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [proxyKey.publicJwk] }, redirect_uris: ['http://127.0.0.1/auth/callback'] }],
      upstream: ({ origin }) => ({ preset: 'okta', domain: origin, clientId: PROXY_CLIENT.clientId, clientAuthMethod: 'private_key_jwt', clientAssertion: { privateKey: proxyKey.privateJwk } }),
    });
    try {
      expect(await consentPageHtml(proxy)).toContain('sign in with Okta');
      const { tokens, refreshStatus } = await loginAndRefresh(proxy);
      expect(refreshStatus).toBe(200);
      expect(await upstreamGrantOf(proxy, tokens.accessToken)).toMatchObject({ subject: 'alice', refreshable: true });
    } finally {
      await proxy.close();
    }
  });
});

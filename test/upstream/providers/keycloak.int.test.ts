/**
 * Preset `keycloak` against oidc-provider set up like a Keycloak realm: issuer
 * `<base>/realms/<realm>`, endpoints `/realms/<realm>/protocol/openid-connect/auth|token|
 * certs|userinfo|revoke`, also under the `/auth` prefix of Keycloak before version 17, and
 * "Signed JWT" (`private_key_jwt`) assertions addressed to the realm's issuer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamIdp } from '../../../src/demo/upstream-idp.js';
import { ConfigError } from '../../../src/config/index.js';
import { TEST_REDIRECT_URI, testClients, withIdp } from '../../support/idp.js';
import { client, recordingFetch, REDIRECT_PATH, signInAndExchange } from '../support.js';
import { clientKeyPair, consentPageHtml, keycloakLayout, loginAndRefresh, startPresetProxy, upstreamGrantOf } from './support.js';

const key = clientKeyPair('rsa', 'kc-key');

describe('preset keycloak', () => {
  let idp: UpstreamIdp;
  let legacy: UpstreamIdp;

  beforeAll(async () => {
    [idp, legacy] = await Promise.all([
      withIdp({
        clients: [...testClients(), { client_id: 'kc-jwt', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [key.publicJwk] }, redirect_uris: [TEST_REDIRECT_URI] }],
        layout: keycloakLayout('demo'),
        clientAssertionAudience: 'issuer',
      }),
      withIdp({ clients: testClients(), layout: keycloakLayout('demo', '/auth') }),
    ]);
  });

  it('computes the realm issuer from baseUrl and realm, and needs both', () => {
    const upstream = client({ preset: 'keycloak', baseUrl: 'https://sso.example.com/', realm: 'demo', clientId: 'a', clientSecret: 's' });
    expect(upstream.config).toMatchObject({ kind: 'oidc', issuer: 'https://sso.example.com/realms/demo', scopes: ['openid', 'profile', 'email'] });
    expect(upstream.displayName).toBe('Keycloak');
    expect(() => client({ preset: 'keycloak', baseUrl: 'https://sso.example.com', clientId: 'a', clientSecret: 's' })).toThrow(ConfigError);
  });

  it('discovers the realm and signs in with a Signed JWT addressed to the realm', async () => {
    const recorder = recordingFetch();
    const upstream = client(
      { preset: 'keycloak', baseUrl: idp.origin, realm: 'demo', clientId: 'kc-jwt', clientAuthMethod: 'private_key_jwt', clientAssertion: { privateKey: key.privatePem, kid: 'kc-key' }, redirectPath: REDIRECT_PATH },
      { fetch: recorder.fetch },
    );
    const as = await upstream.metadata();
    expect(as.issuer).toBe(`${idp.origin}/realms/demo`);
    expect(as.token_endpoint).toBe(`${idp.origin}/realms/demo/protocol/openid-connect/token`);
    const { signIn } = await signInAndExchange(upstream);
    expect(signIn).toMatchObject({ subject: 'alice', refreshable: true });
    const assertion = new URLSearchParams(recorder.requests.find((r) => r.url === as.token_endpoint)!.body).get('client_assertion')!;
    expect(JSON.parse(Buffer.from(assertion.split('.')[1]!, 'base64url').toString()).aud).toBe(`${idp.origin}/realms/demo`);
  });

  it('works with the /auth prefix of older Keycloak', async () => {
    const upstream = client({ preset: 'keycloak', baseUrl: `${legacy.origin}/auth`, realm: 'demo', clientId: 'test-client', clientSecret: 'test-secret', redirectPath: REDIRECT_PATH });
    expect(upstream.issuer).toBe(`${legacy.origin}/auth/realms/demo`);
    const { attempt, signIn } = await signInAndExchange(upstream);
    expect(attempt.authorizationUrl.pathname).toBe('/auth/realms/demo/protocol/openid-connect/auth');
    expect(signIn.subject).toBe('alice');
  });

  it('end to end: flowgate names Keycloak and signs in', async () => {
    const proxy = await startPresetProxy({
      idp: { layout: keycloakLayout('mcp') },
      upstream: ({ origin }) => ({ preset: 'keycloak', baseUrl: origin, realm: 'mcp', clientId: 'flowgate', clientSecret: 'flowgate-upstream-secret' }),
    });
    try {
      expect(await consentPageHtml(proxy)).toContain('sign in with Keycloak');
      const { tokens, refreshStatus } = await loginAndRefresh(proxy);
      expect(refreshStatus).toBe(200);
      expect(await upstreamGrantOf(proxy, tokens.accessToken)).toMatchObject({ subject: 'alice', refreshable: true });
    } finally {
      await proxy.close();
    }
  });
});

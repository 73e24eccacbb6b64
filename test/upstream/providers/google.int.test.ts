/**
 * Preset `google` against oidc-provider set up with Google's refresh-token rule: a refresh
 * token only for `access_type=offline`, and then only on a user's first authorization of
 * the client unless the request also says `prompt=consent`. ID tokens carry Google's `hd`
 * (hosted domain) claim for Workspace users.
 *
 * Protection checked by hand: with the preset's `extraAuthorizeParams` removed from
 * providers/google.ts, "sends access_type=offline and prompt=consent …" fails (no refresh
 * token comes back; tried once, then restored).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamIdp } from '../../../src/demo/upstream-idp.js';
import { ConfigError } from '../../../src/config/index.js';
import { testClients, withIdp } from '../../support/idp.js';
import { client, REDIRECT_PATH, signInAndExchange } from '../support.js';
import { consentPageHtml, loginAndRefresh, startPresetProxy, upstreamGrantOf } from './support.js';

const USERS = {
  alice: { password: 'alice', name: 'Alice Example', email: 'alice@example.test', claims: { hd: 'example.test' } },
  bob: { password: 'bob', name: 'Bob Example', email: 'bob@example.test' },
  carol: { password: 'carol', name: 'Carol Example', email: 'carol@example.test' },
};

describe('preset google', () => {
  let idp: UpstreamIdp;

  beforeAll(async () => {
    idp = await withIdp({ clients: testClients(), users: USERS, refreshTokenPolicy: 'google-offline', idTokenClaims: ['hd'] });
  });

  function googleClient(overrides: Record<string, unknown> = {}) {
    // The issuer is the only thing pointed at the test IdP; everything else is the preset's.
    return client({ preset: 'google', issuer: idp.issuer, clientId: 'test-client', clientSecret: 'test-secret', redirectPath: REDIRECT_PATH, ...overrides });
  }

  it("defaults to Google's issuer, openid email profile, access_type=offline and prompt=consent", () => {
    const upstream = client({ preset: 'google', clientId: '123-abc.apps.googleusercontent.com', clientSecret: 's3cret' });
    expect(upstream.config).toMatchObject({
      kind: 'oidc',
      issuer: 'https://accounts.google.com',
      scopes: ['openid', 'email', 'profile'],
      extraAuthorizeParams: { access_type: 'offline', prompt: 'consent' },
      clientAuthMethod: 'client_secret_basic',
    });
    expect(upstream.displayName).toBe('Google');
  });

  it('sends access_type=offline and prompt=consent, and gets a refresh token on every sign-in', async () => {
    const upstream = googleClient();
    for (let i = 0; i < 2; i++) {
      const { attempt, signIn } = await signInAndExchange(upstream);
      expect(attempt.authorizationUrl.searchParams.get('access_type')).toBe('offline');
      expect(attempt.authorizationUrl.searchParams.get('prompt')).toBe('consent');
      expect(idp.stats.authorizationRequests.at(-1)).toMatchObject({ access_type: 'offline', prompt: 'consent' });
      expect(signIn.refreshable).toBe(true);
      expect(signIn.subject).toBe('alice');
      expect(signIn.claims).toMatchObject({ hd: 'example.test', email: 'alice@example.test', email_verified: true });
    }
  });

  it('the IdP behaves like Google: without access_type=offline no refresh token, without prompt=consent only the first time', async () => {
    const online = await signInAndExchange(client({ kind: 'oidc', issuer: idp.issuer, clientId: 'test-client', clientSecret: 'test-secret', redirectPath: REDIRECT_PATH }), { user: 'bob' });
    expect(online.signIn.refreshable).toBe(false);
    // Explicit parameters win over the preset's, key by key.
    const noConsent = googleClient({ extraAuthorizeParams: { prompt: 'login' } });
    expect(noConsent.config.extraAuthorizeParams).toEqual({ access_type: 'offline', prompt: 'login' });
    const first = await signInAndExchange(noConsent, { user: 'carol' });
    expect(first.attempt.authorizationUrl.searchParams.get('prompt')).toBe('login');
    expect(first.signIn.refreshable).toBe(true);
    const second = await signInAndExchange(noConsent, { user: 'carol' });
    expect(second.signIn.refreshable).toBe(false);
  });

  it('refreshes with the refresh token Google gave', async () => {
    const upstream = googleClient();
    const { signIn } = await signInAndExchange(upstream);
    const refreshed = await upstream.refresh(signIn.tokenSet);
    expect(refreshed.tokenSet.access_token).not.toBe(signIn.tokenSet.access_token);
    expect(refreshed.refreshable).toBe(true);
  });

  it('can never be made to override a core parameter', () => {
    expect(() => googleClient({ extraAuthorizeParams: { redirect_uri: 'https://attacker.example/cb' } })).toThrow(ConfigError);
  });

  it('end to end: flowgate names Google on its consent page and keeps a refreshable upstream grant', async () => {
    const proxy = await startPresetProxy({
      idp: { refreshTokenPolicy: 'google-offline', users: USERS, idTokenClaims: ['hd'] },
      upstream: ({ issuer }) => ({ preset: 'google', issuer, clientId: 'flowgate', clientSecret: 'flowgate-upstream-secret' }),
    });
    try {
      expect(await consentPageHtml(proxy)).toContain('sign in with Google');
      const { tokens, refreshStatus } = await loginAndRefresh(proxy);
      expect(refreshStatus).toBe(200);
      expect(proxy.idp.stats.authorizationRequests.at(-1)).toMatchObject({ access_type: 'offline', prompt: 'consent', scope: 'openid email profile' });
      const grant = await upstreamGrantOf(proxy, tokens.accessToken);
      expect(grant).toMatchObject({ subject: 'alice', refreshable: true });
    } finally {
      await proxy.close();
    }
  });
});

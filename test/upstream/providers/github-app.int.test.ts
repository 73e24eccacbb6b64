/**
 * Preset `github-app` (a GitHub App's user access tokens) against oidc-provider set up like
 * a GitHub App: GitHub's paths and quirks (no discovery, no `iss`, form-encoded replies), no
 * scope in the authorization request (the IdP grants the app's "permissions" instead), token
 * replies with `scope=` empty, `expires_in=28800` (8 hours) and a refresh token with
 * `refresh_token_expires_in=15897600` (6 months), rotated on every refresh; `/user/emails`
 * answers 403 without the "Email addresses" permission.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamIdp } from '../../../src/demo/upstream-idp.js';
import { testClients, withIdp } from '../../support/idp.js';
import { client, recordingFetch, REDIRECT_PATH, signInAndExchange } from '../support.js';
import { consentPageHtml, GITHUB_QUIRKS, loginAndRefresh, startPresetProxy, upstreamGrantOf } from './support.js';

const EIGHT_HOURS = 28_800;
const SIX_MONTHS = 15_897_600;

/** A GitHub App's user token reply. */
const APP_TOKENS = { format: 'form', set: { scope: '', refresh_token_expires_in: SIX_MONTHS } } as const;
const APP_TTL = { AccessToken: EIGHT_HOURS, RefreshToken: SIX_MONTHS };

describe('preset github-app', () => {
  let idp: UpstreamIdp;
  let noEmailPermission: UpstreamIdp;

  beforeAll(async () => {
    const app = { clients: testClients(), ...GITHUB_QUIRKS, tokenResponse: APP_TOKENS, ttl: APP_TTL };
    idp = await withIdp({ ...app, defaultScope: 'read:user user:email' });
    noEmailPermission = await withIdp({ ...app, defaultScope: 'read:user' });
  });

  function appClient(on: UpstreamIdp, fetch?: typeof globalThis.fetch) {
    return client(
      { preset: 'github-app', baseUrl: on.origin, clientId: 'gh-client', clientSecret: 'gh-secret', redirectPath: REDIRECT_PATH },
      { ...(fetch ? { fetch } : {}), clock: () => now },
    );
  }
  let now = Date.now();

  it('asks for no scope, and gets an 8-hour token with a refresh token', async () => {
    now = Date.now();
    const recorder = recordingFetch();
    const upstream = appClient(idp, recorder.fetch);
    expect(upstream.config.scopes).toEqual([]);
    const { attempt, signIn } = await signInAndExchange(upstream);
    expect(attempt.authorizationUrl.searchParams.has('scope')).toBe(false);
    expect(idp.stats.authorizationRequests.at(-1)?.scope).toBeUndefined();

    expect(signIn.subject).toBe('1001');
    expect(signIn.grantedScopes).toEqual([]); // GitHub Apps answer `scope=`
    expect(signIn.expiresAt).toBe(now + EIGHT_HOURS * 1000);
    expect(signIn.refreshable).toBe(true);
    expect(signIn.tokenSet.refresh_token_expires_in).toBe(String(SIX_MONTHS));
    // No scope granted, but the app may read e-mail addresses: asked, and verified.
    expect(signIn.claims).toMatchObject({ preferred_username: 'alice', email: 'alice@example.test', email_verified: true });
    expect(recorder.requests.some((r) => r.url.endsWith('/api/v3/user/emails'))).toBe(true);
  });

  it('refreshes: a new access token and a rotated refresh token, 8 hours again', async () => {
    now = Date.now();
    const upstream = appClient(idp);
    const { signIn } = await signInAndExchange(upstream);
    now += 2 * 3600 * 1000;
    const refreshed = await upstream.refresh(signIn.tokenSet);
    expect(refreshed.tokenSet.access_token).not.toBe(signIn.tokenSet.access_token);
    expect(refreshed.tokenSet.refresh_token).not.toBe(signIn.tokenSet.refresh_token);
    expect(refreshed.expiresAt).toBe(now + EIGHT_HOURS * 1000);
    expect(refreshed.refreshable).toBe(true);
  });

  it('takes a 403 from /user/emails (no "Email addresses" permission) as no verified address', async () => {
    const before = noEmailPermission.stats.userEmailsCalls;
    const { signIn } = await signInAndExchange(appClient(noEmailPermission), { user: 'bob' });
    expect(noEmailPermission.stats.userEmailsCalls).toBe(before + 1);
    expect(signIn.subject).toBe('1002');
    expect(signIn.claims).toEqual({ preferred_username: 'bob', name: 'Bob Example', email: 'bob@example.test' });
  });

  it('end to end: flowgate refreshes the 8-hour upstream token once it runs out', async () => {
    let offset = 0;
    const proxy = await startPresetProxy({
      idp: { ...GITHUB_QUIRKS, tokenResponse: APP_TOKENS, ttl: APP_TTL, defaultScope: 'read:user user:email' },
      upstream: ({ origin }) => ({ preset: 'github-app', baseUrl: origin, clientId: 'flowgate', clientSecret: 'flowgate-upstream-secret' }),
      flowgate: { clock: () => Date.now() + offset },
    });
    try {
      expect(await consentPageHtml(proxy)).toContain('sign in with GitHub');
      const { tokens, refreshStatus } = await loginAndRefresh(proxy);
      expect(refreshStatus).toBe(200);
      const grant = await upstreamGrantOf(proxy, tokens.accessToken);
      expect(grant.subject).toBe('1001');
      expect(grant.refreshable).toBe(true);
      expect(grant.expiresAt! - Date.now()).toBeGreaterThan((EIGHT_HOURS - 60) * 1000);

      const before = proxy.idp.stats.tokenRequests.refresh_token;
      offset = EIGHT_HOURS * 1000; // eight hours later
      const fresh = await proxy.flowgate.upstreamTokens.accessToken(grant.grantId);
      expect(proxy.idp.stats.tokenRequests.refresh_token).toBe(before + 1);
      expect(fresh).not.toBe(grant.tokenSet.access_token);
      const after = await proxy.flowgate.upstreamTokens.tokenSet(grant.grantId);
      expect(after?.refresh_token).not.toBe(grant.tokenSet.refresh_token); // rotated, and kept
    } finally {
      await proxy.close();
    }
  });
});

/**
 * Preset `oauth2` (any plain OAuth 2 provider with a user API) against oidc-provider in its
 * GitHub-like mode, used as a generic provider: explicit endpoints, the subject from the
 * configured `subjectField`, no ID token, no discovery.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/index.js';
import type { UpstreamIdp } from '../../../src/demo/upstream-idp.js';
import { testClients, withIdp } from '../../support/idp.js';
import { client, recordingFetch, REDIRECT_PATH, signInAndExchange } from '../support.js';
import { consentPageHtml, loginAndRefresh, startPresetProxy, upstreamGrantOf } from './support.js';

describe('preset oauth2', () => {
  let idp: UpstreamIdp;

  beforeAll(async () => {
    idp = await withIdp({ clients: testClients(), mode: 'github' });
  });

  function endpoints(on: { origin: string }) {
    return { authorizationEndpoint: `${on.origin}/auth`, tokenEndpoint: `${on.origin}/token`, userinfoEndpoint: `${on.origin}/user` };
  }

  it('needs its endpoints', () => {
    try {
      client({ preset: 'oauth2', clientId: 'c', clientSecret: 's' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.path)).toEqual(['upstream.authorizationEndpoint', 'upstream.tokenEndpoint', 'upstream.userinfoEndpoint']);
    }
  });

  it('signs in with the subject from subjectField, never discovering', async () => {
    const recorder = recordingFetch();
    const upstream = client(
      { preset: 'oauth2', ...endpoints(idp), subjectField: 'login', clientId: 'gh-client', clientSecret: 'gh-secret', clientAuthMethod: 'client_secret_post', scopes: ['read:user'], redirectPath: REDIRECT_PATH },
      { fetch: recorder.fetch },
    );
    expect(upstream.displayName).toBe(new URL(idp.origin).host);
    const { signIn } = await signInAndExchange(upstream);
    expect(signIn).toMatchObject({ subject: 'alice', claims: { preferred_username: 'alice', name: 'Alice Example' } });
    expect(recorder.requests.some((r) => r.url.includes('/.well-known/'))).toBe(false);
  });

  it('end to end', async () => {
    const proxy = await startPresetProxy({
      idp: { mode: 'github' },
      upstream: (on) => ({ preset: 'oauth2', ...endpoints(on), clientId: 'flowgate', clientSecret: 'flowgate-upstream-secret', scopes: ['read:user'] }),
    });
    try {
      expect(await consentPageHtml(proxy)).toContain(`sign in with ${new URL(proxy.idp.origin).host}`);
      const { tokens, refreshStatus } = await loginAndRefresh(proxy);
      expect(refreshStatus).toBe(200);
      expect(await upstreamGrantOf(proxy, tokens.accessToken)).toMatchObject({ subject: '1001', refreshable: true });
    } finally {
      await proxy.close();
    }
  });
});

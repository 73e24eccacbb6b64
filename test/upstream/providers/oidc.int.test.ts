/**
 * Preset `oidc` (any OpenID Provider) against oidc-provider as it comes: the same as
 * `kind: 'oidc'`, with the issuer's host as the name on the consent page unless
 * `displayName` says otherwise.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/index.js';
import type { UpstreamIdp } from '../../../src/demo/upstream-idp.js';
import { testClients, withIdp } from '../../support/idp.js';
import { client, oidcConfig, signInAndExchange } from '../support.js';
import { consentPageHtml, loginAndRefresh, startPresetProxy, upstreamGrantOf } from './support.js';

describe('preset oidc', () => {
  let idp: UpstreamIdp;

  beforeAll(async () => {
    idp = await withIdp({ clients: testClients() });
  });

  it('is kind oidc with nothing else filled in', () => {
    const withPreset = parseConfig({ values: { upstream: { preset: 'oidc', issuer: 'https://idp.example', clientId: 'c', clientSecret: 's' } } }).upstream!;
    const withKind = parseConfig({ values: { upstream: { kind: 'oidc', issuer: 'https://idp.example', clientId: 'c', clientSecret: 's' } } }).upstream!;
    expect({ ...withPreset, preset: undefined }).toEqual({ ...withKind, preset: undefined });
    expect(client({ preset: 'oidc', issuer: 'https://idp.example:8443', clientId: 'c', clientSecret: 's' }).displayName).toBe('idp.example:8443');
    expect(() => client({ preset: 'oidc', kind: 'oauth2', issuer: 'https://idp.example', clientId: 'c', clientSecret: 's' } as never)).toThrow(ConfigError);
  });

  it('signs in with discovery, ID token and UserInfo', async () => {
    const { signIn } = await signInAndExchange(client(oidcConfig(idp, { kind: undefined, preset: 'oidc' } as never)));
    expect(signIn).toMatchObject({ subject: 'alice', claims: { email: 'alice@example.test', email_verified: true, name: 'Alice Example' } });
  });

  it('end to end, with a display name of its own on the consent page', async () => {
    const proxy = await startPresetProxy({
      idp: {},
      upstream: ({ issuer }) => ({ preset: 'oidc', issuer, displayName: 'Acme <SSO>', clientId: 'flowgate', clientSecret: 'flowgate-upstream-secret', scopes: ['openid', 'email', 'offline_access'] }),
    });
    try {
      expect(await consentPageHtml(proxy)).toContain('sign in with Acme &lt;SSO&gt;');
      const { tokens, refreshStatus } = await loginAndRefresh(proxy);
      expect(refreshStatus).toBe(200);
      expect(await upstreamGrantOf(proxy, tokens.accessToken)).toMatchObject({ subject: 'alice', refreshable: true });
    } finally {
      await proxy.close();
    }
  });
});

/**
 * Helpers for the preset tests: provider-shaped IdP layouts, flowgate in front of them, the
 * consent page's wording, and client keys for `private_key_jwt`.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { expect } from 'vitest';
import type { UpstreamConfigInput } from '../../../src/config/schema.js';
import type { FlowgateOptions } from '../../../src/flowgate.js';
import type { UpstreamIdpClient, UpstreamIdpLayout, UpstreamIdpOptions } from '../../../src/demo/upstream-idp.js';
import { findUpstreamTokenSet } from '../../../src/projections/upstream-token-sets.js';
import { authorizationRequest, HeadlessBrowser, registerClient, startProxy, type TestProxy } from '../../support/proxy.js';
import { tokensFor } from '../../support/tokens.js';

/** flowgate's client at the IdP when it runs behind {@link startPresetProxy} (loopback: any port matches). */
export const PROXY_CLIENT = { clientId: 'flowgate', clientSecret: 'flowgate-upstream-secret' } as const;

/** Okta's custom authorization server paths (`/oauth2/<id>/v1/…`). */
export function oktaLayout(serverId = 'default'): UpstreamIdpLayout {
  return {
    mountPath: `/oauth2/${serverId}`,
    routes: { authorization: '/v1/authorize', token: '/v1/token', jwks: '/v1/keys', userinfo: '/v1/userinfo', revocation: '/v1/revoke', introspection: '/v1/introspect', end_session: '/v1/logout' },
  };
}

/** Keycloak's realm paths (`/realms/<realm>/protocol/openid-connect/…`). */
export function keycloakLayout(realm: string, base = ''): UpstreamIdpLayout {
  const p = '/protocol/openid-connect';
  return {
    mountPath: `${base}/realms/${realm}`,
    routes: { authorization: `${p}/auth`, token: `${p}/token`, jwks: `${p}/certs`, userinfo: `${p}/userinfo`, revocation: `${p}/revoke`, introspection: `${p}/token/introspect`, end_session: `${p}/logout` },
  };
}

/** Auth0's paths and its issuer with a trailing slash. */
export const AUTH0_LAYOUT: UpstreamIdpLayout = {
  issuerPath: '/',
  routes: { authorization: '/authorize', token: '/oauth/token', userinfo: '/userinfo', jwks: '/.well-known/jwks.json', revocation: '/oauth/revoke', end_session: '/oidc/logout' },
};

/**
 * Entra's v2.0 paths for requests made to `tenant` (a GUID, or `common`), by a directory
 * whose id is `tid`: endpoints under `/<tenant>/oauth2/v2.0/…`, issuer `/<tid>/v2.0`, and
 * for `common` a discovery document that states the `{tenantid}` template.
 */
export function entraLayout(tenant: string, tid: string): UpstreamIdpLayout {
  const multi = tenant === 'common' || tenant === 'organizations';
  return {
    mountPath: `/${tenant}`,
    issuerPath: `/${tid}/v2.0`,
    routes: { authorization: '/oauth2/v2.0/authorize', token: '/oauth2/v2.0/token', jwks: '/discovery/v2.0/keys', userinfo: '/oidc/userinfo', end_session: '/oauth2/v2.0/logout' },
    discoveryAliases: [{ path: `/${tenant}/v2.0/.well-known/openid-configuration`, ...(multi ? { issuer: '{origin}/{tenantid}/v2.0' } : {}) }],
  };
}

/** GitHub's paths: `/login/oauth/…` on the web host, the REST API under `/api/v3` (GitHub Enterprise Server). */
export const GITHUB_LAYOUT: UpstreamIdpLayout = {
  routes: { authorization: '/login/oauth/authorize', token: '/login/oauth/access_token' },
  apiPrefix: '/api/v3',
};

/**
 * GitHub's quirks as the IdP can show them: no discovery, no RFC 9207 `iss`, and token
 * replies form-encoded whatever `Accept` says, with a comma-separated `scope`.
 */
export const GITHUB_QUIRKS = {
  mode: 'github',
  layout: GITHUB_LAYOUT,
  discovery: false,
  authorizationResponseIss: false,
} as const satisfies Partial<UpstreamIdpOptions>;

/**
 * flowgate in front of an IdP shaped like a provider: the IdP options, and the `upstream`
 * section built once the IdP runs (its origin and issuer are known only then).
 */
export async function startPresetProxy(options: {
  readonly idp: Partial<UpstreamIdpOptions>;
  readonly upstream: (idp: { origin: string; issuer: string }) => UpstreamConfigInput;
  readonly clients?: readonly UpstreamIdpClient[];
  readonly flowgate?: FlowgateOptions;
}): Promise<TestProxy> {
  return startProxy({
    ...(options.flowgate ? { flowgate: options.flowgate } : {}),
    mode: options.idp.mode ?? 'oidc',
    idp: {
      ...options.idp,
      clients: options.clients ?? [{ client_id: PROXY_CLIENT.clientId, client_secret: PROXY_CLIENT.clientSecret, redirect_uris: ['http://127.0.0.1/auth/callback'] }],
    },
    config: ({ idp }) => ({ upstream: options.upstream(idp) }),
  });
}

/** The consent page flowgate shows for a new authorization request (HTML). */
export async function consentPageHtml(proxy: TestProxy): Promise<string> {
  const client = await registerClient(proxy);
  const request = authorizationRequest(proxy, client);
  const browser = new HeadlessBrowser();
  const result = await browser.navigate(request.url, { stopAt: (u) => u.pathname === '/consent' });
  expect(result.reason, `no consent page: ${JSON.stringify(result.trace)}`).toBe('stopAt');
  const page = await browser.request(result.stoppedAt!);
  return page.text();
}

/** A full login through flowgate, and one refresh of flowgate's tokens. */
export async function loginAndRefresh(proxy: TestProxy, user = 'alice') {
  const tokens = await tokensFor(proxy, { user });
  const refreshed = await fetch(`${proxy.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken, client_id: tokens.client.clientId }),
  });
  return { tokens, refreshStatus: refreshed.status, refreshed: (await refreshed.json()) as Record<string, unknown> };
}

/** What flowgate holds upstream for the grant of a flowgate access token: subject, token set (decrypted), expiry. */
export async function upstreamGrantOf(proxy: TestProxy, accessToken: string) {
  const verified = await proxy.flowgate.verifyAccessToken(accessToken);
  const tokenSet = (await proxy.flowgate.upstreamTokens.tokenSet(verified.grantId)) as Record<string, unknown>;
  const row = await findUpstreamTokenSet(proxy.flowgate.store.db, verified.grantId);
  return { subject: verified.subject, grantId: verified.grantId, tokenSet, expiresAt: row!.upstreamExpiresAt, refreshable: row!.refreshable };
}

/** A client key pair for `private_key_jwt`: the private JWK flowgate signs with, the public JWK the IdP holds. */
export function clientKeyPair(kind: 'rsa' | 'ec' | 'ed25519' = 'ec', kid = `k-${kind}`) {
  const { privateKey, publicKey }: { privateKey: KeyObject; publicKey: KeyObject } =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : kind === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return {
    privateJwk: { ...(privateKey.export({ format: 'jwk' }) as Record<string, unknown>), kid },
    publicJwk: { ...(publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid, use: 'sig' },
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    publicKey,
  };
}

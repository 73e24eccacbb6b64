/**
 * Preset `entra` against oidc-provider set up like Microsoft Entra ID's v2.0 endpoints:
 * endpoints under `/<tenant>/oauth2/v2.0/…`, keys at `/<tenant>/discovery/v2.0/keys`, an
 * issuer `…/<tenant id>/v2.0`, a discovery document at `/<tenant>/v2.0/.well-known/…` that
 * for `common` and `organizations` states the template `…/{tenantid}/v2.0`, ID tokens with
 * `tid` and `oid`, no RFC 9207 `iss`, and API scopes named `api://<app>/<scope>`. One IdP
 * plays one directory (tenant); a second IdP plays another.
 *
 * Protections checked by hand (each test failed with its protection removed, then restored):
 * - tenant allow-list: the `allowed.has(tid)` check in providers/entra.ts removed → "refuses
 *   a tenant outside allowedTenants" fails;
 * - issuer validation: `metadataFor` ignoring the rule (the template as the expected issuer)
 *   → every multi-tenant sign-in fails; the expected issuer taken from the ID token's own
 *   `iss` instead of built from its `tid` → "refuses an ID token whose tid is not the
 *   tenant of its iss" fails;
 * - discovery pinning: `acceptsDiscovered` returning true → "refuses a common discovery
 *   document that does not state the template" fails.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamIdp, UpstreamIdpUser } from '../../../src/demo/upstream-idp.js';
import { MSA_TENANT_ID } from '../../../src/upstream/providers/entra.js';
import { testClients, withIdp } from '../../support/idp.js';
import { client, recordingFetch, REDIRECT_PATH, signInAndExchange, upstreamFailure } from '../support.js';
import { consentPageHtml, entraLayout, loginAndRefresh, startPresetProxy, upstreamGrantOf } from './support.js';

const CONTOSO = randomUUID();
const FABRIKAM = randomUUID();
const API = 'api://11111111-2222-3333-4444-555555555555/';

function users(tid: string): Record<string, UpstreamIdpUser> {
  return {
    alice: { password: 'alice', name: 'Alice Example', email: 'alice@contoso.example', claims: { tid, oid: `oid-alice-${tid.slice(0, 4)}` } },
    // Claims a tenant other than the one the directory's issuer names.
    mallory: { password: 'mallory', name: 'Mallory', email: 'mallory@contoso.example', claims: { tid: FABRIKAM, oid: 'oid-mallory' } },
  };
}

/** A directory (tenant `tid`) answering requests made to `tenant` (its id, a domain, or `common`). */
function entraIdp(tenant: string, tid: string, extra: Parameters<typeof withIdp>[0] extends infer O ? Partial<O> : never = {}) {
  return withIdp({
    clients: testClients(),
    layout: entraLayout(tenant, tid),
    users: users(tid),
    idTokenClaims: ['tid', 'oid', 'name', 'preferred_username', 'email'],
    authorizationResponseIss: false,
    scopes: [`${API}access_as_user`],
    ...extra,
  });
}

function entraClient(idp: UpstreamIdp, options: Record<string, unknown>, fetch?: typeof globalThis.fetch) {
  return client(
    { preset: 'entra', baseUrl: idp.origin, clientId: 'test-client', clientSecret: 'test-secret', redirectPath: REDIRECT_PATH, ...options },
    fetch ? { fetch } : {},
  );
}

describe('preset entra', () => {
  let contosoSingle: UpstreamIdp;
  let contosoCommon: UpstreamIdp;
  let fabrikamCommon: UpstreamIdp;

  beforeAll(async () => {
    [contosoSingle, contosoCommon, fabrikamCommon] = await Promise.all([
      entraIdp(CONTOSO, CONTOSO),
      entraIdp('common', CONTOSO),
      entraIdp('common', FABRIKAM),
    ]);
  });

  it("defaults to the tenant's v2.0 issuer at login.microsoftonline.com, with offline_access", () => {
    const upstream = client({ preset: 'entra', tenant: CONTOSO, clientId: 'app', clientSecret: 's3cret' });
    expect(upstream.config).toMatchObject({
      kind: 'oidc',
      issuer: `https://login.microsoftonline.com/${CONTOSO}/v2.0`,
      scopes: ['openid', 'profile', 'email', 'offline_access'],
    });
    expect(upstream.displayName).toBe('Microsoft');
    expect(client({ preset: 'entra', tenant: 'common', clientId: 'app', clientSecret: 's' }).config.issuer).toBe('https://login.microsoftonline.com/common/v2.0');
  });

  it('single tenant: signs in with tid and oid as claims, never calls UserInfo, never calls e-mail verified', async () => {
    const recorder = recordingFetch();
    const { signIn } = await signInAndExchange(entraClient(contosoSingle, { tenant: CONTOSO }, recorder.fetch));
    expect(signIn.subject).toBe('alice');
    expect(signIn.claims).toEqual({
      tid: CONTOSO,
      oid: `oid-alice-${CONTOSO.slice(0, 4)}`,
      name: 'Alice Example',
      preferred_username: 'alice',
      email: 'alice@contoso.example',
      email_verified: false, // Entra does not verify e-mail addresses (no xms_edov)
    });
    expect(recorder.requests.some((r) => r.url.includes('/oidc/userinfo'))).toBe(false);
  });

  it('a verified domain as tenant: the discovered tenant issuer is pinned', async () => {
    const domainIdp = await entraIdp('contoso.example', CONTOSO);
    const { signIn } = await signInAndExchange(entraClient(domainIdp, { tenant: 'contoso.example' }));
    expect(signIn.claims.tid).toBe(CONTOSO);
  });

  it('common: accepts a user of any tenant, its issuer built from the ID token tid', async () => {
    for (const [idp, tid] of [[contosoCommon, CONTOSO], [fabrikamCommon, FABRIKAM]] as const) {
      const upstream = entraClient(idp, { tenant: 'common' });
      expect((await upstream.metadata()).issuer).toBe(`${idp.origin}/{tenantid}/v2.0`);
      const { signIn } = await signInAndExchange(upstream);
      expect(signIn.claims.tid).toBe(tid);
    }
  });

  it('common with allowedTenants: refuses a tenant outside the list', async () => {
    const allowed = { tenant: 'common', allowedTenants: [CONTOSO] };
    const { signIn } = await signInAndExchange(entraClient(contosoCommon, allowed));
    expect(signIn.claims.tid).toBe(CONTOSO);
    const error = await upstreamFailure(signInAndExchange(entraClient(fabrikamCommon, allowed)));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'issuer_mismatch', operation: 'exchange' });
    expect(error.detail).toContain('allowedTenants');
    expect(error.toClientError().code).toBe('access_denied');
  });

  it('refuses an ID token whose tid is not the tenant of its iss', async () => {
    const error = await upstreamFailure(signInAndExchange(entraClient(contosoCommon, { tenant: 'common' }), { user: 'mallory' }));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'id_token_invalid', operation: 'exchange' });
    const single = await upstreamFailure(signInAndExchange(entraClient(contosoSingle, { tenant: CONTOSO }), { user: 'mallory' }));
    expect(single).toMatchObject({ kind: 'definitive', reason: 'issuer_mismatch' });
  });

  it('organizations: refuses personal Microsoft accounts (the consumers tenant)', async () => {
    const msa = await entraIdp('organizations', MSA_TENANT_ID);
    const error = await upstreamFailure(signInAndExchange(entraClient(msa, { tenant: 'organizations' })));
    expect(error).toMatchObject({ reason: 'issuer_mismatch' });
    expect(error.detail).toContain('personal Microsoft account');
  });

  it('refuses a common discovery document that does not state the template', async () => {
    const concrete = await withIdp({
      clients: testClients(),
      layout: { ...entraLayout('common', CONTOSO), discoveryAliases: [{ path: '/common/v2.0/.well-known/openid-configuration' }] },
      users: users(CONTOSO),
      idTokenClaims: ['tid', 'oid'],
    });
    const error = await upstreamFailure(entraClient(concrete, { tenant: 'common' }).metadata());
    expect(error).toMatchObject({ reason: 'issuer_mismatch', operation: 'discovery' });
  });

  it('prefixes API scopes with api://<app>/ on the way up and strips it from the granted ones', async () => {
    const upstream = entraClient(contosoSingle, { tenant: CONTOSO, scopePrefix: API, scopes: ['openid', 'profile', 'offline_access', 'access_as_user'] });
    const { attempt, signIn } = await signInAndExchange(upstream);
    expect(attempt.authorizationUrl.searchParams.get('scope')).toBe(`openid profile offline_access ${API}access_as_user`);
    expect(signIn.grantedScopes).toEqual(expect.arrayContaining(['openid', 'access_as_user']));
    expect(signIn.grantedScopes.some((s) => s.startsWith('api://'))).toBe(false);
    expect(signIn.tokenSet.scope).toContain(`${API}access_as_user`); // kept as the upstream said
  });

  it('refreshes a multi-tenant sign-in, checking the new ID token the same way', async () => {
    const upstream = entraClient(fabrikamCommon, { tenant: 'common', allowedTenants: [FABRIKAM] });
    const { signIn } = await signInAndExchange(upstream);
    const refreshed = await upstream.refresh(signIn.tokenSet);
    expect(typeof refreshed.tokenSet.id_token).toBe('string');
    expect(refreshed.tokenSet.id_token).not.toBe(signIn.tokenSet.id_token);
  });

  it('end to end, multi-tenant with an allow-list: flowgate names Microsoft and signs the allowed tenant in', async () => {
    const proxy = await startPresetProxy({
      idp: { layout: entraLayout('common', CONTOSO), users: users(CONTOSO), idTokenClaims: ['tid', 'oid'], authorizationResponseIss: false },
      upstream: ({ origin }) => ({
        preset: 'entra',
        tenant: 'common',
        allowedTenants: [CONTOSO],
        baseUrl: origin,
        clientId: 'flowgate',
        clientSecret: 'flowgate-upstream-secret',
      }),
    });
    try {
      expect(await consentPageHtml(proxy)).toContain('sign in with Microsoft');
      const { tokens, refreshStatus } = await loginAndRefresh(proxy);
      expect(refreshStatus).toBe(200);
      expect(await upstreamGrantOf(proxy, tokens.accessToken)).toMatchObject({ subject: 'alice', refreshable: true });
    } finally {
      await proxy.close();
    }
  });
});

/**
 * Microsoft Entra ID (the v2.0 endpoints), discovered from
 * `https://login.microsoftonline.com/<tenant>/v2.0`.
 *
 * - `tenant` is a tenant id (GUID), a verified domain, or `common` / `organizations` /
 *   `consumers`. For `common` and `organizations` the metadata's `issuer` is the template
 *   `…/{tenantid}/v2.0`: an ID token's `iss` must be that template with the token's own
 *   `tid` claim, and the tenant must be in `allowedTenants` when it is set
 *   (`organizations` never accepts personal Microsoft accounts' tenant). For a domain or
 *   `consumers`, the discovered issuer (`…/<tenant id>/v2.0`) is pinned.
 * - `scopePrefix` (`api://<app id>/`) is added to API scopes on the way up and taken off
 *   the granted ones on the way back.
 * - `tid` and `oid` are kept as claims; `email` is never reported as verified unless
 *   Entra says the domain owner verified it (`xms_edov`, an optional claim), because Entra
 *   does not verify e-mail addresses.
 * - UserInfo is not called: it lives at Microsoft Graph and refuses tokens for other APIs.
 *
 * @module
 */
import type { UpstreamConfig } from '../../config/schema.js';
import type { IssuerRule, PresetProblem, ScopeTranslation, UpstreamPreset } from './types.js';
import { baseUrlProblem, trimSlashes } from './urls.js';

/** The public cloud's authority; sovereign clouds have their own (`baseUrl`). */
export const ENTRA_AUTHORITY = 'https://login.microsoftonline.com';

/** The tenant of personal Microsoft accounts (MSA). */
export const MSA_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MULTI_TENANT = new Set(['common', 'organizations']);
const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Scopes that belong to OpenID Connect itself, never prefixed. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

function authority(config: { readonly baseUrl?: string | undefined }): string {
  return trimSlashes(config.baseUrl) ?? ENTRA_AUTHORITY;
}

function isGuid(value: unknown): value is string {
  return typeof value === 'string' && GUID.test(value);
}

function refuse(detail: string): { readonly refused: string } {
  return { refused: detail };
}

/** The tenant an issuer names, if it is `<authority>/<GUID>/v2.0`. */
function tenantOf(issuer: unknown, base: string): string | undefined {
  if (typeof issuer !== 'string' || !issuer.startsWith(`${base}/`) || !issuer.endsWith('/v2.0')) return undefined;
  const tenant = issuer.slice(base.length + 1, -'/v2.0'.length);
  return isGuid(tenant) ? tenant : undefined;
}

/** The issuer rule of an Entra configuration (see the module documentation). */
export function entraIssuerRule(config: Pick<UpstreamConfig, 'tenant' | 'allowedTenants' | 'baseUrl'>): IssuerRule {
  const base = authority(config);
  const tenant = (config.tenant ?? '').toLowerCase();
  const allowed = config.allowedTenants === undefined ? undefined : new Set(config.allowedTenants.map((t) => t.toLowerCase()));
  if (MULTI_TENANT.has(tenant)) {
    const template = `${base}/{tenantid}/v2.0`;
    return {
      acceptsDiscovered: (issuer) => issuer === template,
      expected(claims) {
        // An ID token names its tenant in `tid`; an RFC 9207 `iss` only in its path.
        const tid = 'tid' in claims ? claims.tid : tenantOf(claims.iss, base);
        if (!isGuid(tid)) return refuse('the response names no tenant id (tid)');
        if (tenant === 'organizations' && tid === MSA_TENANT_ID) return refuse('a personal Microsoft account, but the tenant is `organizations`');
        if (allowed !== undefined && !allowed.has(tid)) return refuse('the tenant is not in upstream.allowedTenants');
        return { issuer: `${base}/${tid}/v2.0` };
      },
    };
  }
  // One tenant: the issuer is fixed (for a domain or `consumers`, it is the discovered one).
  return {
    acceptsDiscovered: (issuer) => (isGuid(tenant) ? issuer === `${base}/${tenant}/v2.0` : tenantOf(issuer, base) !== undefined),
    expected(claims, discovered) {
      const expectedTid = tenantOf(discovered, base);
      if ('tid' in claims && claims.tid !== expectedTid) return refuse('the ID token tid is not the tenant of its issuer');
      return { issuer: discovered };
    },
  };
}

/** `api://<app>/` on API scopes, both ways. */
const entraScopes: ScopeTranslation = {
  toUpstream(scopes, config) {
    const prefix = config.scopePrefix;
    if (prefix === undefined) return [...scopes];
    return scopes.map((s) => (OIDC_SCOPES.has(s) || s.includes('://') ? s : `${prefix}${s}`));
  },
  fromUpstream(scopes, config) {
    const prefix = config.scopePrefix;
    if (prefix === undefined) return [...scopes];
    return scopes.map((s) => (s.startsWith(prefix) && s.length > prefix.length ? s.slice(prefix.length) : s));
  },
};

function check(section: Parameters<UpstreamPreset['defaults']>[0]): PresetProblem[] {
  const problems: PresetProblem[] = [];
  const tenant = section.tenant?.toLowerCase();
  if (tenant !== undefined && !isGuid(tenant) && !MULTI_TENANT.has(tenant) && tenant !== 'consumers' && !DOMAIN.test(tenant)) {
    problems.push({ path: ['tenant'], message: 'must be a tenant id (GUID), a verified domain, `common`, `organizations` or `consumers`' });
  }
  if (section.allowedTenants !== undefined) {
    if (tenant !== undefined && !MULTI_TENANT.has(tenant)) {
      problems.push({ path: ['allowedTenants'], message: 'only with tenant `common` or `organizations` (a single tenant is already fixed)' });
    }
    section.allowedTenants.forEach((t, i) => {
      if (!isGuid(t.toLowerCase())) problems.push({ path: ['allowedTenants', i], message: 'must be a tenant id (GUID)' });
    });
  }
  const base = baseUrlProblem(section.baseUrl);
  if (base !== undefined) problems.push({ path: ['baseUrl'], message: base });
  if (section.scopePrefix !== undefined && !/^(api:\/\/|https:\/\/)[^\s]+\/$/.test(section.scopePrefix)) {
    problems.push({ path: ['scopePrefix'], message: 'must be an application ID URI ending in `/`, such as `api://<app id>/`' });
  }
  if (section.clientAssertion?.audience === 'issuer') {
    problems.push({ path: ['clientAssertion', 'audience'], message: 'Entra expects the token endpoint as the assertion audience' });
  }
  return problems;
}

/** The `entra` preset (see the module documentation). */
export const entraPreset: UpstreamPreset = {
  name: 'entra',
  kind: 'oidc',
  displayName: 'Microsoft',
  options: ['tenant', 'allowedTenants', 'baseUrl', 'scopePrefix'],
  requiredOptions: ['tenant'],
  defaults: (section) => ({
    ...(section.tenant !== undefined && baseUrlProblem(section.baseUrl) === undefined
      ? { issuer: `${authority(section)}/${section.tenant.toLowerCase()}/v2.0` }
      : {}),
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    assertionAudience: 'token_endpoint',
  }),
  check,
  issuerRule: (config) => entraIssuerRule(config),
  scopes: entraScopes,
  identity: {
    claims(idToken) {
      const claims: Record<string, string | boolean> = {};
      if (typeof idToken.tid === 'string') claims.tid = idToken.tid;
      if (typeof idToken.oid === 'string') claims.oid = idToken.oid;
      if (typeof idToken.email === 'string') claims.email_verified = idToken.xms_edov === true || idToken.xms_edov === 1;
      return claims;
    },
  },
  userinfo: false,
};

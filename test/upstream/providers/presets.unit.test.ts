/**
 * The preset registry and how presets apply: one file per preset, explicit values win,
 * preset options are checked, resolution is idempotent, no preset can set a core
 * parameter, and the issuer rules of Entra and Google.
 *
 * Protection checked by hand: with the reserved-key loop of `checkUpstream` in
 * src/config/schema.ts removed, "a preset can never set a core parameter either" fails
 * (tried once, then restored).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/config/index.js';
import type { UpstreamConfig } from '../../../src/config/schema.js';
import { isReservedUpstreamParam, UPSTREAM_PRESET_NAMES, UPSTREAM_PRESETS } from '../../../src/upstream/index.js';
import { entraIssuerRule, MSA_TENANT_ID } from '../../../src/upstream/providers/entra.js';
import { googlePreset } from '../../../src/upstream/providers/google.js';

const CONTOSO = '0c2f1e9a-5b4d-4c3e-8a7f-6e5d4c3b2a19';
const FABRIKAM = '9e8d7c6b-5a49-4382-9170-fedcba987654';

/** A minimal valid section for each preset. */
const SAMPLES: Record<string, Record<string, unknown>> = {
  github: { preset: 'github', clientId: 'Iv1.a', clientSecret: 's' },
  'github-app': { preset: 'github-app', clientId: 'Iv23.a', clientSecret: 's' },
  google: { preset: 'google', clientId: '1-a.apps.googleusercontent.com', clientSecret: 's' },
  entra: { preset: 'entra', tenant: 'common', allowedTenants: [CONTOSO], clientId: 'app', clientSecret: 's' },
  auth0: { preset: 'auth0', domain: 'example.eu.auth0.com', audience: 'https://api.example', clientId: 'a', clientSecret: 's' },
  okta: { preset: 'okta', domain: 'dev-1.okta.com', clientId: 'a', clientSecret: 's' },
  keycloak: { preset: 'keycloak', baseUrl: 'https://sso.example.com', realm: 'demo', clientId: 'a', clientSecret: 's' },
  oidc: { preset: 'oidc', issuer: 'https://idp.example', clientId: 'a', clientSecret: 's' },
  oauth2: {
    preset: 'oauth2',
    authorizationEndpoint: 'https://idp.example/authorize',
    tokenEndpoint: 'https://idp.example/token',
    userinfoEndpoint: 'https://api.idp.example/me',
    clientId: 'a',
    clientSecret: 's',
  },
};

function upstreamOf(values: Record<string, unknown>): UpstreamConfig {
  return parseConfig({ values: { upstream: values } }).upstream!;
}

function problems(values: Record<string, unknown>): { path: string; message: string }[] {
  try {
    upstreamOf(values);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => ({ path: p.path, message: p.message }));
  }
}

describe('provider presets', () => {
  it('has one file per preset in src/upstream/providers/, each registered under its name', () => {
    const dir = join(import.meta.dirname, '..', '..', '..', 'src', 'upstream', 'providers');
    const files = readdirSync(dir).filter((f) => !['index.ts', 'registry.ts', 'resolve.ts', 'types.ts', 'urls.ts'].includes(f));
    expect(files.map((f) => f.replace(/\.ts$/, '')).sort()).toEqual([...UPSTREAM_PRESET_NAMES].sort());
    for (const name of UPSTREAM_PRESET_NAMES) expect(UPSTREAM_PRESETS[name].name).toBe(name);
    expect(UPSTREAM_PRESET_NAMES).toEqual(['github', 'github-app', 'google', 'entra', 'auth0', 'okta', 'keycloak', 'oidc', 'oauth2']);
  });

  it.each(Object.keys(SAMPLES))('%s: a minimal section is valid, and validating it again changes nothing', (name) => {
    const once = upstreamOf(SAMPLES[name]!);
    expect(once.kind).toBe(UPSTREAM_PRESETS[name as keyof typeof UPSTREAM_PRESETS].kind);
    expect(upstreamOf(once as unknown as Record<string, unknown>)).toEqual(once);
  });

  it.each(Object.keys(SAMPLES))('%s: its defaults never carry a core parameter', (name) => {
    const upstream = upstreamOf(SAMPLES[name]!);
    for (const key of [...Object.keys(upstream.extraAuthorizeParams), ...Object.keys(upstream.extraTokenParams)]) {
      expect(isReservedUpstreamParam(key), key).toBe(false);
    }
  });

  it('explicit values always win over the preset: endpoints, scopes, auth method, display name, extra parameters key by key', () => {
    const upstream = upstreamOf({
      ...SAMPLES.google,
      issuer: 'https://accounts.example',
      scopes: ['openid', 'email'],
      clientAuthMethod: 'client_secret_post',
      displayName: 'Example Accounts',
      extraAuthorizeParams: { prompt: 'select_account', hd: 'example.com' },
    });
    expect(upstream).toMatchObject({
      issuer: 'https://accounts.example',
      scopes: ['openid', 'email'],
      clientAuthMethod: 'client_secret_post',
      displayName: 'Example Accounts',
      extraAuthorizeParams: { access_type: 'offline', prompt: 'select_account', hd: 'example.com' },
    });
    expect(upstreamOf({ ...SAMPLES.github, userinfoEndpoint: 'https://api.example/me', subjectField: 'login' })).toMatchObject({
      userinfoEndpoint: 'https://api.example/me',
      subjectField: 'login',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
    });
  });

  it('a preset can never set a core parameter either', () => {
    const spy = vi.spyOn(googlePreset, 'defaults').mockReturnValue({ issuer: 'https://accounts.google.com', extraAuthorizeParams: { Redirect_URI: 'https://attacker.example/cb' } });
    try {
      expect(problems(SAMPLES.google!)).toEqual([
        { path: 'upstream.extraAuthorizeParams.Redirect_URI', message: expect.stringContaining('(set by preset `google`)') },
      ]);
    } finally {
      spy.mockRestore();
    }
  });

  it('checks preset options: right preset, required, well-formed', () => {
    expect(problems({ kind: 'oidc', issuer: 'https://idp.example', tenant: 'common', clientId: 'a', clientSecret: 's' })).toEqual([
      { path: 'upstream.tenant', message: 'only for preset `entra`' },
    ]);
    expect(problems({ ...SAMPLES.okta, realm: 'demo' })).toEqual([{ path: 'upstream.realm', message: 'only for preset `keycloak`' }]);
    expect(problems({ ...SAMPLES.github, baseUrl: 'not a url' }).map((p) => p.path)).toContain('upstream.baseUrl');
    expect(problems({ preset: 'okta', clientId: 'a', clientSecret: 's' })).toEqual([{ path: 'upstream.domain', message: 'required for preset `okta`' }]);
    expect(problems({ ...SAMPLES.okta, domain: 'dev-1.okta.com/oauth2' }).map((p) => p.path)).toEqual(['upstream.domain']);
    expect(problems({ ...SAMPLES.okta, domain: 'http://dev-1.okta.com' })).toEqual([
      { path: 'upstream.issuer', message: expect.stringContaining('computed by preset `okta`') },
    ]);
    expect(problems({ ...SAMPLES.okta, authorizationServerId: '../x' }).map((p) => p.path)).toEqual(['upstream.authorizationServerId']);
    expect(problems({ ...SAMPLES.entra, tenant: 'not a tenant!' }).map((p) => p.path)).toContain('upstream.tenant');
    expect(problems({ ...SAMPLES.entra, tenant: CONTOSO })).toEqual([{ path: 'upstream.allowedTenants', message: expect.stringContaining('only with tenant') }]);
    expect(problems({ ...SAMPLES.entra, allowedTenants: ['contoso.com'] })).toEqual([{ path: 'upstream.allowedTenants.0', message: expect.stringContaining('GUID') }]);
    expect(problems({ ...SAMPLES.entra, scopePrefix: 'api://app' }).map((p) => p.path)).toEqual(['upstream.scopePrefix']);
    expect(problems({ ...SAMPLES.keycloak, realm: 'a/b' }).map((p) => p.path)).toEqual(['upstream.realm']);
    expect(problems({ ...SAMPLES.github, kind: 'oidc' })).toEqual([{ path: 'upstream.kind', message: 'preset `github` is an `oauth2` upstream' }]);
    expect(problems({ clientId: 'a', clientSecret: 's', issuer: 'https://idp.example' })).toEqual([{ path: 'upstream.kind', message: 'required unless `preset` is set' }]);
  });

  it('Entra multi-tenant rule: the issuer comes from tid; allow-list, organizations and GUIDs enforced', () => {
    const base = 'https://login.microsoftonline.com';
    const common = entraIssuerRule({ tenant: 'common', baseUrl: undefined, allowedTenants: undefined });
    expect(common.acceptsDiscovered(`${base}/{tenantid}/v2.0`)).toBe(true);
    expect(common.acceptsDiscovered(`${base}/${CONTOSO}/v2.0`)).toBe(false);
    expect(common.expected({ iss: `${base}/${CONTOSO}/v2.0`, tid: FABRIKAM }, '')).toEqual({ issuer: `${base}/${FABRIKAM}/v2.0` });
    expect(common.expected({ iss: `${base}/${CONTOSO}/v2.0` }, '')).toEqual({ issuer: `${base}/${CONTOSO}/v2.0` });
    expect(common.expected({ tid: 'contoso.com' }, '')).toEqual({ refused: expect.stringContaining('tenant id') });
    expect(common.expected({ tid: MSA_TENANT_ID }, '')).toEqual({ issuer: `${base}/${MSA_TENANT_ID}/v2.0` });
    const organizations = entraIssuerRule({ tenant: 'organizations', baseUrl: undefined, allowedTenants: [CONTOSO.toUpperCase()] });
    expect(organizations.expected({ tid: MSA_TENANT_ID }, '')).toEqual({ refused: expect.stringContaining('personal Microsoft account') });
    expect(organizations.expected({ tid: FABRIKAM }, '')).toEqual({ refused: expect.stringContaining('allowedTenants') });
    expect(organizations.expected({ tid: CONTOSO }, '')).toEqual({ issuer: `${base}/${CONTOSO}/v2.0` });
    const single = entraIssuerRule({ tenant: CONTOSO, baseUrl: undefined, allowedTenants: undefined });
    expect(single.acceptsDiscovered(`${base}/${CONTOSO}/v2.0`)).toBe(true);
    expect(single.acceptsDiscovered(`${base}/${FABRIKAM}/v2.0`)).toBe(false);
    expect(single.expected({ tid: FABRIKAM }, `${base}/${CONTOSO}/v2.0`)).toEqual({ refused: expect.any(String) });
    const consumers = entraIssuerRule({ tenant: 'consumers', baseUrl: undefined, allowedTenants: undefined });
    expect(consumers.acceptsDiscovered(`${base}/${MSA_TENANT_ID}/v2.0`)).toBe(true);
    expect(consumers.acceptsDiscovered(`https://evil.example/${MSA_TENANT_ID}/v2.0`)).toBe(false);
  });

  it("Google's rule: the scheme-less issuer only for Google itself", () => {
    const rule = googlePreset.issuerRule!({ issuer: 'https://accounts.google.com' } as UpstreamConfig)!;
    expect(rule.expected({ iss: 'accounts.google.com' }, 'https://accounts.google.com')).toEqual({ issuer: 'accounts.google.com' });
    expect(rule.expected({ iss: 'https://evil.example' }, 'https://accounts.google.com')).toEqual({ issuer: 'https://accounts.google.com' });
    expect(googlePreset.issuerRule!({ issuer: 'http://127.0.0.1:5556' } as UpstreamConfig)).toBeUndefined();
  });
});

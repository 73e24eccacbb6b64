/**
 * The `upstream` configuration section: defaults, kind-specific requirements, loopback-only
 * http, and extra parameters that may never override flowgate's own.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/index.js';
import { upstreamConfigSchema } from '../../src/config/schema.js';
import { createUpstreamClient, isLoopbackHost, RESERVED_UPSTREAM_PARAMS } from '../../src/upstream/index.js';
import { allLoopback, upstreamUrlProblem } from '../../src/upstream/loopback.js';

const OIDC = { kind: 'oidc', issuer: 'https://idp.example', clientId: 'flowgate', clientSecret: 's3cret' } as const;
const GITHUB = {
  kind: 'oauth2',
  authorizationEndpoint: 'https://github.com/login/oauth/authorize',
  tokenEndpoint: 'https://github.com/login/oauth/access_token',
  userinfoEndpoint: 'https://api.github.com/user',
  clientId: 'Iv1.abc',
  clientSecret: 's3cret',
  clientAuthMethod: 'client_secret_post',
} as const;

function problems(values: unknown): { path: string; message: string }[] {
  try {
    parseConfig({ values: { upstream: values } });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => ({ path: p.path, message: p.message }));
  }
  return [];
}

describe('upstream configuration', () => {
  it('is optional, and fills every default', () => {
    expect(parseConfig().upstream).toBeUndefined();
    const upstream = parseConfig({ values: { upstream: OIDC } }).upstream!;
    expect(upstream).toMatchObject({
      clientAuthMethod: 'client_secret_basic',
      redirectPath: '/auth/callback',
      subjectField: 'id',
      timeoutMs: 10_000,
      refreshThresholdSeconds: 60,
      extraAuthorizeParams: {},
      extraTokenParams: {},
    });
    expect(createUpstreamClient(OIDC).scopes).toEqual(['openid', 'email', 'profile']);
    expect(createUpstreamClient(GITHUB).scopes).toEqual([]);
    expect(createUpstreamClient(GITHUB).issuer).toBe('https://github.com');
  });

  it('requires what each kind needs', () => {
    expect(problems({ kind: 'oidc', clientId: 'x', clientSecret: 'y' })).toContainEqual({ path: 'upstream.issuer', message: expect.stringContaining('required') });
    const missing = problems({ kind: 'oauth2', clientId: 'x', clientSecret: 'y' }).map((p) => p.path);
    expect(missing).toEqual(expect.arrayContaining(['upstream.authorizationEndpoint', 'upstream.tokenEndpoint', 'upstream.userinfoEndpoint']));
    expect(problems({ ...OIDC, scopes: ['email'] })).toContainEqual({ path: 'upstream.scopes', message: expect.stringContaining('openid') });
    expect(problems({ ...GITHUB, scopes: ['openid', 'read:user'] })).toContainEqual({ path: 'upstream.scopes', message: expect.stringContaining('kind `oidc`') });
    expect(problems({ ...OIDC, scopes: ['openid', 'two words'] }).map((p) => p.path)).toEqual(['upstream.scopes.1']);
    expect(problems({ ...OIDC, clientSecret: undefined }).map((p) => p.path)).toContain('upstream.clientSecret');
    expect(problems({ ...OIDC, clientAuthMethod: 'none' }).map((p) => p.path)).toContain('upstream.clientSecret');
    expect(problems({ ...OIDC, clientSecret: undefined, clientAuthMethod: 'none' })).toEqual([]);
    expect(problems({ ...OIDC, issuer: 'https://idp.example/?tenant=1' }).map((p) => p.path)).toContain('upstream.issuer');
    expect(problems({ ...OIDC, colour: 'blue' })).toContainEqual({ path: 'upstream.colour', message: 'unknown option' });
  });

  it('allows http: only on loopback hosts', () => {
    expect(problems({ ...OIDC, issuer: 'http://idp.example' })).toContainEqual({
      path: 'upstream.issuer',
      message: expect.stringContaining('loopback'),
    });
    expect(problems({ ...GITHUB, tokenEndpoint: 'http://10.0.0.1/token' }).map((p) => p.path)).toEqual(['upstream.tokenEndpoint']);
    expect(problems({ ...OIDC, issuer: 'http://127.0.0.1:8080' })).toEqual([]);
    expect(problems({ ...OIDC, issuer: 'http://localhost:8080' })).toEqual([]);
    expect(problems({ ...OIDC, issuer: 'http://[::1]:8080' })).toEqual([]);
    expect(problems({ ...OIDC, issuer: 'ftp://idp.example' }).map((p) => p.path)).toEqual(['upstream.issuer']);
    expect(upstreamUrlProblem('https://user:pw@idp.example/token')).toMatch(/credentials/);
    expect(upstreamUrlProblem('https://idp.example/token#x')).toMatch(/fragment/);
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '[::1]']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['127.0.0.1.nip.io', 'localhost.example', '10.0.0.1', '[::2]']) expect(isLoopbackHost(host), host).toBe(false);
    expect(allLoopback(['http://127.0.0.1:1/a', 'http://localhost:2/b'])).toBe(true);
    expect(allLoopback(['http://127.0.0.1:1/a', 'https://idp.example/b'])).toBe(false);
  });

  // Protection check: with the reserved-key refinement in src/config/schema.ts removed, the
  // expectations below fail (tried once, then restored).
  it.each(['extraAuthorizeParams', 'extraTokenParams'])('%s can never carry a core parameter, whatever its case', (field) => {
    for (const key of ['redirect_uri', 'state', 'code_challenge', 'Scope', 'CLIENT_ID', 'grant_type', 'code_verifier', 'refresh_token', 'nonce']) {
      const found = problems({ ...OIDC, [field]: { [key]: 'https://attacker.example/cb' } });
      expect(found, key).toEqual([
        { path: `upstream.${field}.${key}`, message: expect.stringContaining(`"${key}" is set by flowgate itself and can never be overridden`) },
      ]);
    }
    expect(problems({ ...OIDC, [field]: { prompt: 'consent', access_type: 'offline' } })).toEqual([]);
  });

  it('reserves at least the core parameters of the brief', () => {
    expect(RESERVED_UPSTREAM_PARAMS).toEqual(
      expect.arrayContaining([
        'response_type', 'client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method',
        'nonce', 'scope', 'code', 'grant_type', 'code_verifier', 'refresh_token',
      ]),
    );
  });

  it('createUpstreamClient names every wrong option', () => {
    expect(() => createUpstreamClient({ ...OIDC, extraAuthorizeParams: { state: 'x' }, timeoutMs: 5 })).toThrow(ConfigError);
    try {
      createUpstreamClient({ ...OIDC, extraAuthorizeParams: { state: 'x' }, timeoutMs: 5 });
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.path).sort()).toEqual(['upstream.extraAuthorizeParams.state', 'upstream.timeoutMs']);
    }
    expect(upstreamConfigSchema.safeParse(GITHUB).success).toBe(true);
  });
});

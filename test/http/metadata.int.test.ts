/**
 * Discovery documents (RFC 8414, RFC 9728): served where clients look for them, consistent
 * with each other and with the URLs they are served under, with CORS.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Flowgate } from '../../src/flowgate.js';
import { call, openApp } from '../support/app.js';

describe('metadata', () => {
  let app: Flowgate;
  afterEach(() => app.close());

  it('serves RFC 8414 metadata at the root for an origin issuer, with the OIDC alias and CORS', async () => {
    app = await openApp();
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const response = await call(app, path);
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      const body = await response.json() as any;
      expect(body).toMatchObject({
        issuer: 'https://auth.example.com',
        authorization_endpoint: 'https://auth.example.com/authorize',
        token_endpoint: 'https://auth.example.com/token',
        registration_endpoint: 'https://auth.example.com/register',
        jwks_uri: 'https://auth.example.com/.well-known/jwks.json',
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
      });
      expect(body.token_endpoint_auth_methods_supported).toContain('none');
    }
    const preflight = await call(app, '/.well-known/oauth-authorization-server', {
      method: 'OPTIONS',
      headers: { origin: 'https://inspector.example', 'access-control-request-headers': 'mcp-protocol-version' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('MCP-Protocol-Version');
  });

  it('inserts the issuer path (RFC 8414 §3.1) and serves endpoints under it', async () => {
    app = await openApp({}, 'https://example.com/oauth');
    const inserted = await call(app, 'https://example.com/.well-known/oauth-authorization-server/oauth');
    expect(inserted.status).toBe(200);
    const body = await inserted.json() as any;
    expect(body.issuer).toBe('https://example.com/oauth');
    expect(body.authorization_endpoint).toBe('https://example.com/oauth/authorize');
    expect((await call(app, 'https://example.com/.well-known/openid-configuration/oauth')).status).toBe(200);
    expect((await call(app, 'https://example.com/oauth/.well-known/openid-configuration')).status).toBe(200);
    expect((await call(app, 'https://example.com/.well-known/oauth-authorization-server')).status).toBe(404);
  });

  it('serves RFC 9728 metadata for each resource on its own origin, pointing at the issuer', async () => {
    app = await openApp({
      server: {
        issuer: 'https://auth.example.com',
        resources: [{ uri: 'https://auth.example.com/mcp' }, { uri: 'https://auth.example.com/tools/v2', scopes: ['mcp:tools'] }, { uri: 'https://other.example.com/mcp' }],
      },
    });
    const prm = await call(app, '/.well-known/oauth-protected-resource/mcp');
    expect(prm.status).toBe(200);
    expect(prm.headers.get('access-control-allow-origin')).toBe('*');
    expect(await prm.json() as any).toMatchObject({
      resource: 'https://auth.example.com/mcp',
      authorization_servers: ['https://auth.example.com'],
      bearer_methods_supported: ['header'],
    });
    expect((await (await call(app, '/.well-known/oauth-protected-resource/tools/v2')).json() as any).resource).toBe('https://auth.example.com/tools/v2');
    expect((await call(app, '/.well-known/oauth-protected-resource')).status).toBe(404);
  });

  it('publishes only public access-token keys in the JWKS', async () => {
    app = await openApp();
    const jwks = await (await call(app, '/.well-known/jwks.json')).json() as any;
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key.kid).toBeTruthy();
      expect(key.use).toBe('sig');
      expect(key.d).toBeUndefined();
      expect(key.k).toBeUndefined();
    }
  });

  it('leaves out the registration endpoint when registration is off', async () => {
    app = await openApp({ registration: { mode: 'off' } });
    const body = await (await call(app, '/.well-known/oauth-authorization-server')).json() as any;
    expect(body.registration_endpoint).toBeUndefined();
    expect((await call(app, '/register', { method: 'POST' })).status).toBe(404);
  });

  it('sends no CORS headers from /authorize', async () => {
    app = await openApp();
    const response = await call(app, '/authorize?client_id=x', { headers: { origin: 'https://evil.example' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

/**
 * The whole authorization flow against a real upstream IdP (oidc-provider on loopback):
 * register → authorize → consent → upstream login → callback → token.
 */
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationRequest, authorizeInBrowser, exchangeCode, HeadlessBrowser, registerClient, startProxy, type TestProxy } from '../support/proxy.js';

for (const mode of ['oidc', 'github'] as const) {
  describe(`authorization code flow through flowgate (${mode} upstream)`, () => {
    let proxy: TestProxy;
    beforeAll(async () => {
      proxy = await startProxy({ mode });
    });
    afterAll(() => proxy.close());

    it('registers, authorizes, consents, logs in upstream and gets flowgate tokens', async () => {
      const client = await registerClient(proxy);
      const request = authorizationRequest(proxy, client);
      const browser = new HeadlessBrowser();
      const result = await authorizeInBrowser(browser, client, request);
      expect(result.reason, JSON.stringify(result.trace)).toBe('stopAt');
      const params = result.stoppedAt!.searchParams;
      expect(params.get('state')).toBe(request.state);
      expect(params.get('iss')).toBe(proxy.url);
      const code = params.get('code')!;
      const tokens = await exchangeCode(proxy, client, code, request.verifier);
      expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
      expect(tokens.headers.get('cache-control')).toBe('no-store');
      expect(tokens.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'mcp:tools' });
      expect(tokens.body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const jwks = await (await fetch(`${proxy.url}/.well-known/jwks.json`)).json() as any;
      const { payload, protectedHeader } = await jwtVerify(tokens.body.access_token, createLocalJWKSet(jwks), {
        issuer: proxy.url,
        audience: `${proxy.url}/mcp`,
        typ: 'at+jwt',
      });
      expect(protectedHeader.alg).toBe('ES256');
      expect(payload).toMatchObject({ sub: mode === 'oidc' ? 'alice' : expect.any(String), client_id: client.clientId, scope: 'mcp:tools' });
      const again = await exchangeCode(proxy, client, code, request.verifier);
      expect(again.status).toBe(400);
      expect(again.body.error).toBe('invalid_grant');
    });
  });
}

/**
 * Discovery and pinning of the upstream metadata (security-invariants.md item 19, RFC 8414
 * §3.3): the discovered issuer must be identical to the configured one, RFC 8414's
 * location is the fallback, and no endpoint may be plain http off loopback.
 *
 * Protection check: with the exact comparison in src/upstream/metadata.ts removed, the
 * trailing-slash case is accepted (oauth4webapi compares normalised URLs), and with
 * oauth4webapi's comparison bypassed as well the other-issuer case is accepted (tried
 * once each, then restored).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamIdp } from '../../src/demo/upstream-idp.js';
import { testClients, withIdp } from '../support/idp.js';
import { client, jsonResponse, oidcConfig, upstreamFailure } from './support.js';

/** A tiny loopback server answering GETs from a path → [status, body] table. */
async function documentServer(): Promise<{ base: string; routes: Map<string, [number, unknown]>; close: () => Promise<void> }> {
  const routes = new Map<string, [number, unknown]>();
  const server: Server = createServer((req, res) => {
    const route = routes.get(req.url ?? '');
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    res.writeHead(route[0], { 'content-type': 'application/json' }).end(JSON.stringify(route[1]));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, routes, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function metadataFor(issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code'],
  };
}

const CREDENTIALS = { clientId: 'flowgate', clientSecret: 'secret' };

describe('upstream discovery', () => {
  let docs: Awaited<ReturnType<typeof documentServer>>;
  let idp: UpstreamIdp;

  beforeAll(async () => {
    docs = await documentServer();
    idp = await withIdp({ clients: testClients() });
  });
  afterAll(() => docs.close());

  it('discovers the real IdP once and caches it', async () => {
    let requests = 0;
    const upstream = client(oidcConfig(idp), {
      fetch: ((input: string | URL | Request, init?: RequestInit) => {
        requests += 1;
        return fetch(input, init);
      }) as typeof fetch,
    });
    const [a, b] = await Promise.all([upstream.metadata(), upstream.metadata()]);
    expect(a.token_endpoint).toBe(idp.endpoints.token);
    expect(b.jwks_uri).toBe(idp.endpoints.jwks);
    await upstream.metadata();
    expect(requests).toBe(1);
  });

  it('refuses a discovery document naming another issuer', async () => {
    const issuer = `${docs.base}/other`;
    docs.routes.set('/other/.well-known/openid-configuration', [200, metadataFor('http://127.0.0.1:1/other')]);
    const error = await upstreamFailure(client({ kind: 'oidc', issuer, ...CREDENTIALS }).metadata());
    expect(error).toMatchObject({ kind: 'definitive', reason: 'issuer_mismatch', operation: 'discovery' });
    expect(error.toClientError().code).toBe('server_error');
  });

  it('refuses an issuer that only differs by a trailing slash (identical, not equivalent)', async () => {
    const issuer = `${docs.base}`;
    docs.routes.set('/.well-known/openid-configuration', [200, metadataFor(`${docs.base}/`)]);
    const error = await upstreamFailure(client({ kind: 'oidc', issuer, ...CREDENTIALS }).metadata());
    expect(error).toMatchObject({ kind: 'definitive', reason: 'issuer_mismatch' });
    docs.routes.delete('/.well-known/openid-configuration');
  });

  it('falls back to RFC 8414 when there is no OpenID configuration', async () => {
    const issuer = `${docs.base}/tenant-a`;
    docs.routes.set('/.well-known/oauth-authorization-server/tenant-a', [200, metadataFor(issuer)]);
    const metadata = await client({ kind: 'oidc', issuer, ...CREDENTIALS }).metadata();
    expect(metadata.issuer).toBe(issuer);
    expect(metadata.token_endpoint).toBe(`${issuer}/token`);
  });

  it('configured endpoints override discovered ones', async () => {
    const issuer = `${docs.base}/tenant-b`;
    docs.routes.set('/tenant-b/.well-known/openid-configuration', [200, metadataFor(issuer)]);
    const metadata = await client({ kind: 'oidc', issuer, tokenEndpoint: `${docs.base}/custom-token`, ...CREDENTIALS }).metadata();
    expect(metadata.token_endpoint).toBe(`${docs.base}/custom-token`);
    expect(metadata.authorization_endpoint).toBe(`${issuer}/auth`);
  });

  it('a 503 at discovery is transient', async () => {
    const issuer = `${docs.base}/busy`;
    docs.routes.set('/busy/.well-known/openid-configuration', [503, { error: 'temporarily_unavailable' }]);
    const error = await upstreamFailure(client({ kind: 'oidc', issuer, ...CREDENTIALS }).metadata());
    expect(error).toMatchObject({ kind: 'transient', reason: 'unavailable', operation: 'discovery' });
  });

  it('refuses discovered endpoints that are plain http off loopback, or missing', async () => {
    const issuer = 'https://idp.example';
    const served = (metadata: Record<string, unknown>) =>
      client({ kind: 'oidc', issuer, ...CREDENTIALS }, { fetch: (async () => jsonResponse(metadata)) as typeof fetch });
    const insecure = await upstreamFailure(served({ ...metadataFor(issuer), token_endpoint: 'http://idp.example/token' }).metadata());
    expect(insecure).toMatchObject({ kind: 'definitive', reason: 'misconfigured' });
    const { jwks_uri: _jwks, ...withoutJwks } = metadataFor(issuer);
    expect((await upstreamFailure(served(withoutJwks).metadata())).reason).toBe('misconfigured');
    // And an https issuer never gets http at all: oauth4webapi's own check stays on.
    const loopbackHttp = await upstreamFailure(served({ ...metadataFor(issuer), token_endpoint: 'http://127.0.0.1:1/token' }).exchangeCode({
      params: { code: 'c', state: 's', iss: issuer },
      expectedState: 's',
      codeVerifier: 'v'.repeat(43),
      nonce: 'n',
      redirectUri: 'https://mcp.example/auth/callback',
    }));
    expect(loopbackHttp).toMatchObject({ kind: 'definitive', reason: 'misconfigured', operation: 'exchange' });
  });
});

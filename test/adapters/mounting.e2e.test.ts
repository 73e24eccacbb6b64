/**
 * Mounting: flowgate and the MCP server it protects served under a path prefix of a larger
 * application, next to that application's own routes. Counterparts of fastmcp's
 * `tests/server/auth/test_oauth_mounting.py` that docs/compatibility.md marks pending for the
 * embedding issue:
 *
 * - `test_well_known_with_mounted_app`: under `/api`, the discovery documents sit where
 *   RFC 8414 §3.1 and RFC 9728 §3.1 put them for a path (`/.well-known/…/api…`), the OIDC
 *   aliases included, and advertise endpoints under the prefix; the root documents are not
 *   flowgate's;
 * - `test_mcp_endpoint_with_mounted_app`: the official MCP SDK client completes a cold start
 *   against the mounted MCP endpoint and `whoami` answers;
 * - `test_nested_mounting`: the same three levels deep (`/api/v1/tools`).
 *
 * Every example runs one of the two layouts with the SDK client. Then two more ways to share
 * a server: flowgate's endpoints under `server.baseUrl` (`/oauth`) with the issuer and the MCP
 * endpoint at the root and the application's routes untouched; and an example behind a
 * reverse proxy that keeps the path: `server.issuer` is the public URL, so every advertised
 * URL (metadata, the `resource_metadata` challenge) points at the proxy and the SDK client
 * completes a cold start through it, and with `server.trustProxy` registrations are counted
 * per `X-Forwarded-For` client, not per proxy (checked by hand: with `trustProxy: false`
 * that test fails).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start as express } from '../../examples/express.js';
import { start as hono } from '../../examples/hono.js';
import { start as mcpSdk } from '../../examples/mcp-sdk.js';
import { start as nodeHttp } from '../../examples/node-http.js';
import { startReverseProxy, type ReverseProxy } from './support/reverse-proxy.js';
import { expectInOrder, postWhoami, registerFrom, sdkClientWhoami, startExample, type ExampleStack, type StartExample } from './support/stack.js';

const layouts: Array<{ example: string; start: StartExample; prefix: string; fastmcp: string }> = [
  { example: 'express', start: express, prefix: '/api', fastmcp: 'test_well_known_with_mounted_app, test_mcp_endpoint_with_mounted_app' },
  { example: 'hono', start: hono, prefix: '/api', fastmcp: 'test_well_known_with_mounted_app, test_mcp_endpoint_with_mounted_app' },
  { example: 'node-http', start: nodeHttp, prefix: '/api/v1/tools', fastmcp: 'test_nested_mounting' },
  { example: 'mcp-sdk', start: mcpSdk, prefix: '/api/v1/tools', fastmcp: 'test_nested_mounting' },
];

describe.each(layouts)('mounted under $prefix ($example example; fastmcp $fastmcp)', ({ start, prefix }) => {
  let stack: ExampleStack;
  let url: string;
  beforeAll(async () => {
    stack = await startExample(start, { config: (u) => ({ server: { issuer: `${u}${prefix}` } }), endpointsAt: (u) => `${u}${prefix}` });
    url = stack.example.url;
  });
  afterAll(() => stack?.close());

  it('serves the path-aware discovery documents, OIDC aliases included, and not the root ones', async () => {
    const issuer = `${url}${prefix}`;
    expect(stack.example.mcpUrl).toBe(`${issuer}/mcp`);
    const challenge = await postWhoami(stack.example.mcpUrl);
    expect(challenge.status).toBe(401);
    expect(challenge.wwwAuthenticate).toContain(`resource_metadata="${url}/.well-known/oauth-protected-resource${prefix}/mcp"`);

    const prm = await fetch(`${url}/.well-known/oauth-protected-resource${prefix}/mcp`);
    expect(prm.status).toBe(200);
    expect(await prm.json()).toMatchObject({ resource: `${issuer}/mcp`, authorization_servers: [issuer] });

    const documents = [
      `${url}/.well-known/oauth-authorization-server${prefix}`,
      `${url}/.well-known/openid-configuration${prefix}`,
      `${url}${prefix}/.well-known/openid-configuration`,
    ];
    const bodies: unknown[] = [];
    for (const document of documents) {
      const response = await fetch(document);
      expect(response.status, document).toBe(200);
      bodies.push(await response.json());
    }
    expect(bodies[0]).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      registration_endpoint: `${issuer}/register`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
    });
    expect(bodies[1]).toEqual(bodies[0]);
    expect(bodies[2]).toEqual(bodies[0]);

    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/oauth-protected-resource/mcp', '/register']) {
      const response = await fetch(`${url}${path}`, path === '/register' ? { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } } : {});
      expect(response.status, path).toBe(404);
      await response.arrayBuffer();
    }
    expect(await registerFrom(`${issuer}/register`, '127.0.0.1')).toBe(201);
  });

  it('lets the official MCP SDK client complete a cold start against the mounted MCP endpoint', async () => {
    const issuerPath = prefix;
    const run = await sdkClientWhoami(stack.example.mcpUrl);
    expect(run.who).toEqual({ subject: 'alice', clientId: run.provider.clientInformation()!.client_id, scopes: ['mcp:tools'], resource: stack.example.mcpUrl });
    expectInOrder(run.trace.lines(), [
      `POST ${issuerPath}/mcp 401`,
      `GET /.well-known/oauth-protected-resource${issuerPath}/mcp 200`,
      `GET /.well-known/oauth-authorization-server${issuerPath} 200`,
      `POST ${issuerPath}/register 201`,
      `POST ${issuerPath}/token 200`,
      `POST ${issuerPath}/mcp 200`,
    ]);
  });
});

describe("flowgate's endpoints under server.baseUrl, next to the application's routes (express example)", () => {
  let stack: ExampleStack;
  let url: string;
  beforeAll(async () => {
    stack = await startExample(express, { config: (u) => ({ server: { baseUrl: `${u}/oauth` } }), endpointsAt: (u) => `${u}/oauth` });
    url = stack.example.url;
  });
  afterAll(() => stack?.close());

  it('advertises the endpoints under the base URL, answers only there, and leaves the other paths to the application', async () => {
    const metadata = await fetch(`${url}/.well-known/oauth-authorization-server`);
    expect(metadata.status).toBe(200);
    expect(await metadata.json()).toMatchObject({ issuer: url, authorization_endpoint: `${url}/oauth/authorize`, registration_endpoint: `${url}/oauth/register` });
    const prm = await fetch(`${url}/.well-known/oauth-protected-resource/mcp`);
    expect(await prm.json()).toMatchObject({ resource: `${url}/mcp`, authorization_servers: [url] });
    expect(await registerFrom(`${url}/oauth/register`, '127.0.0.1')).toBe(201);

    // Not flowgate's: Express answers (its own 404 page), flowgate never sees them.
    for (const path of ['/authorize', '/register', '/oauth/elsewhere']) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(404);
      expect(await response.text(), path).toMatch(/Cannot GET/);
    }
    const guarded = await postWhoami(stack.example.mcpUrl);
    expect(guarded.status).toBe(401);
    expect(guarded.wwwAuthenticate).toContain(`resource_metadata="${url}/.well-known/oauth-protected-resource/mcp"`);
  });
});

describe('behind a reverse proxy that keeps the path (mcp-sdk example)', () => {
  let proxy: ReverseProxy;
  let stack: ExampleStack;
  beforeAll(async () => {
    proxy = await startReverseProxy();
    stack = await startExample(mcpSdk, {
      config: () => ({ server: { issuer: proxy.url, trustProxy: true }, registration: { ratePerHour: 2 } }),
      endpointsAt: () => proxy.url,
    });
    proxy.forwardTo(stack.example.url);
  });
  afterAll(async () => {
    await stack?.close();
    await proxy?.close();
  });

  it('advertises the public URL and completes a cold start through the proxy', async () => {
    expect(stack.example.mcpUrl).toBe(`${proxy.url}/mcp`);
    const challenge = await postWhoami(stack.example.mcpUrl);
    expect(challenge.status).toBe(401);
    expect(challenge.wwwAuthenticate).toContain(`resource_metadata="${proxy.url}/.well-known/oauth-protected-resource/mcp"`);

    const run = await sdkClientWhoami(stack.example.mcpUrl);
    expect(run.who).toMatchObject({ subject: 'alice', clientId: run.provider.clientInformation()!.client_id, resource: `${proxy.url}/mcp` });
    expect(run.provider.browserRuns[0]!.authorizationUrl.origin).toBe(proxy.url);
  });

  it('counts registrations per forwarded client address when trustProxy is on', async () => {
    const registration = `${proxy.url}/register`;
    expect(await registerFrom(registration, '127.0.0.2')).toBe(201);
    expect(await registerFrom(registration, '127.0.0.2')).toBe(201);
    expect(await registerFrom(registration, '127.0.0.2')).toBe(429);
    expect(await registerFrom(registration, '127.0.0.3')).toBe(201);
  });
});

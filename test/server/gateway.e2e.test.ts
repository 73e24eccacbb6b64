/**
 * Gateway mode: flowgate serves the MCP resource path itself and forwards authorized
 * requests — streaming responses included — to an MCP server that knows nothing about
 * OAuth; it only verifies flowgate's short-lived identity JWT with flowgate's JWKS. An
 * unauthenticated request never reaches the MCP server, and the client's bearer token is
 * never forwarded. On loopback, foreign Hosts and foreign browser Origins are refused
 * (checked by hand: without `checkOrigin` in `checkRequest`, src/server/host-guard.ts, the
 * Origin test fails).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from '../../src/config/load.js';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { startUpstreamIdp, type UpstreamIdp } from '../../src/demo/upstream-idp.js';
import { IDENTITY_JWT_TYPE } from '../../src/server/gateway/identity.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { HeadlessBrowser } from '../support/browser.js';
import { HeadlessOAuthProvider } from '../support/mcp/headless-provider.js';
import { testLogger } from '../support/proxy.js';

describe('gateway mode', () => {
  let idp: UpstreamIdp;
  let running: RunningServer;
  let backend: Server;
  let backendUrl: string;
  const seen: Array<{ authorization?: string; identity?: string; subject?: string }> = [];

  beforeAll(async () => {
    idp = await startUpstreamIdp({
      clients: [{ client_id: 'flowgate', client_secret: 'flowgate-upstream-secret', redirect_uris: ['http://127.0.0.1/auth/callback'] }],
    });
    let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
    backend = createServer(async (req, res) => {
      const record: { authorization?: string; identity?: string; subject?: string } = {};
      if (req.headers.authorization) record.authorization = req.headers.authorization;
      const identity = req.headers['x-flowgate-identity'];
      if (typeof identity === 'string') record.identity = identity;
      seen.push(record);
      let subject: string;
      try {
        jwks ??= createRemoteJWKSet(new URL(`${running.url}/.well-known/jwks.json`));
        const { payload } = await jwtVerify(record.identity ?? '', jwks, { issuer: running.url, audience: backendUrl, typ: IDENTITY_JWT_TYPE });
        subject = payload.sub!;
        record.subject = subject;
      } catch {
        res.writeHead(401).end('no identity');
        return;
      }
      const server = new McpServer({ name: 'backend', version: '0.0.0' });
      server.registerTool('whoami', { description: 'who' }, () => ({ content: [{ type: 'text', text: subject }] }));
      server.registerTool(
        'count',
        { description: 'counts with progress', inputSchema: { to: z.number() } },
        async ({ to }, extra) => {
          for (let i = 1; i <= to; i++) {
            await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: extra._meta?.progressToken ?? 0, progress: i, total: to } });
            await new Promise((r) => setTimeout(r, 20));
          }
          return { content: [{ type: 'text', text: `counted to ${to}` }] };
        },
      );
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => void transport.close());
      await server.connect(transport);
      await transport.handleRequest(req, res);
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
    backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/mcp`;
    const config = parseConfig({
      values: {
        masterKey: generateMasterKeyText(),
        store: { sqlitePath: ':memory:' },
        serve: { port: 0, logLevel: 'silent' },
        upstream: { kind: 'oidc', issuer: idp.issuer, clientId: 'flowgate', clientSecret: 'flowgate-upstream-secret', scopes: ['openid', 'email'] },
      },
    });
    running = await startServer(config, {
      logger: testLogger(),
      configure: (url) =>
        parseConfig({
          values: {
            ...config,
            server: { ...config.server, issuer: url, resources: [{ uri: `${url}/mcp` }] },
            gateway: { routes: [{ resource: `${url}/mcp`, target: backendUrl, identity: 'jwt' }] },
          },
        }),
    });
  });
  afterAll(async () => {
    await running?.close();
    await new Promise<void>((r) => backend?.close(() => r()));
    await idp?.close();
  });

  it('refuses an unauthenticated request without reaching the MCP server', async () => {
    const before = seen.length;
    const response = await fetch(`${running.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }),
    });
    expect(response.status).toBe(401);
    // The challenge names what to ask for (RFC 6750 §3): the route requires nothing, so the resource's scopes.
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer scope="mcp:tools", resource_metadata="${running.url}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect(seen.length).toBe(before);
  });

  it('forwards an authorized MCP session, streaming progress, with the identity and never the bearer token', async () => {
    const provider = new HeadlessOAuthProvider({ browser: new HeadlessBrowser() });
    const connect = async () => {
      const client = new Client({ name: 'gateway-e2e', version: '0.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${running.url}/mcp`), { authProvider: provider }));
      return client;
    };
    let client: Client;
    try {
      client = await connect();
    } catch (error) {
      expect(error).toBeInstanceOf(UnauthorizedError);
      const transport = new StreamableHTTPClientTransport(new URL(`${running.url}/mcp`), { authProvider: provider });
      await transport.finishAuth(provider.takeAuthorizationCode());
      client = await connect();
    }
    const who = await client.callTool({ name: 'whoami', arguments: {} });
    expect((who.content as Array<{ text: string }>)[0]!.text).toBe('alice');
    const progress: number[] = [];
    const counted = await client.callTool({ name: 'count', arguments: { to: 5 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect((counted.content as Array<{ text: string }>)[0]!.text).toBe('counted to 5');
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    await client.close();
    const forwarded = seen.filter((s) => s.subject === 'alice');
    expect(forwarded.length).toBeGreaterThan(0);
    expect(forwarded.every((s) => s.authorization === undefined)).toBe(true);
  });

  it("puts the request id in the metadata of the events the request caused (the caller's X-Request-Id, when well-formed)", async () => {
    const response = await fetch(`${running.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'audit-trail-42' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:9999/callback'], token_endpoint_auth_method: 'none', client_name: 'correlated' }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe('audit-trail-42');
    const { client_id: clientId } = (await response.json()) as any;
    const events = await running.flowgate.store.readStream(`client:${clientId}`);
    expect(events.map((e) => [e.type, e.metadata.correlationId])).toEqual([['client.registered', 'audit-trail-42']]);
  });

  it('on loopback, refuses a browser request from a foreign Origin, and accepts loopback pages (an MCP Inspector)', async () => {
    const from = (origin: string) => fetch(`${running.url}/.well-known/oauth-authorization-server`, { headers: { origin } });
    const foreign = await from('https://evil.example');
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as any).error_description).toBe('unexpected Origin header');
    expect((await from('null')).status).toBe(403);
    for (const origin of ['http://localhost:6274', 'http://127.0.0.1:6274', new URL(running.url).origin]) {
      expect((await from(origin)).status, origin).toBe(200);
    }
  });

  it('serves /healthz and Prometheus /metrics, and refuses a foreign Host (DNS rebinding)', async () => {
    expect(await (await fetch(`${running.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const metrics = await (await fetch(`${running.url}/metrics`)).text();
    expect(metrics).toContain('flowgate_flows_total{outcome="completed"}');
    expect(metrics).toContain('flowgate_http_request_duration_seconds_bucket');
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${running.url}/healthz`, { headers: { host: `evil.example:${new URL(running.url).port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
  });
});

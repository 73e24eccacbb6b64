/**
 * flowgate and an MCP server on ONE origin (127.0.0.1, ephemeral port), in front of a real
 * upstream IdP, for end-to-end tests with the official MCP SDK client:
 *
 * - `<origin>/mcp` → flowgate's `bearerGuard` → the SDK's `McpServer` (tools `whoami`,
 *   `echo`) on a stateless `StreamableHTTPServerTransport`, `extra.authInfo` built by
 *   `toAuthInfo` from `src/resource/mcp-sdk.ts`;
 * - everything else → `flowgate.fetch` (metadata, PRM for `<origin>/mcp`, register,
 *   authorize, consent, callback, token, revoke, …).
 *
 * Mirrors `startProxy` (test/support/proxy.ts): listen first to learn the issuer URL, start
 * the IdP with flowgate's callback registered, then create flowgate with that issuer. The
 * clock flowgate sees is injectable (`clock.advance(seconds)`), so tokens expire without
 * waiting.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { z } from 'zod';
import type { FlowgateConfigInput } from '../../../src/config/schema.js';
import { generateMasterKeyText } from '../../../src/crypto/master-key.js';
import { startUpstreamIdp, type UpstreamIdp, type UpstreamIdpOptions } from '../../../src/demo/upstream-idp.js';
import { createFlowgate, type Flowgate } from '../../../src/flowgate.js';
import { bearerGuard } from '../../../src/resource/bearer-guard.js';
import { toAuthInfo } from '../../../src/resource/mcp-sdk.js';
import { testLogger } from '../proxy.js';

/** A clock that can be moved forward (milliseconds since the epoch). */
export interface TestClock {
  now(): number;
  /** Moves flowgate's time forward. */
  advance(seconds: number): void;
  /** How far flowgate's time is ahead of the real one, in seconds. */
  readonly offsetSeconds: number;
}

/** One request the node server answered (any caller: SDK client, browser, test). */
export interface ServerLogEntry {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/** A running stack. */
export interface McpStack {
  /** flowgate's issuer, and the MCP server's origin. */
  readonly url: string;
  /** The MCP endpoint (`<url>/mcp`), the resource. */
  readonly mcpUrl: string;
  readonly resourceMetadataUrl: string;
  readonly idp: UpstreamIdp;
  readonly flowgate: Flowgate;
  readonly clock: TestClock;
  /** Every request the node server answered, oldest first. */
  readonly serverLog: ServerLogEntry[];
  /** Moves the clock past the access-token lifetime plus the verifier's clock skew. */
  expireAccessTokens(): void;
  close(): Promise<void>;
}

/** Options of {@link startMcpStack}. */
export interface McpStackOptions {
  /** Extra flowgate configuration (merged over the base; `server` merged one level). */
  readonly config?: (base: { url: string; idp: UpstreamIdp }) => Partial<FlowgateConfigInput>;
  /** Upstream IdP options (the ID-token lifetime defaults to 1 h here). */
  readonly idp?: Partial<UpstreamIdpOptions>;
  /** Scopes the MCP endpoint requires. */
  readonly requiredScopes?: readonly string[];
}

function testClock(): TestClock {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    advance(seconds) {
      offsetMs += seconds * 1000;
    },
    get offsetSeconds() {
      return offsetMs / 1000;
    },
  };
}

function webHeaders(headers: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
  }
  return out;
}

async function sendWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, headers);
  res.end(body);
}

/** The MCP server the test talks to: `whoami` tells the caller who flowgate says it is. */
export function buildMcpServer(): McpServer {
  const server = new McpServer({ name: 'flowgate-e2e-mcp', version: '0.0.0' });
  server.registerTool(
    'whoami',
    { description: "The caller as flowgate's bearer guard saw it: subject, client id and scopes." },
    (extra) => {
      const auth: AuthInfo | undefined = extra.authInfo;
      const who = {
        subject: auth?.extra?.subject ?? null,
        clientId: auth?.clientId ?? null,
        scopes: auth?.scopes ?? [],
        resource: auth?.resource?.href ?? null,
        expiresAt: auth?.expiresAt ?? null,
        grantId: auth?.extra?.grantId ?? null,
      };
      return { content: [{ type: 'text', text: JSON.stringify(who) }] };
    },
  );
  server.registerTool(
    'echo',
    { description: 'Echoes its argument.', inputSchema: { text: z.string() } },
    ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

/** Starts the IdP, flowgate and the MCP endpoint on one origin. */
export async function startMcpStack(options: McpStackOptions = {}): Promise<McpStack> {
  const serverLog: ServerLogEntry[] = [];
  let handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async (_req, res) => {
    res.writeHead(503).end('starting');
  };
  const server = createServer((req, res) => {
    res.on('finish', () => serverLog.push({ method: req.method ?? '?', path: (req.url ?? '').split('?')[0]!, status: res.statusCode }));
    handle(req, res).catch((error: unknown) => {
      console.error('mcp stack: request failed', error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const mcpUrl = `${url}/mcp`;
  const resourceMetadataUrl = `${url}/.well-known/oauth-protected-resource/mcp`;

  const idp = await startUpstreamIdp({
    mode: 'oidc',
    clients: [{ client_id: 'flowgate', client_secret: 'flowgate-upstream-secret', redirect_uris: [`${url}/auth/callback`] }],
    // flowgate checks the upstream ID token's `exp` with its own (advanced) clock: the demo
    // IdP's 60 s ID tokens would look expired once the test moves flowgate's clock.
    ...options.idp,
    ttl: { IdToken: 3600, ...options.idp?.ttl },
  });
  const clock = testClock();
  const base: FlowgateConfigInput = {
    dataDir: '.flowgate-test-unused',
    masterKey: generateMasterKeyText(),
    server: { issuer: url },
    store: { sqlitePath: ':memory:', synchronous: 'NORMAL' },
    upstream: {
      kind: 'oidc',
      issuer: idp.issuer,
      clientId: 'flowgate',
      clientSecret: 'flowgate-upstream-secret',
      scopes: ['openid', 'email', 'profile', 'offline_access'],
    },
  };
  const extra = options.config?.({ url, idp }) ?? {};
  let flowgate: Flowgate;
  try {
    flowgate = await createFlowgate(
      { ...base, ...extra, server: { ...base.server, ...(extra.server ?? {}) } } as FlowgateConfigInput,
      { logger: testLogger(), clock: clock.now },
    );
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await idp.close();
    throw error;
  }

  const guard = bearerGuard({
    verify: (token, verifyOptions) => flowgate.verifyAccessToken(token, verifyOptions),
    resource: mcpUrl,
    resourceMetadataUrl,
    ...(options.requiredScopes ? { requiredScopes: options.requiredScopes } : {}),
  });
  // overrideGlobalObjects: false — by default @hono/node-server replaces the global
  // Request/Response of this process with its own classes; the SDK client running in the same
  // process then fails `response instanceof Response` in parseErrorResponse and turns every
  // OAuth error (invalid_grant, temporarily_unavailable) into a ServerError.
  const toFlowgate = getRequestListener((request, env) => flowgate.fetch(request, env), { overrideGlobalObjects: false });

  const mcp = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const request = new Request(new URL(req.url ?? '/', url), { method: req.method ?? 'GET', headers: webHeaders(req.headers) });
    const verdict = await guard(request);
    if (!verdict.ok) {
      req.resume();
      await sendWebResponse(res, verdict.response);
      return;
    }
    if (req.method !== 'POST') {
      // Stateless: no standalone SSE stream (GET) and no session to delete (reference §7 item 14).
      req.resume();
      res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null }));
      return;
    }
    const token = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')![1]!;
    const mcpServer = buildMcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void mcpServer.close();
    });
    await mcpServer.connect(transport);
    await transport.handleRequest(Object.assign(req, { auth: toAuthInfo(token, verdict.auth) }), res);
  };

  handle = async (req, res) => {
    const path = new URL(req.url ?? '/', url).pathname;
    if (path === '/mcp') return mcp(req, res);
    await toFlowgate(req, res);
  };

  return {
    url,
    mcpUrl,
    resourceMetadataUrl,
    idp,
    flowgate,
    clock,
    serverLog,
    expireAccessTokens() {
      clock.advance(flowgate.config.tokens.accessTokenTtlSeconds + flowgate.config.keys.clockSkewSeconds + 1);
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await idp.close();
      await flowgate.close();
    },
  };
}

/**
 * The demo MCP server at `/mcp`: the SDK's `McpServer` with two tools, `whoami` (the
 * caller as flowgate verified it: upstream subject, client id, scopes) and `echo`, served
 * statelessly by the SDK's web-standard Streamable HTTP transport (one server and one
 * transport per request, JSON responses) behind flowgate's bearer guard.
 *
 * @module
 */
import { z } from 'zod';
import type { Flowgate } from '../../flowgate.js';
import { authInfoOf, bearerOf } from '../../resource/auth-info.js';
import type { BearerOutcome } from '../../resource/bearer-guard.js';
import { guardFor } from '../../resource/node-http.js';
import type { ExtraRoute } from '../../server/serve.js';
import type { DemoSdk } from './dependencies.js';

/** The path of the demo MCP server. */
export const MCP_PATH = '/mcp';

/** The scope every call needs. */
export const MCP_SCOPE = 'mcp:tools';

/** What `whoami` answers. */
export interface WhoamiAnswer {
  /** The user: the upstream IdP's subject. */
  readonly subject: string | null;
  readonly clientId: string | null;
  readonly scopes: readonly string[];
  readonly resource: string | null;
  /** Seconds since the epoch. */
  readonly expiresAt: number | null;
  readonly grantId: string | null;
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'WWW-Authenticate, Mcp-Session-Id',
};

function withCors(response: Response): Response {
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(CORS)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

function jsonRpcError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** The demo's `McpServer` (a new one per request: stateless). */
export function buildDemoMcpServer(sdk: DemoSdk, version: string): InstanceType<DemoSdk['McpServer']> {
  const server = new sdk.McpServer(
    { name: 'flowgate-demo', version },
    { instructions: 'A demo MCP server behind flowgate. `whoami` tells who flowgate says you are; `echo` echoes.' },
  );
  server.registerTool(
    'whoami',
    {
      title: 'Who am I?',
      description: "The caller as flowgate verified the access token: the upstream user's subject, the OAuth client id and the granted scopes.",
    },
    (extra) => {
      const auth = extra.authInfo;
      const answer: WhoamiAnswer = {
        subject: typeof auth?.extra?.subject === 'string' ? auth.extra.subject : null,
        clientId: auth?.clientId ?? null,
        scopes: auth?.scopes ?? [],
        resource: auth?.resource?.href ?? null,
        expiresAt: auth?.expiresAt ?? null,
        grantId: typeof auth?.extra?.grantId === 'string' ? auth.extra.grantId : null,
      };
      return { content: [{ type: 'text', text: JSON.stringify(answer) }] };
    },
  );
  server.registerTool(
    'echo',
    { title: 'Echo', description: 'Echoes its text argument.', inputSchema: { text: z.string().max(10_000) } },
    ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

/**
 * The `/mcp` route: CORS preflight (so browser-based clients such as the MCP Inspector's
 * direct mode work), then flowgate's bearer guard (401 with `WWW-Authenticate` pointing at
 * the protected-resource metadata, 403 without `mcp:tools`), then the SDK transport.
 */
export function demoMcpRoute(options: { readonly sdk: DemoSdk; readonly flowgate: () => Flowgate | undefined; readonly version: string }): ExtraRoute {
  let guard: ((request: Request) => Promise<BearerOutcome>) | undefined;
  return async (request, url) => {
    if (url.pathname !== MCP_PATH) return undefined;
    if (request.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: {
          ...CORS,
          'Access-Control-Allow-Methods': 'POST, GET, DELETE, OPTIONS',
          'Access-Control-Allow-Headers': 'Authorization, Content-Type, Accept, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID',
          'Access-Control-Max-Age': '86400',
        },
      });
    }
    const flowgate = options.flowgate();
    if (!flowgate) return jsonRpcError(503, 'the demo is starting');
    guard ??= guardFor(flowgate, { requiredScopes: [MCP_SCOPE] });
    const verdict = await guard(request);
    if (!verdict.ok) return withCors(verdict.response);
    if (request.method !== 'POST') {
      // Stateless: no standalone SSE stream (GET) and no session to delete (DELETE).
      return withCors(jsonRpcError(405, 'Method not allowed: this stateless server answers POST only.', { Allow: 'POST, OPTIONS' }));
    }
    const server = buildDemoMcpServer(options.sdk, options.version);
    const transport = new options.sdk.WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    try {
      await server.connect(transport);
      const auth = authInfoOf(bearerOf(request.headers.get('authorization')), verdict.auth);
      return withCors(await transport.handleRequest(request, { authInfo: auth }));
    } finally {
      // JSON responses are complete once handleRequest resolves.
      void transport.close().catch(() => {});
      void server.close().catch(() => {});
    }
  };
}

/**
 * flowgate embedded in a Hono application next to an MCP server: `flowgateHono` serves
 * flowgate's endpoints, `flowgateBearer` guards the MCP endpoint (RFC 6750 bearer tokens;
 * 401 with `WWW-Authenticate: Bearer resource_metadata=…` per RFC 9728 §5.1) and sets
 * `c.get('flowgateAuth')`, which the MCP SDK's web-standard Streamable HTTP transport hands
 * to tools as `extra.authInfo`.
 *
 * Run it: `node --import tsx examples/hono.ts --config flowgate.config.json`
 * (docs/embedding/hono.md). Tests: test/adapters/examples.e2e.test.ts.
 *
 * @module
 */
import { getRequestListener } from '@hono/node-server';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { createFlowgate } from 'flowgate';
import { flowgateBearer, flowgateHono, type FlowgateVariables } from 'flowgate/hono';
import { Hono } from 'hono';
import { listen, running, withIssuer, type RunningExample, type StartOptions } from './support/listen.js';
import { isMain, runFromCommandLine } from './support/main.js';
import { whoamiServer } from './support/whoami-server.js';

/** Starts flowgate and the MCP server in one Hono application. */
export async function start(options: StartOptions): Promise<RunningExample> {
  const http = await listen(options);
  const flowgate = await createFlowgate(withIssuer(options.config, http.url), options.flowgate);
  try {
    // #region app
    const mcpPath = new URL(flowgate.settings.defaultResource).pathname; // '/mcp'
    const app = new Hono<{ Variables: FlowgateVariables }>();
    // flowgate's own endpoints; everything else goes on to the routes below.
    app.use(flowgateHono(flowgate));
    // The MCP endpoint: a bearer token for this resource with the scope mcp:tools, or 401/403.
    app.use(mcpPath, flowgateBearer(flowgate, { requiredScopes: ['mcp:tools'] }));
    app.post(mcpPath, async (c) => {
      const server = whoamiServer();
      const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      await server.connect(transport);
      try {
        return await transport.handleRequest(c.req.raw, { authInfo: c.get('flowgateAuth') });
      } finally {
        // JSON responses are complete once handleRequest resolves.
        void transport.close();
        void server.close();
      }
    });
    // Stateless: no event stream to GET, no session to DELETE.
    app.all(mcpPath, (c) => c.body(null, 405, { Allow: 'POST' }));
    // #endregion app
    // Keep the global Request/Response (an MCP SDK client in the same process checks them).
    http.serve(getRequestListener(app.fetch, { overrideGlobalObjects: false }));
  } catch (error) {
    await http.close();
    await flowgate.close();
    throw error;
  }
  return running(http, flowgate);
}

if (isMain(import.meta.url)) await runFromCommandLine('hono example', start);

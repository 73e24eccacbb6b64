/**
 * flowgate embedded in an Express application next to an MCP server: `flowgateExpress`
 * serves flowgate's endpoints (metadata, registration, authorize, consent, callback, token,
 * revoke, …), `requireFlowgateAuth` guards the MCP endpoint (RFC 6750 bearer tokens; 401
 * with `WWW-Authenticate: Bearer resource_metadata=…` per RFC 9728 §5.1) and puts the caller
 * on `req.auth`, which the MCP SDK's `StreamableHTTPServerTransport` hands to tools.
 *
 * Run it: `node --import tsx examples/express.ts --config flowgate.config.json`
 * (docs/embedding/express.md). Tests: test/adapters/examples.e2e.test.ts.
 *
 * @module
 */
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { createFlowgate } from 'flowgate';
import { flowgateExpress, requireFlowgateAuth } from 'flowgate/express';
import { listen, running, withIssuer, type RunningExample, type StartOptions } from './support/listen.js';
import { isMain, runFromCommandLine } from './support/main.js';
import { whoamiServer } from './support/whoami-server.js';

/** Starts flowgate and the MCP server in one Express application. */
export async function start(options: StartOptions): Promise<RunningExample> {
  const http = await listen(options);
  const flowgate = await createFlowgate(withIssuer(options.config, http.url), options.flowgate);
  try {
    // #region app
    const mcpPath = new URL(flowgate.settings.defaultResource).pathname; // '/mcp'
    const app = express();
    // flowgate's own endpoints; mount it before any body parser (it reads the raw body).
    app.use(flowgateExpress(flowgate));
    // The MCP endpoint: a bearer token for this resource with the scope mcp:tools, or 401/403.
    app.all(mcpPath, requireFlowgateAuth(flowgate, { requiredScopes: ['mcp:tools'] }));
    app.post(mcpPath, express.json(), async (req, res) => {
      const server = whoamiServer();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body); // req.auth → the tools' extra.authInfo
    });
    // Stateless: no event stream to GET, no session to DELETE.
    app.all(mcpPath, (_req, res) => void res.status(405).set('Allow', 'POST').end());
    // #endregion app
    http.serve(app);
  } catch (error) {
    await http.close();
    await flowgate.close();
    throw error;
  }
  return running(http, flowgate);
}

if (isMain(import.meta.url)) await runFromCommandLine('express example', start);

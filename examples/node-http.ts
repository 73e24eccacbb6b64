/**
 * flowgate embedded in a plain `node:http` server next to an MCP server: `flowgateListener`
 * serves flowgate's endpoints and hands every other request to the application, whose MCP
 * endpoint `nodeBearerGuard` protects (RFC 6750 bearer tokens; 401 with
 * `WWW-Authenticate: Bearer resource_metadata=…` per RFC 9728 §5.1). The caller goes on
 * `req.auth`, which the MCP SDK's `StreamableHTTPServerTransport` hands to tools.
 *
 * Run it: `node --import tsx examples/node-http.ts --config flowgate.config.json`
 * (docs/embedding/node-http.md). Tests: test/adapters/examples.e2e.test.ts.
 *
 * @module
 */
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createFlowgate } from 'flowgate';
import { flowgateListener, nodeBearerGuard, type NodeHandler } from 'flowgate/node';
import { listen, running, withIssuer, type RunningExample, type StartOptions } from './support/listen.js';
import { isMain, runFromCommandLine } from './support/main.js';
import { whoamiServer } from './support/whoami-server.js';

/** Starts flowgate and the MCP server in one `node:http` server. */
export async function start(options: StartOptions): Promise<RunningExample> {
  const http = await listen(options);
  const flowgate = await createFlowgate(withIssuer(options.config, http.url), options.flowgate);
  try {
    // #region app
    const mcpPath = new URL(flowgate.settings.defaultResource).pathname; // '/mcp'
    const guard = nodeBearerGuard(flowgate, { requiredScopes: ['mcp:tools'] });
    // Everything that is not one of flowgate's endpoints.
    const application: NodeHandler = async (req, res) => {
      if (new URL(req.url ?? '/', 'http://localhost').pathname !== mcpPath) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const auth = await guard(req, res); // undefined: the guard has answered 401/403
      if (!auth) return;
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end(); // stateless: no event stream to GET, no session to DELETE
        return;
      }
      const server = whoamiServer();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(Object.assign(req, { auth }), res); // auth → the tools' extra.authInfo
    };
    // flowgate's endpoints first; every other request goes to the application.
    const listener = flowgateListener(flowgate, application);
    http.serve((req, res) => {
      Promise.resolve(listener(req, res)).catch((error: unknown) => {
        console.error('request failed', error);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    // #endregion app
  } catch (error) {
    await http.close();
    await flowgate.close();
    throw error;
  }
  return running(http, flowgate);
}

if (isMain(import.meta.url)) await runFromCommandLine('node:http example', start);

/**
 * flowgate next to an MCP server built the MCP TypeScript SDK's own way: the SDK's Express
 * app (`createMcpExpressApp`), its `requireBearerAuth` middleware with flowgate's token check
 * as the `OAuthTokenVerifier` (`mcpTokenVerifier` from `flowgate/mcp-sdk`), and a
 * `StreamableHTTPServerTransport`. flowgate's endpoints are served by the same `node:http`
 * server, in front of the SDK app (`flowgateListener` from `flowgate/node`), so the SDK app's
 * JSON body parser never sees flowgate's requests.
 *
 * `requireBearerAuth` answers 401 `invalid_token` with
 * `WWW-Authenticate: Bearer …, resource_metadata=…` (RFC 6750 §3, RFC 9728 §5.1) for every
 * token flowgate refuses, and 403 `insufficient_scope` without the required scope.
 *
 * Run it: `node --import tsx examples/mcp-sdk.ts --config flowgate.config.json`
 * (docs/embedding/mcp-sdk.md). Tests: test/adapters/examples.e2e.test.ts.
 *
 * @module
 */
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createFlowgate, protectedResourceMetadataUrl } from 'flowgate';
import { mcpTokenVerifier } from 'flowgate/mcp-sdk';
import { flowgateListener } from 'flowgate/node';
import { listen, running, withIssuer, type RunningExample, type StartOptions } from './support/listen.js';
import { isMain, runFromCommandLine } from './support/main.js';
import { whoamiServer } from './support/whoami-server.js';

/** Starts flowgate and an MCP SDK server in one `node:http` server. */
export async function start(options: StartOptions): Promise<RunningExample> {
  const http = await listen(options);
  const flowgate = await createFlowgate(withIssuer(options.config, http.url), options.flowgate);
  try {
    // #region app
    const resource = flowgate.settings.defaultResource; // '<issuer>/mcp'
    const mcpApp = createMcpExpressApp({ host: options.host ?? '127.0.0.1' }); // JSON parser, DNS-rebinding check
    const mcpPath = new URL(resource).pathname; // '/mcp'
    mcpApp.all(
      mcpPath,
      requireBearerAuth({
        verifier: mcpTokenVerifier((token, o) => flowgate.verifyAccessToken(token, o), { resource }),
        requiredScopes: ['mcp:tools'],
        resourceMetadataUrl: protectedResourceMetadataUrl(resource),
        expectedResource: new URL(resource),
      }),
    );
    mcpApp.post(mcpPath, async (req, res) => {
      const server = whoamiServer();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body); // req.auth (set by requireBearerAuth) → extra.authInfo
    });
    // Stateless: no event stream to GET, no session to DELETE.
    mcpApp.all(mcpPath, (_req, res) => void res.status(405).set('Allow', 'POST').end());
    // flowgate's endpoints first; every other request goes to the SDK app.
    const listener = flowgateListener(flowgate, mcpApp);
    http.serve((req, res) => void listener(req, res));
    // #endregion app
  } catch (error) {
    await http.close();
    await flowgate.close();
    throw error;
  }
  return running(http, flowgate);
}

if (isMain(import.meta.url)) await runFromCommandLine('MCP SDK example', start);

/**
 * The tiny MCP server every example protects: one tool, `whoami`, which answers with the
 * caller as flowgate verified the access token. The MCP SDK's Streamable HTTP transports
 * hand `req.auth` (or `handleRequest(…, { authInfo })`) to tools as `extra.authInfo`
 * (MCP 2025-11-25, Authorization; the SDK's `AuthInfo`).
 *
 * @module
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

/** What `whoami` answers. */
export interface Whoami {
  /** The user: the upstream identity provider's subject. */
  readonly subject: string | null;
  /** The OAuth client (the MCP client's registration at flowgate). */
  readonly clientId: string | null;
  readonly scopes: readonly string[];
  /** The resource the token was issued for (its audience). */
  readonly resource: string | null;
}

// #region whoami
/** A new MCP server with the `whoami` tool (one per request: the examples are stateless). */
export function whoamiServer(): McpServer {
  const server = new McpServer({ name: 'flowgate-example', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Who flowgate says the caller is.' }, (extra) => {
    const auth = extra.authInfo; // flowgate's verified token, from req.auth / { authInfo }
    const who: Whoami = {
      subject: typeof auth?.extra?.subject === 'string' ? auth.extra.subject : null,
      clientId: auth?.clientId ?? null,
      scopes: auth?.scopes ?? [],
      resource: auth?.resource?.href ?? null,
    };
    return { content: [{ type: 'text', text: JSON.stringify(who) }] };
  });
  return server;
}
// #endregion whoami

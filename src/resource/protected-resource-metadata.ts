/**
 * RFC 9728 protected resource metadata for an MCP server on another origin than
 * flowgate: the MCP server serves this document at
 * `/.well-known/oauth-protected-resource<path>` on its own origin, and its bearer guard's
 * `resource_metadata` points there.
 *
 * @module
 */

/** What the document says. */
export interface ProtectedResourceMetadataOptions {
  /** The resource identifier (exactly as configured in flowgate). */
  readonly resource: string;
  /** flowgate's issuer. */
  readonly authorizationServer: string;
  readonly scopesSupported?: readonly string[];
  readonly resourceName?: string;
}

/** The well-known URL of a resource's metadata (RFC 9728 §3.1). */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/** A handler that serves the document (with CORS, as browser MCP clients need). */
export function protectedResourceMetadataHandler(options: ProtectedResourceMetadataOptions): (request: Request) => Response {
  const body = JSON.stringify({
    resource: options.resource,
    authorization_servers: [options.authorizationServer],
    bearer_methods_supported: ['header'],
    ...(options.scopesSupported ? { scopes_supported: options.scopesSupported } : {}),
    ...(options.resourceName ? { resource_name: options.resourceName } : {}),
  });
  return (request) => {
    const cors = {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'GET, OPTIONS',
      'Access-Control-Allow-Headers': 'MCP-Protocol-Version, Content-Type, Authorization',
    };
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: cors });
    return new Response(body, { status: 200, headers: { ...cors, 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' } });
  };
}

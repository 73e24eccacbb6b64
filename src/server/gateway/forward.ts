/**
 * Gateway mode: a configured resource path on flowgate's origin is guarded by the bearer
 * guard and forwarded to the MCP server's URL — request and response bodies stream
 * (Streamable HTTP and SSE), the client's `Authorization`, cookies and any `X-Flowgate-*`
 * headers it sent are removed, and the caller's identity is added (see identity.ts). The
 * upstream access token is passed only when the route says so.
 *
 * @module
 */
import type { z } from 'zod';
import type { gatewayRouteSchema } from '../../config/serve-schema.js';
import type { Flowgate } from '../../flowgate.js';
import { ConfigError } from '../../config/errors.js';
import { bearerGuard } from '../../resource/bearer-guard.js';
import { protectedResourceMetadataUrl } from '../../resource/protected-resource-metadata.js';
import { IDENTITY_HEADERS, identityHeaders, identityJwt } from './identity.js';

type Route = z.output<typeof gatewayRouteSchema>;

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length'];

/** A forwarder for one route. */
export interface GatewayRoute {
  /** The path on flowgate's origin this route serves. */
  readonly path: string;
  handle(request: Request): Promise<Response>;
}

/** Builds the forwarder of a route. */
export function gatewayRoute(flowgate: Flowgate, route: Route, options: { identitySecret?: string; timeoutMs: number; clock: () => number }): GatewayRoute {
  const configured = flowgate.settings.resources.find((r) => r.uri === route.resource);
  const resource = configured?.uri;
  if (!resource) {
    const known = flowgate.settings.resources.map((r) => r.uri).join(', ');
    throw new ConfigError([{ path: 'gateway.routes[].resource', message: `${route.resource} is not one of server.resources (${known})` }]);
  }
  if (route.identity === 'headers' && !options.identitySecret) {
    throw new ConfigError([
      { path: 'gateway.identitySecret', message: `route ${route.resource} passes the identity in signed headers, which needs gateway.identitySecret (or FLOWGATE_GATEWAY_IDENTITY_SECRET)` },
    ]);
  }
  const guard = bearerGuard({
    verify: (token, o) => flowgate.verifyAccessToken(token, o),
    resource,
    resourceMetadataUrl: protectedResourceMetadataUrl(resource),
    requiredScopes: route.requiredScopes,
    // RFC 6750 §3 `scope`: what the route requires, else what the resource offers (as the adapters do).
    challengeScopes: route.requiredScopes.length > 0 ? route.requiredScopes : configured.scopes,
  });
  const path = new URL(resource).pathname;
  const target = new URL(route.target);
  return {
    path,
    async handle(request) {
      const outcome = await guard(request);
      if (!outcome.ok) return outcome.response;
      const auth = outcome.auth;
      const incoming = new URL(request.url);
      const url = new URL(target);
      if (incoming.pathname.length > path.length) url.pathname = `${target.pathname.replace(/\/$/, '')}${incoming.pathname.slice(path.length)}`;
      url.search = incoming.search;
      const headers = new Headers(request.headers);
      for (const name of [...HOP_BY_HOP, 'authorization', 'cookie', ...IDENTITY_HEADERS]) headers.delete(name);
      const now = options.clock();
      if (route.identity === 'jwt') {
        const key = await flowgate.keyring.activeAccessTokenKey();
        headers.set('x-flowgate-identity', await identityJwt(key, flowgate.settings.issuer, url.origin + url.pathname, auth, now));
      } else {
        for (const [k, v] of Object.entries(identityHeaders(options.identitySecret!, auth, request.method, url.pathname, now))) headers.set(k, v);
      }
      if (route.forwardUpstreamToken) headers.set('x-flowgate-upstream-token', await auth.upstreamAccessToken());
      const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
      let response: Response;
      try {
        response = await fetch(url, {
          method: request.method,
          headers,
          ...(hasBody ? { body: request.body, duplex: 'half' } : {}),
          redirect: 'manual',
          signal: AbortSignal.timeout(options.timeoutMs),
        } as RequestInit);
      } catch {
        return new Response(JSON.stringify({ error: 'temporarily_unavailable', error_description: 'the MCP server is not reachable' }), {
          status: 502,
          headers: { 'Content-Type': 'application/json' },
        });
      }
      const out = new Headers(response.headers);
      for (const name of HOP_BY_HOP) out.delete(name);
      out.delete('content-encoding');
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers: out });
    },
  };
}

/**
 * flowgate on plain `node:http`: a request listener that serves flowgate's endpoints and
 * hands everything else to the application, and a bearer guard for the application's MCP
 * endpoint.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createFlowgate } from 'flowgate';
 * import { flowgateListener, nodeBearerGuard } from 'flowgate/node';
 *
 * const flowgate = await createFlowgate(config);
 * const guard = nodeBearerGuard(flowgate, { requiredScopes: ['mcp:tools'] });
 * createServer(flowgateListener(flowgate, async (req, res) => {
 *   const auth = await guard(req, res);   // answered 401/403 itself when it returns undefined
 *   if (auth) mcpTransport.handleRequest(Object.assign(req, { auth }), res);
 * })).listen(8787, '127.0.0.1');
 * ```
 *
 * @module
 */
import { getRequestListener } from '@hono/node-server';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Flowgate } from '../flowgate.js';
import { authInfoOf, bearerOf, type FlowgateAuthInfo } from './auth-info.js';
import { bearerGuard } from './bearer-guard.js';
import { protectedResourceMetadataUrl } from './protected-resource-metadata.js';

/** A `node:http` request handler. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Serves flowgate's endpoints; other requests go to `next` (404 when there is none). */
export function flowgateListener(flowgate: Pick<Flowgate, 'fetch' | 'handles'>, next?: NodeHandler): NodeHandler {
  // The env ({ incoming, outgoing }) carries the socket: flowgate counts registrations per client address.
  const listener = getRequestListener((request, env) => flowgate.fetch(request, env), { overrideGlobalObjects: false });
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (flowgate.handles(url) || !next) return listener(req, res);
    return next(req, res);
  };
}

/** Options of a guard. */
export interface GuardOptions {
  /** The resource this endpoint is (default: flowgate's default resource). */
  readonly resource?: string;
  /** Scopes every request needs (403 `insufficient_scope` otherwise). */
  readonly requiredScopes?: readonly string[];
  /**
   * The scopes the 401/403 challenges name as `scope` (RFC 6750 §3), i.e. what an MCP client
   * requests. Default: `requiredScopes` when there are any, otherwise the resource's
   * supported scopes (its `scopes_supported` in the protected resource metadata).
   */
  readonly challengeScopes?: readonly string[];
  /** Where this resource's metadata is served (default: the RFC 9728 URL on the resource's origin). */
  readonly resourceMetadataUrl?: string;
}

/** Makes the web-standard guard of an endpoint from flowgate and options. */
export function guardFor(flowgate: Pick<Flowgate, 'verifyAccessToken' | 'settings'>, options: GuardOptions = {}) {
  const resource = options.resource ?? flowgate.settings.defaultResource;
  const required = options.requiredScopes ?? [];
  const supported = flowgate.settings.resources.find((r) => r.uri === resource)?.scopes ?? [];
  return bearerGuard({
    verify: (token, o) => flowgate.verifyAccessToken(token, o),
    resource,
    resourceMetadataUrl: options.resourceMetadataUrl ?? protectedResourceMetadataUrl(resource),
    requiredScopes: required,
    challengeScopes: options.challengeScopes ?? (required.length > 0 ? required : supported),
  });
}

/** A guard for `node:http`: resolves to the caller, or answers 401/403 and resolves to undefined. */
export function nodeBearerGuard(
  flowgate: Pick<Flowgate, 'verifyAccessToken' | 'settings'>,
  options: GuardOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<FlowgateAuthInfo | undefined> {
  const guard = guardFor(flowgate, options);
  return async (req, res) => {
    const headers = new Headers();
    if (req.headers.authorization) headers.set('authorization', req.headers.authorization);
    const outcome = await guard(new Request(new URL(req.url ?? '/', 'http://local'), { headers }));
    if (outcome.ok) return authInfoOf(bearerOf(req.headers.authorization), outcome.auth);
    res.statusCode = outcome.response.status;
    outcome.response.headers.forEach((value, key) => res.setHeader(key, value));
    res.end(await outcome.response.text());
    return undefined;
  };
}

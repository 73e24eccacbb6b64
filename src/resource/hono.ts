/**
 * flowgate in a Hono application: middleware that serves flowgate's endpoints, and a
 * bearer middleware that puts the caller in the context (`c.get('flowgateAuth')`).
 *
 * @example
 * ```ts
 * import { Hono } from 'hono';
 * import { createFlowgate } from 'flowgate';
 * import { flowgateHono, flowgateBearer } from 'flowgate/hono';
 *
 * const flowgate = await createFlowgate(config);
 * const app = new Hono();
 * app.use(flowgateHono(flowgate));
 * app.all('/mcp', flowgateBearer(flowgate), (c) => handleMcp(c.req.raw, c.get('flowgateAuth')));
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from 'hono';
import type { Flowgate } from '../flowgate.js';
import { authInfoOf, bearerOf, type FlowgateAuthInfo } from './auth-info.js';
import { guardFor, type GuardOptions } from './node-http.js';

/** The context variables the bearer middleware sets. */
export type FlowgateVariables = { flowgateAuth: FlowgateAuthInfo };

/** Serves flowgate's own endpoints; passes everything else on. */
export function flowgateHono(flowgate: Pick<Flowgate, 'fetch' | 'handles'>): MiddlewareHandler {
  return async (c, next) => {
    // c.env (on Node: { incoming, outgoing }) carries the socket: flowgate counts registrations per client address.
    if (flowgate.handles(new URL(c.req.url))) return flowgate.fetch(c.req.raw, c.env);
    await next();
    return undefined;
  };
}

/** Requires a valid flowgate access token; sets `flowgateAuth`, or answers 401/403. */
export function flowgateBearer(
  flowgate: Pick<Flowgate, 'verifyAccessToken' | 'settings'>,
  options: GuardOptions = {},
): MiddlewareHandler<{ Variables: FlowgateVariables }> {
  const guard = guardFor(flowgate, options);
  return async (c, next) => {
    const outcome = await guard(c.req.raw);
    if (!outcome.ok) return outcome.response;
    c.set('flowgateAuth', authInfoOf(bearerOf(c.req.header('authorization')), outcome.auth));
    await next();
    return undefined;
  };
}

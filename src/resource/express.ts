/**
 * flowgate in an Express application: a middleware that serves flowgate's endpoints (mount
 * it before body parsers), and a bearer middleware that puts the caller on `req.auth` (the
 * shape the MCP SDK's `StreamableHTTPServerTransport` passes to tools).
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { createFlowgate } from 'flowgate';
 * import { flowgateExpress, requireFlowgateAuth } from 'flowgate/express';
 *
 * const flowgate = await createFlowgate(config);
 * const app = express();
 * app.use(flowgateExpress(flowgate));
 * app.post('/mcp', requireFlowgateAuth(flowgate), express.json(), (req, res) => transport.handleRequest(req, res, req.body));
 * ```
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FlowgateError } from '../errors/flowgate-error.js';
import type { Flowgate } from '../flowgate.js';
import type { FlowgateAuthInfo } from './auth-info.js';
import { flowgateListener, nodeBearerGuard, type GuardOptions } from './node-http.js';

/** What {@link requireFlowgateAuth} puts on `req.auth` (the MCP SDK's `AuthInfo` shape). */
export type { FlowgateAuthInfo };

/**
 * The Express middleware signature, without depending on Express's types. `auth` is
 * `unknown` here so that the middleware fits an Express `Request` whatever declares its
 * `auth` (the MCP SDK's `requireBearerAuth` types it as the SDK's `AuthInfo`, which a
 * {@link FlowgateAuthInfo} is).
 */
export type ExpressMiddleware = (req: IncomingMessage & { auth?: unknown }, res: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * Serves flowgate's own endpoints; passes everything else on. Mount it before any body
 * parser: flowgate reads the raw body. When a parser has already consumed it (such as the
 * `express.json()` that the MCP SDK's `createMcpExpressApp()` installs), flowgate's request is
 * failed with `ERR_BODY_ALREADY_READ` instead of being answered as if it had no body.
 */
export function flowgateExpress(flowgate: Pick<Flowgate, 'fetch' | 'handles'>): ExpressMiddleware {
  const listener = flowgateListener(flowgate);
  return (req, res, next) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (!flowgate.handles(url)) return next();
    if (req.readableEnded) {
      return next(new FlowgateError('ERR_BODY_ALREADY_READ', 'flowgateExpress() must come before body parsers: the request body was already read'));
    }
    Promise.resolve(listener(req, res)).catch(next);
  };
}

/** Requires a valid flowgate access token; sets `req.auth`, or answers 401/403. */
export function requireFlowgateAuth(flowgate: Pick<Flowgate, 'verifyAccessToken' | 'settings'>, options: GuardOptions = {}): ExpressMiddleware {
  const guard = nodeBearerGuard(flowgate, options);
  return (req, res, next) => {
    guard(req, res).then((auth) => {
      if (!auth) return;
      req.auth = auth;
      next();
    }, next);
  };
}

/**
 * Runs the SDK's `requireBearerAuth` middleware once, without express: the middleware only
 * reads `req.headers.authorization` and writes with `res.set/status/json`, so a minimal
 * request and response record what it decided.
 */
import { requireBearerAuth, type BearerAuthMiddlewareOptions } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';

/** What the middleware did. */
export interface BearerAuthOutcome {
  /** 200 when it called `next()`. */
  readonly status: number;
  readonly passed: boolean;
  readonly wwwAuthenticate: string | undefined;
  readonly body: unknown;
  /** `req.auth` when it passed. */
  readonly auth: AuthInfo | undefined;
}

/** Calls `requireBearerAuth(options)` for a request with this `Authorization` header. */
export async function runRequireBearerAuth(options: BearerAuthMiddlewareOptions, authorization?: string): Promise<BearerAuthOutcome> {
  const handler = requireBearerAuth(options);
  const req: { headers: Record<string, string>; auth?: AuthInfo } = { headers: authorization === undefined ? {} : { authorization } };
  const state = { status: 200, headers: {} as Record<string, string>, body: undefined as unknown, passed: false };
  const res = {
    set(name: string, value: string) {
      state.headers[name.toLowerCase()] = value;
      return res;
    },
    status(code: number) {
      state.status = code;
      return res;
    },
    json(body: unknown) {
      state.body = body;
      return res;
    },
  };
  await handler(req as never, res as never, () => {
    state.passed = true;
  });
  return { status: state.status, passed: state.passed, wwwAuthenticate: state.headers['www-authenticate'], body: state.body, auth: req.auth };
}

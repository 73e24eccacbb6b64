/**
 * The bearer guard of an MCP endpoint (RFC 6750 §2.1, §3; RFC 9728 §5.1): a token only in
 * the `Authorization` header (never in the query or body), 401 with
 * `WWW-Authenticate: Bearer resource_metadata="…"` when there is none (plus
 * `error="invalid_token"` when one was sent and refused), 403 `insufficient_scope` naming
 * the missing scope.
 *
 * When the guard knows which scopes a client should ask for (`challengeScopes`, by default
 * the `requiredScopes`), its 401 and 403 challenges carry them as `scope` (RFC 6750 §3; the
 * MCP authorization spec's scope selection: an MCP client requests exactly the challenge's
 * `scope` when there is one, before the metadata's `scopes_supported`). A 403 names those
 * scopes together with the ones the token already has, so that a client stepping up does
 * not lose what it was granted.
 *
 * @module
 */
import { OAuthError } from '../oauth/errors.js';
import type { VerifiedAccess, VerifyOptions } from './verify-access-token.js';

/** What the guard needs. */
export interface BearerGuardOptions {
  /** Verifies a token (flowgate's `verifyAccessToken`). */
  readonly verify: (token: string, options: VerifyOptions) => Promise<VerifiedAccess>;
  /** The resource this endpoint is (default: the default configured resource). */
  readonly resource?: string;
  /** The URL of this resource's protected-resource metadata (RFC 9728). */
  readonly resourceMetadataUrl: string;
  /** Scopes every request needs. */
  readonly requiredScopes?: readonly string[];
  /**
   * The scopes the challenges name (`scope`): what a client should request to use this
   * resource. Default: `requiredScopes`; none (no `scope` attribute) when both are empty.
   */
  readonly challengeScopes?: readonly string[];
}

/** The guard's verdict: the caller, or the response to send instead. */
export type BearerOutcome = { readonly ok: true; readonly auth: VerifiedAccess } | { readonly ok: false; readonly response: Response };

function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '')}"`;
}

function challenge(status: 401 | 403, params: Record<string, string>, body: Record<string, string> | null): Response {
  const header = `Bearer ${Object.entries(params)
    .map(([k, v]) => `${k}=${quote(v)}`)
    .join(', ')}`;
  return new Response(body ? JSON.stringify(body) : null, {
    status,
    headers: {
      'WWW-Authenticate': header,
      'Cache-Control': 'no-store',
      'Access-Control-Expose-Headers': 'WWW-Authenticate',
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
  });
}

/** The bearer token of a request, or undefined; refuses one in the query string. */
function bearerToken(request: Request): { token?: string; problem?: string } {
  const url = new URL(request.url);
  if (url.searchParams.has('access_token')) return { problem: 'access tokens are accepted only in the Authorization header' };
  const header = request.headers.get('authorization');
  if (!header) return {};
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
  if (!match) return { problem: 'the Authorization header is not a Bearer token' };
  return { token: match[1]! };
}

/** Scopes as a `scope` value (RFC 6749 §3.3): space-separated, each once, in order. */
function scopeValue(...lists: ReadonlyArray<readonly string[]>): string {
  return [...new Set(lists.flat())].join(' ');
}

/** Makes a guard for one protected endpoint. */
export function bearerGuard(options: BearerGuardOptions): (request: Request) => Promise<BearerOutcome> {
  const metadata = { resource_metadata: options.resourceMetadataUrl };
  const wanted = options.challengeScopes ?? options.requiredScopes ?? [];
  const scope: Record<string, string> = wanted.length > 0 ? { scope: scopeValue(wanted) } : {};
  return async (request) => {
    const { token, problem } = bearerToken(request);
    if (problem) {
      return { ok: false, response: challenge(401, { error: 'invalid_request', error_description: problem, ...metadata }, { error: 'invalid_request', error_description: problem }) };
    }
    if (!token) return { ok: false, response: challenge(401, { ...scope, ...metadata }, null) };
    let auth: VerifiedAccess;
    try {
      auth = await options.verify(token, options.resource === undefined ? {} : { resource: options.resource });
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      const description = error.code === 'invalid_token' ? error.description : 'the access token could not be verified';
      return {
        ok: false,
        response: challenge(401, { error: 'invalid_token', error_description: description, ...scope, ...metadata }, { error: 'invalid_token', error_description: description }),
      };
    }
    const missing = (options.requiredScopes ?? []).filter((s) => !auth.scopes.includes(s));
    if (missing.length > 0) {
      const description = `the token lacks the scope ${missing.join(' ')}`;
      return {
        ok: false,
        response: challenge(
          403,
          { error: 'insufficient_scope', error_description: description, scope: scopeValue(wanted, options.requiredScopes ?? [], auth.scopes), ...metadata },
          { error: 'insufficient_scope', error_description: description },
        ),
      };
    }
    return { ok: true, auth };
  };
}

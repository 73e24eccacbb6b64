/**
 * Turns what oauth4webapi throws into an {@link UpstreamError} with the right kind
 * (fastmcp-oauth-proxy.md §14 item 3): transport failures, 5xx, 429,
 * `temporarily_unavailable` and `server_error` are transient; `invalid_grant`,
 * `invalid_client`, `unauthorized_client` and every failed validation are definitive, except
 * that a refused client (`invalid_client`) during a refresh is transient: it is flowgate's
 * configuration, not the user's grant (see {@link UpstreamError}).
 * Errors that are neither oauth4webapi's nor flowgate's (bugs) are rethrown untouched,
 * rather than being dressed up as a rejection that would end a grant.
 *
 * @module
 */
import * as oauth from 'oauth4webapi';
import { isTransientAuthorizationError } from './client-error.js';
import { UpstreamError, upstreamErrorToken, type UpstreamErrorReason, type UpstreamOperation } from './upstream-error.js';

/** RFC 6749 §5.2 codes (and GitHub's spellings) that reject the code or refresh token. */
const GRANT_REJECTED = new Set(['invalid_grant', 'bad_verification_code', 'bad_refresh_token']);

/** Codes that reject flowgate's own client credentials. */
const CLIENT_REJECTED = new Set(['invalid_client', 'unauthorized_client', 'incorrect_client_credentials']);

/** Codes by which an upstream says "not now" (RFC 6749 §4.1.2.1, §5.2 as widely used). */
const UNAVAILABLE = new Set(['temporarily_unavailable', 'server_error']);

/** Token-endpoint-like operations, where a bare 401 means flowgate's client authentication. */
const CLIENT_AUTHENTICATED: ReadonlySet<UpstreamOperation> = new Set(['exchange', 'refresh', 'revocation']);

/**
 * The reason for an HTTP failure from its status and the upstream's error code (if any).
 *
 * @example
 * ```ts
 * reasonForStatus(503, undefined, 'refresh'); // 'unavailable'
 * reasonForStatus(400, 'invalid_grant', 'refresh'); // 'invalid_grant'
 * ```
 */
export function reasonForStatus(status: number, code: string | undefined, operation: UpstreamOperation): UpstreamErrorReason {
  if (status === 429) return 'rate_limited';
  if (status >= 500 || status === 408) return 'unavailable';
  if (code !== undefined) {
    if (UNAVAILABLE.has(code)) return 'unavailable';
    if (GRANT_REJECTED.has(code)) return 'invalid_grant';
    if (CLIENT_REJECTED.has(code)) return 'invalid_client';
    if (code === 'invalid_token') return 'invalid_grant';
    return 'request_refused';
  }
  if (status === 401) return CLIENT_AUTHENTICATED.has(operation) ? 'invalid_client' : 'invalid_grant';
  return 'invalid_response';
}

/** An {@link UpstreamError} for an HTTP failure (status and optional upstream code). */
export function statusError(status: number, code: unknown, operation: UpstreamOperation, what: string): UpstreamError {
  const token = upstreamErrorToken(code);
  return new UpstreamError({
    reason: reasonForStatus(status, token, operation),
    operation,
    status,
    ...(token === undefined ? {} : { upstreamError: token }),
    detail: what,
  });
}

function statusOf(cause: unknown): number | undefined {
  return cause instanceof Response ? cause.status : undefined;
}

/**
 * Classifies anything an upstream call threw. `otherwise` is the reason for a response
 * that arrived but failed validation (default `invalid_response`; `id_token_invalid` while
 * checking an ID token). Unknown errors are rethrown.
 */
export function toUpstreamError(
  error: unknown,
  operation: UpstreamOperation,
  otherwise: UpstreamErrorReason = 'invalid_response',
): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (error instanceof oauth.ResponseBodyError) {
    return statusError(error.status, error.error, operation, 'the upstream answered with an OAuth error');
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    const code = error.cause.find((challenge) => typeof challenge.parameters.error === 'string')?.parameters.error;
    return statusError(error.status, code, operation, 'the upstream answered with a WWW-Authenticate challenge');
  }
  if (error instanceof oauth.AuthorizationResponseError) {
    const code = upstreamErrorToken(error.error);
    return new UpstreamError({
      reason: 'authorization_error',
      operation: 'authorization',
      kind: code !== undefined && isTransientAuthorizationError(code) ? 'transient' : 'definitive',
      ...(code === undefined ? {} : { upstreamError: code }),
      detail: 'the authorization response carries an error',
    });
  }
  if (error instanceof oauth.OperationProcessingError) {
    switch (error.code) {
      case oauth.RESPONSE_IS_NOT_CONFORM: {
        const status = statusOf(error.cause);
        if (status !== undefined) return statusError(status, undefined, operation, error.message);
        break;
      }
      case oauth.REQUEST_PROTOCOL_FORBIDDEN:
      case oauth.HTTP_REQUEST_FORBIDDEN:
      case oauth.MISSING_SERVER_METADATA:
      case oauth.INVALID_SERVER_METADATA:
        return new UpstreamError({ reason: 'misconfigured', operation, detail: error.message });
    }
    // oauth4webapi's messages are fixed strings (no response content), safe for logs.
    return new UpstreamError({ reason: otherwise, operation, detail: `${error.code}: ${error.message}` });
  }
  if (error instanceof oauth.UnsupportedOperationError) {
    return new UpstreamError({ reason: otherwise, operation, detail: `${error.code}: ${error.message}` });
  }
  throw error;
}

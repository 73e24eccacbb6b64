/**
 * What the MCP client is told when the upstream fails (fastmcp-oauth-proxy.md §14 item 3):
 * only definitive rejections end a grant, transient failures say "try again", and no
 * description ever repeats upstream text: every description here is a fixed string.
 *
 * @module
 */
import {
  AccessDenied,
  InvalidGrant,
  ServerError,
  TemporarilyUnavailable,
  type OAuthError,
} from '../oauth/errors.js';
import type { UpstreamError, UpstreamErrorReason } from './upstream-error.js';

/** Definitive failures that are flowgate's or the upstream's fault, not the user's. */
const SERVER_SIDE: ReadonlySet<UpstreamErrorReason> = new Set<UpstreamErrorReason>([
  'invalid_client',
  'request_refused',
  'invalid_response',
  'misconfigured',
]);

/**
 * Authorization error codes (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6) that mean the user did
 * not, or could not, grant access at the upstream.
 */
const DENIED = new Set(['access_denied', 'login_required', 'consent_required', 'interaction_required', 'account_selection_required']);

/** Authorization error codes the upstream uses to say "not now" (RFC 6749 §4.1.2.1). */
const UNAVAILABLE = new Set(['temporarily_unavailable', 'server_error']);

const DESCRIPTIONS = {
  unavailable: 'the upstream identity provider is temporarily unavailable; try again later',
  denied: 'the sign-in at the upstream identity provider was denied or could not be completed',
  failed: 'the sign-in at the upstream identity provider failed',
  grant: 'the grant is no longer valid at the upstream identity provider; sign in again',
} as const;

/** True when an upstream authorization error code (the callback's `error`) is transient. */
export function isTransientAuthorizationError(code: string): boolean {
  return UNAVAILABLE.has(code);
}

/**
 * The error an MCP client gets for an upstream *authorization* error, i.e. the `error`
 * parameter of the upstream's callback (RFC 6749 §4.1.2.1). `access_denied` (and OIDC's
 * `login_required`-style codes) stay `access_denied`; `temporarily_unavailable` and
 * `server_error` become `temporarily_unavailable`; every other code, known or not, becomes
 * `server_error` (an `invalid_scope` upstream is flowgate's configuration, not the client's).
 * The upstream's `error_description` is not an input.
 *
 * @example
 * ```ts
 * clientErrorForAuthorizationError('access_denied').code; // 'access_denied'
 * clientErrorForAuthorizationError('something_new').code; // 'server_error'
 * ```
 */
export function clientErrorForAuthorizationError(code: string | undefined, detail?: string): OAuthError {
  const options = { detail: detail ?? `upstream authorization error ${code ?? '(none)'}` };
  if (code !== undefined && DENIED.has(code)) return new AccessDenied(DESCRIPTIONS.denied, options);
  if (code !== undefined && UNAVAILABLE.has(code)) return new TemporarilyUnavailable(DESCRIPTIONS.unavailable, options);
  return new ServerError(DESCRIPTIONS.failed, options);
}

/**
 * The OAuth error for an {@link UpstreamError} (RFC 6749 §4.1.2.1, §5.2):
 *
 * - transient → `temporarily_unavailable` (an `invalid_client` during a refresh is
 *   transient: flowgate's credentials are misconfigured, the user's grant is fine);
 * - the callback's own `error` → {@link clientErrorForAuthorizationError};
 * - definitive at discovery or revocation → `server_error` (configuration, not a grant);
 * - definitive during a refresh → `invalid_grant` (the client must sign in again);
 * - definitive during sign-in → `server_error` when flowgate or the upstream is at fault
 *   (client authentication, a non-conforming response, configuration), else
 *   `access_denied` (a refused code, a failed ID token, `iss` or `state` check, no subject).
 *
 * `detail` carries the upstream error's private summary for logs; `cause` is the upstream
 * error itself, which holds no upstream text either.
 */
export function clientErrorFor(error: UpstreamError): OAuthError {
  const options = { detail: error.detail, cause: error };
  if (error.kind === 'transient') return new TemporarilyUnavailable(DESCRIPTIONS.unavailable, options);
  if (error.reason === 'authorization_error') return clientErrorForAuthorizationError(error.upstreamError, error.detail);
  // The upstream's metadata is flowgate's configuration: no grant or sign-in is at fault.
  if (error.operation === 'discovery' || error.operation === 'revocation') return new ServerError(DESCRIPTIONS.failed, options);
  if (error.operation === 'refresh') return new InvalidGrant(DESCRIPTIONS.grant, options);
  if (SERVER_SIDE.has(error.reason)) return new ServerError(DESCRIPTIONS.failed, options);
  return new AccessDenied(DESCRIPTIONS.denied, options);
}

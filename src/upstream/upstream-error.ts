/**
 * The one error type of the upstream client. Every failure of a call to the upstream IdP
 * is an {@link UpstreamError} with a `kind`:
 *
 * - `definitive`: the upstream (or flowgate's validation of what it sent) rejected the
 *   request for good: `invalid_grant`, `invalid_client` at sign-in, a failed ID token or
 *   `iss`/`state` check, a subject that cannot be found. Retrying changes nothing.
 * - `transient`: the upstream could not answer right now: network error, timeout, 5xx,
 *   429, `temporarily_unavailable`, `server_error`. The grant is still good.
 *
 * `invalid_client` during a *refresh* is transient too: the upstream refused flowgate's own
 * client credentials (a wrong or rotated secret, a key the IdP does not hold), which says
 * nothing about the user's grant. Ending every grant on an operator's configuration mistake
 * would be destructive; once the configuration is fixed, the same grant refreshes again.
 *
 * fastmcp maps both to `invalid_grant` and forwards the upstream's text (its issue #5002;
 * fastmcp-oauth-proxy.md §14 item 3). Here the upstream's `error_description` is never
 * read into an `UpstreamError`, and no oauth4webapi error is kept as `cause` (those carry
 * response bodies, which can hold tokens): `detail` is a private summary built from fixed
 * strings, the HTTP status and the upstream's error *code* only.
 *
 * @module
 */
import { FlowgateError } from '../errors/flowgate-error.js';
import type { OAuthError } from '../oauth/errors.js';
import { clientErrorFor } from './client-error.js';

/** Whether retrying can help (see the module documentation). */
export type UpstreamErrorKind = 'definitive' | 'transient';

/** What flowgate was doing with the upstream when it failed. */
export type UpstreamOperation =
  | 'discovery'
  | 'authorization'
  | 'exchange'
  | 'userinfo'
  | 'refresh'
  | 'revocation';

/** Why an upstream call failed: a stable, machine-readable reason. */
export type UpstreamErrorReason =
  /** The authorization response carried `error` (RFC 6749 §4.1.2.1). */
  | 'authorization_error'
  /** The authorization response's `state` is not the one sent (RFC 6749 §10.12). */
  | 'state_mismatch'
  /** An `iss` (RFC 9207 §2.4) or a discovered `issuer` (RFC 8414 §3.3) is not the configured issuer. */
  | 'issuer_mismatch'
  /** The token endpoint refused the code or refresh token (`invalid_grant`, RFC 6749 §5.2). */
  | 'invalid_grant'
  /**
   * The token endpoint refused flowgate itself (`invalid_client`, `unauthorized_client`, 401):
   * flowgate's upstream client configuration is wrong. Transient during a refresh.
   */
  | 'invalid_client'
  /** Any other OAuth error the upstream answered with (`invalid_request`, `invalid_scope` …). */
  | 'request_refused'
  /** The ID token failed validation: signature, `iss`, `aud`, `nonce`, `exp` (OIDC Core §3.1.3.7). */
  | 'id_token_invalid'
  /** The upstream named no usable subject (no `sub`, no `subjectField` in the user API). */
  | 'subject_missing'
  /** A response that does not conform (wrong status, not JSON, missing fields). */
  | 'invalid_response'
  /** An upstream URL or metadata flowgate refuses to use (http: off loopback, no endpoint). */
  | 'misconfigured'
  /** Transient: the connection failed or was dropped. */
  | 'network'
  /** Transient: no answer within `upstream.timeoutMs`. */
  | 'timeout'
  /** Transient: 5xx, `temporarily_unavailable` or `server_error`. */
  | 'unavailable'
  /** Transient: 429 Too Many Requests. */
  | 'rate_limited';

const TRANSIENT: ReadonlySet<UpstreamErrorReason> = new Set<UpstreamErrorReason>([
  'network',
  'timeout',
  'unavailable',
  'rate_limited',
]);

/** The kind a reason implies for an operation (see the module documentation). */
function defaultKind(reason: UpstreamErrorReason, operation: UpstreamOperation): UpstreamErrorKind {
  if (TRANSIENT.has(reason)) return 'transient';
  // flowgate's own credentials were refused: a configuration error, not a verdict on the grant.
  if (reason === 'invalid_client' && operation === 'refresh') return 'transient';
  return 'definitive';
}

/** What an {@link UpstreamError} is made of. */
export interface UpstreamErrorInit {
  readonly reason: UpstreamErrorReason;
  readonly operation: UpstreamOperation;
  /** Overrides the kind the reason implies (an authorization `server_error` is transient). */
  readonly kind?: UpstreamErrorKind;
  /** HTTP status of the upstream response, when there was one. */
  readonly status?: number;
  /** The upstream's OAuth error code (never its description). */
  readonly upstreamError?: string;
  /** Private text for logs; never upstream-supplied text. */
  readonly detail?: string;
}

/**
 * Reduces an upstream error code to an RFC 6749 §5.2 `error` token (`[\x20-\x21\x23-\x5B\x5D-\x7E]`
 * narrowed to `[a-z0-9_]`, at most 64 characters), so that nothing else an upstream sends
 * reaches flowgate's logs or events through it.
 */
export function upstreamErrorToken(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const token = /^[a-z0-9_]{1,64}/.exec(value.toLowerCase())?.[0];
  return token;
}

/**
 * A failed call to the upstream IdP, classified as `definitive` or `transient`.
 *
 * @example
 * ```ts
 * try {
 *   await upstream.refresh(tokenSet);
 * } catch (error) {
 *   if (error instanceof UpstreamError) return oauthErrorResponse(error.toClientError());
 *   throw error;
 * }
 * ```
 */
export class UpstreamError extends FlowgateError {
  declare readonly code: 'ERR_UPSTREAM';
  readonly kind: UpstreamErrorKind;
  readonly reason: UpstreamErrorReason;
  readonly operation: UpstreamOperation;
  readonly status: number | undefined;
  /** The upstream's error code, reduced to `[a-z0-9_]` (its description is never kept). */
  readonly upstreamError: string | undefined;
  /** Private diagnostics for logs; never upstream-supplied text. */
  readonly detail: string;

  constructor(init: UpstreamErrorInit) {
    const kind = init.kind ?? defaultKind(init.reason, init.operation);
    const upstreamError = upstreamErrorToken(init.upstreamError);
    const status = init.status === undefined ? '' : ` (HTTP ${init.status})`;
    const code = upstreamError === undefined ? '' : ` ${upstreamError}`;
    super('ERR_UPSTREAM', `upstream ${init.operation} failed, ${kind}: ${init.reason}${code}${status}`);
    this.kind = kind;
    this.reason = init.reason;
    this.operation = init.operation;
    this.status = init.status;
    this.upstreamError = upstreamError;
    this.detail = init.detail === undefined ? this.message : `${this.message}: ${init.detail}`;
  }

  /** True when retrying later may succeed (the grant or flow is still good). */
  get transient(): boolean {
    return this.kind === 'transient';
  }

  /**
   * The OAuth error the MCP client sees (see {@link clientErrorFor}): transient (which
   * includes `invalid_client` during a refresh) → `temporarily_unavailable`; definitive
   * during a refresh → `invalid_grant`; during sign-in
   * → `access_denied` or `server_error`. Its description is generic, never upstream text.
   */
  toClientError(): OAuthError {
    return clientErrorFor(this);
  }
}

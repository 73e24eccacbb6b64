/**
 * Typed OAuth errors, after node-oidc-provider's `errors.js` and fosite's `RFC6749Error`.
 *
 * - `code` is the RFC error code that goes on the wire as `error`.
 * - `description` is public: protocol-level text that is safe to show a client. It never
 *   carries upstream text, request-supplied values or secrets.
 * - `detail` is private: for logs only, never serialized by {@link OAuthError.toJSON}.
 * - `allowRedirect` says whether the error may be sent to the client's redirect URI
 *   (RFC 6749 §4.1.2.1); errors about the client or the redirect URI never may.
 *
 * @module
 */
import { FlowgateError } from '../errors/flowgate-error.js';

/**
 * The error codes flowgate emits: RFC 6749 §4.1.2.1 and §5.2, RFC 8707 §2 (`invalid_target`),
 * RFC 7591 §3.2.2 (`invalid_redirect_uri`, `invalid_client_metadata`), RFC 6750 §3.1
 * (`invalid_token`, `insufficient_scope`) and RFC 7009 §2.2.1 (`unsupported_token_type`).
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_target'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'unsupported_token_type';

/** The wire form of an error response body (RFC 6749 §5.2). */
export interface OAuthErrorBody {
  readonly error: OAuthErrorCode;
  readonly error_description: string;
}

/** Options of an {@link OAuthError}: private diagnostics, and a redirect downgrade (RFC 6749 §4.1.2.1). */
export interface OAuthErrorOptions {
  /** Private text for logs; never sent to the client. */
  readonly detail?: string;
  /** The underlying error, for logs (`Error.cause`). */
  readonly cause?: unknown;
  /**
   * `false` forbids redirecting this error even when its code normally may be redirected
   * (for instance an `invalid_request` about `redirect_uri` itself). It can only lower the
   * default, never raise it.
   */
  readonly allowRedirect?: false;
}

/** HTTP status per code (RFC 6749 §5.2, RFC 6750 §3.1); everything else is 400. */
const STATUS: Partial<Record<OAuthErrorCode, number>> = {
  invalid_client: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  server_error: 500,
  temporarily_unavailable: 503,
};

/**
 * Codes that RFC 6749 §4.1.2.1 (and RFC 8707 §2 for `invalid_target`) define for the
 * authorization response, so they may travel to a *validated* redirect URI. Everything
 * else (client, redirect URI, token and registration errors) is rendered locally.
 */
const REDIRECTABLE: ReadonlySet<OAuthErrorCode> = new Set<OAuthErrorCode>([
  'invalid_request',
  'unauthorized_client',
  'access_denied',
  'unsupported_response_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
  'invalid_target',
]);

/**
 * RFC 6749 §5.2 limits `error_description` to `%x20-21 / %x23-5B / %x5D-7E`; anything else
 * (quotes, backslashes, non-ASCII, controls) becomes `?` so the body is always well-formed.
 */
function sanitizeDescription(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

/**
 * An OAuth protocol error (RFC 6749 §5.2, §4.1.2.1). `code` is the RFC error code.
 *
 * @example
 * ```ts
 * throw new InvalidGrant('the authorization code has expired', { detail: `code ${hash} expired at ${t}` });
 * ```
 */
export class OAuthError extends FlowgateError {
  declare readonly code: OAuthErrorCode;
  /** The HTTP status of the error response. */
  readonly status: number;
  /** Public, client-safe description (RFC 6749 §5.2 `error_description`). */
  readonly description: string;
  /** Private diagnostics for logs; never serialized to clients. */
  readonly detail: string | undefined;
  /** Whether the error may be delivered to the client's redirect URI (RFC 6749 §4.1.2.1). */
  readonly allowRedirect: boolean;

  constructor(code: OAuthErrorCode, description: string, options: OAuthErrorOptions = {}) {
    const safe = sanitizeDescription(description);
    super(code, safe, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = STATUS[code] ?? 400;
    this.description = safe;
    this.detail = options.detail;
    this.allowRedirect = REDIRECTABLE.has(code) && options.allowRedirect !== false;
  }

  /** Exactly the RFC 6749 §5.2 body: `{ error, error_description }`, nothing private. */
  toJSON(): OAuthErrorBody {
    return { error: this.code, error_description: this.description };
  }
}

/** RFC 6749 §4.1.2.1, §5.2: a missing, repeated or malformed parameter. */
export class InvalidRequest extends OAuthError {
  constructor(description = 'the request is missing a parameter or is malformed', options?: OAuthErrorOptions) {
    super('invalid_request', description, options);
  }
}

/** RFC 6749 §5.2: client authentication failed or the client is unknown (401, never redirected). */
export class InvalidClient extends OAuthError {
  constructor(description = 'client authentication failed', options?: OAuthErrorOptions) {
    super('invalid_client', description, options);
  }
}

/** RFC 6749 §5.2: the code or refresh token is invalid, expired, revoked or bound elsewhere. */
export class InvalidGrant extends OAuthError {
  constructor(description = 'the grant is invalid, expired or revoked', options?: OAuthErrorOptions) {
    super('invalid_grant', description, options);
  }
}

/** RFC 6749 §4.1.2.1, §5.2: the client may not use this grant or response type. */
export class UnauthorizedClient extends OAuthError {
  constructor(description = 'the client is not authorized to use this method', options?: OAuthErrorOptions) {
    super('unauthorized_client', description, options);
  }
}

/** RFC 6749 §5.2: the grant type is not supported. */
export class UnsupportedGrantType extends OAuthError {
  constructor(description = 'the grant type is not supported', options?: OAuthErrorOptions) {
    super('unsupported_grant_type', description, options);
  }
}

/** RFC 6749 §3.3, §4.1.2.1, §5.2: the scope is invalid, unknown, malformed or too broad. */
export class InvalidScope extends OAuthError {
  constructor(description = 'the requested scope is invalid', options?: OAuthErrorOptions) {
    super('invalid_scope', description, options);
  }
}

/** RFC 6749 §4.1.2.1: the resource owner or the server denied the request. */
export class AccessDenied extends OAuthError {
  constructor(description = 'the request was denied', options?: OAuthErrorOptions) {
    super('access_denied', description, options);
  }
}

/** RFC 6749 §4.1.2.1: the response type is not supported. */
export class UnsupportedResponseType extends OAuthError {
  constructor(description = 'the response type is not supported', options?: OAuthErrorOptions) {
    super('unsupported_response_type', description, options);
  }
}

/** RFC 6749 §4.1.2.1: an unexpected condition (500); the description is always generic. */
export class ServerError extends OAuthError {
  constructor(description = 'the server encountered an unexpected error', options?: OAuthErrorOptions) {
    super('server_error', description, options);
  }
}

/** RFC 6749 §4.1.2.1: the server is temporarily unable to handle the request (503). */
export class TemporarilyUnavailable extends OAuthError {
  constructor(description = 'the service is temporarily unavailable', options?: OAuthErrorOptions) {
    super('temporarily_unavailable', description, options);
  }
}

/** RFC 8707 §2: the `resource` is invalid or not served by this authorization server. */
export class InvalidTarget extends OAuthError {
  constructor(description = 'the requested resource is invalid or unknown', options?: OAuthErrorOptions) {
    super('invalid_target', description, options);
  }
}

/** RFC 7591 §3.2.2: a redirect URI is invalid or not registered (never redirected). */
export class InvalidRedirectUri extends OAuthError {
  constructor(description = 'the redirect URI is invalid', options?: OAuthErrorOptions) {
    super('invalid_redirect_uri', description, options);
  }
}

/** RFC 7591 §3.2.2: a client metadata field is invalid. */
export class InvalidClientMetadata extends OAuthError {
  constructor(description = 'the client metadata is invalid', options?: OAuthErrorOptions) {
    super('invalid_client_metadata', description, options);
  }
}

/** RFC 6750 §3.1: the access token is missing, expired, revoked or malformed (401). */
export class InvalidToken extends OAuthError {
  constructor(description = 'the access token is invalid', options?: OAuthErrorOptions) {
    super('invalid_token', description, options);
  }
}

/** RFC 6750 §3.1: the access token lacks the scope the request needs (403). */
export class InsufficientScope extends OAuthError {
  constructor(description = 'the access token has insufficient scope', options?: OAuthErrorOptions) {
    super('insufficient_scope', description, options);
  }
}

/** RFC 7009 §2.2.1: the server cannot revoke this token type. */
export class UnsupportedTokenType extends OAuthError {
  constructor(description = 'the token type is not supported', options?: OAuthErrorOptions) {
    super('unsupported_token_type', description, options);
  }
}

/**
 * Turns anything thrown into an {@link OAuthError} (RFC 6749 §5.2). OAuth errors pass
 * through; anything else becomes a generic `server_error` whose description never repeats
 * the original message (which may hold upstream text or secrets). The original is kept as
 * `cause`, for logs.
 */
export function toOAuthError(error: unknown): OAuthError {
  if (error instanceof OAuthError) return error;
  return new ServerError(undefined, { cause: error });
}

/** Options of {@link oauthErrorResponse} (RFC 6749 §5.2). */
export interface OAuthErrorResponseInit {
  /**
   * RFC 6749 §5.2: when the client authenticated with HTTP Basic, a 401 `invalid_client`
   * carries `WWW-Authenticate: Basic realm="flowgate"`. Ignored for other errors.
   */
  readonly basicChallenge?: boolean;
  /** Extra headers; they cannot override `Content-Type` or the cache headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The JSON error response of RFC 6749 §5.2 as a web-standard `Response`: body
 * `{ error, error_description }`, `Content-Type: application/json`, `Cache-Control: no-store`
 * and `Pragma: no-cache`. Non-OAuth errors become a generic `server_error` first.
 *
 * @example
 * ```ts
 * return oauthErrorResponse(new InvalidClient(), { basicChallenge: usedBasicAuth });
 * ```
 */
export function oauthErrorResponse(error: unknown, init: OAuthErrorResponseInit = {}): Response {
  const oauth = toOAuthError(error);
  const headers = new Headers(init.headers);
  headers.set('Content-Type', 'application/json');
  headers.set('Cache-Control', 'no-store');
  headers.set('Pragma', 'no-cache');
  if (init.basicChallenge === true && oauth.code === 'invalid_client' && oauth.status === 401) {
    headers.set('WWW-Authenticate', 'Basic realm="flowgate"');
  }
  return new Response(JSON.stringify(oauth.toJSON()), { status: oauth.status, headers });
}

/**
 * The parameters flowgate sets itself on the upstream leg. Configured extra parameters
 * (`upstream.extraAuthorizeParams`, `upstream.extraTokenParams`) may never carry them:
 * fastmcp lets its `extra_authorize_params` override `redirect_uri` or `state`
 * (fastmcp-oauth-proxy.md §14 item 11), which silently turns off the proxy's own PKCE,
 * state binding or redirect URI.
 *
 * Names are compared case-insensitively, because some upstreams (ASP.NET model binding
 * among them) read parameters that way.
 *
 * @module
 */

/**
 * RFC 6749 §4.1.1, §4.1.3, §6; RFC 7636 §4.3, §4.5; OIDC Core §3.1.2.1 (`nonce`); plus the
 * parameters that authenticate the client (RFC 6749 §2.3.1, RFC 7523 §2.2) or that would
 * move the whole request elsewhere (RFC 9101 `request`/`request_uri`, OAuth 2.0 Multiple
 * Response Types `response_mode`).
 */
export const RESERVED_UPSTREAM_PARAMS: readonly string[] = Object.freeze([
  'response_type',
  'client_id',
  'redirect_uri',
  'state',
  'code_challenge',
  'code_challenge_method',
  'nonce',
  'scope',
  'code',
  'grant_type',
  'code_verifier',
  'refresh_token',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'request',
  'request_uri',
  'response_mode',
]);

const RESERVED = new Set(RESERVED_UPSTREAM_PARAMS);

/**
 * True when `name` is a parameter flowgate sets itself (case-insensitive).
 *
 * @example
 * ```ts
 * isReservedUpstreamParam('Redirect_URI'); // true
 * isReservedUpstreamParam('prompt'); // false
 * ```
 */
export function isReservedUpstreamParam(name: string): boolean {
  return RESERVED.has(name.toLowerCase());
}

/** The reserved names among `params`' keys, in order. */
export function reservedKeysOf(params: Readonly<Record<string, string>>): string[] {
  return Object.keys(params).filter(isReservedUpstreamParam);
}

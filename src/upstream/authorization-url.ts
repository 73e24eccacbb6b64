/**
 * The upstream authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1).
 *
 * - `response_type=code`, flowgate's `client_id`, its one fixed `redirect_uri`;
 * - flowgate's *own* `state` and S256 `code_challenge`, never the MCP client's
 *   (security-invariants.md item 19);
 * - `nonce` for an OIDC upstream (required there), never for plain OAuth 2 (oidc-provider
 *   rejects a `nonce` without `openid`);
 * - configured extra parameters appended after the core ones, which each appear exactly
 *   once: an extra can never replace or duplicate a core parameter, even one hidden in the
 *   endpoint's own query (fastmcp-oauth-proxy.md §14 item 11).
 *
 * @module
 */
import { isValidCodeChallenge } from '../oauth/pkce.js';
import type { UpstreamContext } from './context.js';
import { isReservedUpstreamParam } from './reserved-params.js';
import { toUpstreamScopes } from './scopes.js';
import { UpstreamError } from './upstream-error.js';

/** Parameters of {@link buildAuthorizationUrl}. */
export interface AuthorizationUrlParams {
  /** flowgate's upstream `state` (≥128 bits, single use). */
  readonly state: string;
  /** S256 challenge of flowgate's own upstream PKCE verifier (RFC 7636 §4.2). */
  readonly codeChallenge: string;
  /** OIDC nonce; required for an `oidc` upstream, ignored for `oauth2`. */
  readonly nonce?: string;
  /** Scopes to request; default the configured ones. */
  readonly scopes?: readonly string[];
  /** flowgate's callback URL, registered at the upstream. */
  readonly redirectUri: string;
}

/** The upstream authorization URL the browser is sent to. */
export async function buildAuthorizationUrl(ctx: UpstreamContext, params: AuthorizationUrlParams): Promise<URL> {
  if (params.state.length === 0) throw new TypeError('authorizationUrl: state must not be empty');
  if (!isValidCodeChallenge(params.codeChallenge)) {
    throw new TypeError('authorizationUrl: codeChallenge must be an S256 challenge (43 base64url characters)');
  }
  if (!URL.canParse(params.redirectUri)) throw new TypeError('authorizationUrl: redirectUri must be an absolute URL');
  const oidc = ctx.config.kind === 'oidc';
  if (oidc && !params.nonce) throw new TypeError('authorizationUrl: an oidc upstream needs a nonce (OIDC Core §3.1.2.1)');

  const as = await ctx.metadata();
  const url = new URL(as.authorization_endpoint!);
  // As configured, then as the upstream names them (a preset's translation, e.g. Entra `api://…/`).
  const scopes = toUpstreamScopes(ctx.preset, ctx.config, params.scopes ?? ctx.scopes);
  const core: [string, string | undefined][] = [
    ['response_type', 'code'],
    ['client_id', ctx.config.clientId],
    ['redirect_uri', params.redirectUri],
    ['scope', scopes.length > 0 ? scopes.join(' ') : undefined],
    ['state', params.state],
    ['code_challenge', params.codeChallenge],
    ['code_challenge_method', 'S256'],
    ['nonce', oidc ? params.nonce : undefined],
  ];
  // A reserved name in the endpoint's own query (in any case) goes; then each core
  // parameter is set exactly once.
  for (const name of [...new Set(url.searchParams.keys())]) {
    if (isReservedUpstreamParam(name)) url.searchParams.delete(name);
  }
  for (const [name, value] of core) {
    if (value === undefined) url.searchParams.delete(name);
    else url.searchParams.set(name, value);
  }
  for (const [name, value] of Object.entries(ctx.config.extraAuthorizeParams)) {
    // The configuration schema refuses these; this holds for a config built without it.
    if (isReservedUpstreamParam(name)) {
      throw new UpstreamError({ reason: 'misconfigured', operation: 'authorization', detail: `extra parameter ${name} is reserved` });
    }
    url.searchParams.append(name, value);
  }
  return url;
}

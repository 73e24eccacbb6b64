/**
 * The upstream refresh (RFC 6749 §6): a new token set from the refresh token, with the
 * configured client authentication and extra token parameters (fastmcp forgot the latter,
 * its issue #2386). An upstream that does not rotate sends no refresh token back; the old
 * one is kept. A new ID token is validated like the first one (a preset's issuer rule
 * included) and must name the same subject and issuer (OIDC Core §12.2).
 *
 * Errors keep their kind: only a definitive rejection (`invalid_grant`, a bad ID token)
 * should end the grant; a transient one leaves it alone (fastmcp-oauth-proxy.md §14 item 3).
 * An `invalid_client` here is transient: the upstream refused flowgate's own credentials (an
 * operator's misconfiguration), which is no reason to end the user's grant.
 *
 * @module
 */
import * as oauth from 'oauth4webapi';
import { toUpstreamError } from './classify.js';
import type { UpstreamContext } from './context.js';
import { confirmIssuer, metadataFor, unverifiedPayload } from './issuer-rule.js';
import { fromUpstreamScopes, parseScope } from './scopes.js';
import { tokenOf, toUpstreamTokens } from './token-set.js';
import type { UpstreamTokens, UpstreamTokenSet } from './types.js';
import { UpstreamError } from './upstream-error.js';

function claimOf(idToken: string | undefined, name: 'sub' | 'iss'): string | undefined {
  const value = unverifiedPayload(idToken)[name];
  return typeof value === 'string' ? value : undefined;
}

function withoutScheme(iss: unknown): unknown {
  return typeof iss === 'string' ? iss.replace(/^https:\/\//, '') : iss;
}

/** Refreshes an upstream token set (see the module documentation). Throws {@link UpstreamError}. */
export async function refreshTokens(ctx: UpstreamContext, tokenSet: UpstreamTokenSet): Promise<UpstreamTokens> {
  const refreshToken = tokenOf(tokenSet, 'refresh_token');
  if (refreshToken === undefined) {
    throw new UpstreamError({ reason: 'invalid_grant', operation: 'refresh', detail: 'the upstream token set has no refresh token' });
  }
  const as = await ctx.metadata();
  const client = ctx.client();
  const sentAt = ctx.clock();
  let tokens: oauth.TokenEndpointResponse;
  try {
    const response = await oauth.refreshTokenGrantRequest(as, client, ctx.clientAuth(), refreshToken, {
      ...ctx.http('refresh'),
      additionalParameters: ctx.config.extraTokenParams,
    });
    let tokenAs = as;
    if (ctx.issuerRule !== undefined && response.status === 200) {
      const claims = unverifiedPayload(((await response.clone().json().catch(() => null)) as { id_token?: unknown } | null)?.id_token);
      if (claims.iss !== undefined) tokenAs = metadataFor(ctx, as, claims, 'refresh');
    }
    tokens = await oauth.processRefreshTokenResponse(tokenAs, client, response);
    if (tokens.id_token !== undefined) {
      await oauth.validateApplicationLevelSignature(tokenAs, response, { ...ctx.http('refresh'), [oauth.jwksCache]: ctx.jwksCache });
      const verified = oauth.getValidatedIdTokenClaims(tokens);
      confirmIssuer(ctx, as, tokenAs, verified ?? {}, 'refresh');
      const previous = tokenOf(tokenSet, 'id_token');
      const before = claimOf(previous, 'sub');
      if (before !== undefined && verified?.sub !== before) {
        throw new UpstreamError({ reason: 'id_token_invalid', operation: 'refresh', detail: 'the refreshed ID token names another subject' });
      }
      // OIDC Core §12.2: the same issuer (for Entra `common`, the same tenant). Both were
      // validated on their own; the scheme is ignored for Google's two spellings of its issuer.
      const issuerBefore = claimOf(previous, 'iss');
      if (issuerBefore !== undefined && withoutScheme(verified?.iss) !== withoutScheme(issuerBefore)) {
        throw new UpstreamError({ reason: 'id_token_invalid', operation: 'refresh', detail: 'the refreshed ID token names another issuer' });
      }
    }
  } catch (error) {
    throw toUpstreamError(error, 'refresh', 'invalid_response');
  }
  const requested = parseScope(tokenSet.scope) ?? ctx.scopes;
  return toUpstreamTokens(tokens, sentAt, requested, tokenSet, (granted) => fromUpstreamScopes(ctx.preset, ctx.config, granted));
}

/**
 * The upstream refresh (RFC 6749 §6): a new token set from the refresh token, with the
 * configured client authentication and extra token parameters (fastmcp forgot the latter,
 * its issue #2386). An upstream that does not rotate sends no refresh token back; the old
 * one is kept. A new ID token is validated like the first one and must name the same
 * subject (OIDC Core §12.2).
 *
 * Errors keep their kind: only a definitive rejection (`invalid_grant`, `invalid_client`,
 * a bad ID token) should end the grant; a transient one leaves it alone
 * (fastmcp-oauth-proxy.md §14 item 3).
 *
 * @module
 */
import * as oauth from 'oauth4webapi';
import { toUpstreamError } from './classify.js';
import type { UpstreamContext } from './context.js';
import { parseScope } from './scopes.js';
import { tokenOf, toUpstreamTokens } from './token-set.js';
import type { UpstreamTokens, UpstreamTokenSet } from './types.js';
import { UpstreamError } from './upstream-error.js';

function subjectOf(idToken: string | undefined): string | undefined {
  if (idToken === undefined) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8'));
    const sub = (payload as { sub?: unknown } | null)?.sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
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
    tokens = await oauth.processRefreshTokenResponse(as, client, response);
    if (tokens.id_token !== undefined) {
      await oauth.validateApplicationLevelSignature(as, response, ctx.http('refresh'));
      const before = subjectOf(tokenOf(tokenSet, 'id_token'));
      const after = oauth.getValidatedIdTokenClaims(tokens)?.sub;
      if (before !== undefined && after !== before) {
        throw new UpstreamError({ reason: 'id_token_invalid', operation: 'refresh', detail: 'the refreshed ID token names another subject' });
      }
    }
  } catch (error) {
    throw toUpstreamError(error, 'refresh', 'invalid_response');
  }
  const requested = parseScope(tokenSet.scope) ?? ctx.scopes;
  return toUpstreamTokens(tokens, sentAt, requested, tokenSet);
}

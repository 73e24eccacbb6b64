/**
 * Upstream token revocation (RFC 7009 §2.1) when the upstream has a revocation endpoint
 * (configured, or discovered for `oidc`). Only upstream tokens are ever sent, never one of
 * flowgate's (fastmcp sends its own refresh JWT upstream, its issue #5120). The refresh
 * token goes first, since revoking it ends the upstream grant (RFC 7009 §2.1), then the
 * access token.
 *
 * @module
 */
import * as oauth from 'oauth4webapi';
import { toUpstreamError } from './classify.js';
import type { UpstreamContext } from './context.js';
import { tokenOf } from './token-set.js';
import type { UpstreamTokenSet } from './types.js';

/**
 * Revokes the tokens of an upstream token set. Resolves `false` when the upstream has no
 * revocation endpoint, `true` once every token was accepted for revocation (RFC 7009 §2.2:
 * 200, also for tokens already invalid). Throws {@link UpstreamError}.
 */
export async function revokeTokens(ctx: UpstreamContext, tokenSet: UpstreamTokenSet): Promise<boolean> {
  const as = await ctx.metadata();
  if (as.revocation_endpoint === undefined) return false;
  const client = ctx.client();
  const tokens: [string | undefined, string][] = [
    [tokenOf(tokenSet, 'refresh_token'), 'refresh_token'],
    [tokenOf(tokenSet, 'access_token'), 'access_token'],
  ];
  for (const [token, hint] of tokens) {
    if (token === undefined) continue;
    try {
      const response = await oauth.revocationRequest(as, client, ctx.clientAuth(), token, {
        ...ctx.http('revocation'),
        additionalParameters: { token_type_hint: hint },
      });
      await oauth.processRevocationResponse(response);
    } catch (error) {
      throw toUpstreamError(error, 'revocation');
    }
  }
  return true;
}

/**
 * `POST /revoke` (RFC 7009). The client authenticates as at the token endpoint and may
 * revoke only its own tokens. A refresh token revokes its whole grant — every refresh and
 * access token of the family (with `upstream.revokeOnGrantRevocation`, the grant's
 * *upstream* tokens follow, see `src/upstream/revoke-on-grant-revocation.ts`). An access
 * token revokes its `jti` only. Unknown tokens get 200, as §2.2 asks.
 *
 * @module
 */
import { decodeJwt } from 'jose';
import { InvalidRequest, OAuthError, oauthErrorResponse, UnsupportedTokenType } from '../../oauth/errors.js';
import { authenticateClient, ClientAuthError } from '../client-auth.js';
import { formBody, required, singleValued } from '../params.js';
import type { HttpDeps } from '../ports.js';
import { jsonResponse } from '../responses.js';

async function revokeRefresh(deps: HttpDeps, token: string, clientId: string): Promise<boolean> {
  const outcome = await deps.engine.execute({ type: 'RevokeRefreshToken', refreshToken: token, clientId });
  return outcome.outcome !== 'unknown';
}

async function revokeAccess(deps: HttpDeps, token: string, clientId: string): Promise<boolean> {
  let claims: { jti?: unknown; aud?: unknown };
  try {
    claims = decodeJwt(token);
  } catch {
    return false;
  }
  if (typeof claims.jti !== 'string' || typeof claims.aud !== 'string') return false;
  try {
    // The signature must verify (with any of flowgate's resources as audience) before a jti is trusted.
    await deps.gate.verify(token, { resource: claims.aud });
  } catch (error) {
    if ((error as { reason?: string }).reason !== 'expired') return false;
    return true; // an expired token is already dead
  }
  const outcome = await deps.engine.execute({ type: 'RevokeAccessToken', jti: claims.jti, clientId });
  return outcome.outcome !== 'unknown';
}

/** Handles `POST /revoke`. */
export async function revoke(request: Request, deps: HttpDeps): Promise<Response> {
  let usedBasic = false;
  try {
    const form = singleValued(await formBody(request));
    const auth = await authenticateClient(request, form, deps.db);
    usedBasic = auth.usedBasic;
    const token = required(form, 'token');
    const hint = form.get('token_type_hint');
    if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') {
      throw new UnsupportedTokenType('token_type_hint must be access_token or refresh_token');
    }
    if (token.length > 8192) throw new InvalidRequest('the token is too long');
    const clientId = auth.client.clientId;
    const order = hint === 'access_token' ? [revokeAccess, revokeRefresh] : [revokeRefresh, revokeAccess];
    for (const attempt of order) {
      if (await attempt(deps, token, clientId)) break;
    }
    deps.log.info({ clientId }, 'revocation request');
    return jsonResponse({}, 200, { noStore: true });
  } catch (error) {
    if (error instanceof ClientAuthError) {
      await deps.securityEvents.record('client_auth_failed');
      return oauthErrorResponse(error, { basicChallenge: error.usedBasic });
    }
    if (error instanceof OAuthError) {
      if (error.code === 'unauthorized_client') await deps.securityEvents.record('revocation_of_foreign_token');
      return oauthErrorResponse(error, { basicChallenge: usedBasic });
    }
    throw error;
  }
}

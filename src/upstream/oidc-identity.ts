/**
 * The identity of an OIDC sign-in: the subject and claims of the validated ID token
 * (OIDC Core §3.1.3.7), completed from the UserInfo endpoint when the ID token lacks
 * claims (OIDC Core §5.3; its `sub` must equal the ID token's, §5.3.2). ID token values
 * win over UserInfo values: they are signed. A preset may add claims from the ID token
 * (Entra `tid`, `oid`; Google `hd`) or turn the UserInfo call off (Entra).
 *
 * @module
 */
import * as oauth from 'oauth4webapi';
import { toUpstreamError } from './classify.js';
import type { UpstreamContext } from './context.js';
import type { UpstreamClaims, UpstreamIdentity } from './types.js';
import { UpstreamError } from './upstream-error.js';

const STRING_CLAIMS = ['email', 'name', 'preferred_username'] as const;

/** The claims flowgate keeps (OIDC Core §5.1), from an ID token or a UserInfo response. */
export function pickClaims(source: Readonly<Record<string, unknown>>): Record<string, string | boolean> {
  const claims: Record<string, string | boolean> = {};
  for (const name of STRING_CLAIMS) {
    const value = source[name];
    if (typeof value === 'string' && value.length > 0) claims[name] = value;
  }
  // Some providers send the boolean as a string.
  const verified = source.email_verified;
  if (typeof verified === 'boolean') claims.email_verified = verified;
  else if (verified === 'true' || verified === 'false') claims.email_verified = verified === 'true';
  return claims;
}

function complete(claims: Record<string, string | boolean>): boolean {
  return STRING_CLAIMS.every((name) => name in claims) && 'email_verified' in claims;
}

/** Subject and claims of a processed, signature-checked token response. */
export async function oidcIdentity(
  ctx: UpstreamContext,
  as: oauth.AuthorizationServer,
  tokens: oauth.TokenEndpointResponse,
): Promise<UpstreamIdentity> {
  const idToken = oauth.getValidatedIdTokenClaims(tokens);
  if (idToken === undefined || typeof idToken.sub !== 'string' || idToken.sub.length === 0) {
    throw new UpstreamError({ reason: 'subject_missing', operation: 'exchange', detail: 'the ID token names no subject' });
  }
  const fromIdToken = { ...pickClaims(idToken), ...ctx.preset?.identity?.claims?.(idToken) };
  const userinfo = ctx.preset?.userinfo ?? true;
  if (!userinfo || as.userinfo_endpoint === undefined || complete(fromIdToken) || tokens.token_type !== 'bearer') {
    return { subject: idToken.sub, claims: Object.freeze(fromIdToken) };
  }
  let info: oauth.UserInfoResponse;
  try {
    const client = ctx.client();
    const response = await oauth.userInfoRequest(as, client, tokens.access_token, ctx.http('userinfo'));
    info = await oauth.processUserInfoResponse(as, client, idToken.sub, response);
  } catch (error) {
    throw toUpstreamError(error, 'userinfo');
  }
  const claims: UpstreamClaims = Object.freeze({ ...pickClaims(info), ...fromIdToken });
  return { subject: idToken.sub, claims };
}

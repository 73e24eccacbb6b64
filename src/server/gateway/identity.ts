/**
 * How the gateway tells the MCP server who is calling, without handing over the client's
 * token: a short-lived JWT signed with flowgate's access-token keys (verifiable with the
 * JWKS; `typ: flowgate-identity+jwt` so it can never pass as an access token), or plain
 * headers with an HMAC over them and a timestamp (for servers that prefer a shared secret).
 *
 * @module
 */
import { SignJWT } from 'jose';
import { createHmac } from 'node:crypto';
import type { SigningKey } from '../../keys/access-token-signer.js';
import type { VerifiedAccess } from '../../resource/verify-access-token.js';

/** The JWT type of gateway identity assertions. */
export const IDENTITY_JWT_TYPE = 'flowgate-identity+jwt';

/** Headers flowgate sets on forwarded requests (any incoming ones are removed first). */
export const IDENTITY_HEADERS = [
  'x-flowgate-identity',
  'x-flowgate-subject',
  'x-flowgate-client-id',
  'x-flowgate-scopes',
  'x-flowgate-timestamp',
  'x-flowgate-signature',
  'x-flowgate-upstream-token',
] as const;

/** A signed identity JWT for `audience` (the MCP server's URL), valid 60 s. */
export async function identityJwt(key: SigningKey, issuer: string, audience: string, auth: VerifiedAccess, now: number): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ client_id: auth.clientId, scope: auth.scopes.join(' '), jti: `${auth.jti}.${iat}` })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: IDENTITY_JWT_TYPE })
    .setIssuer(issuer)
    .setSubject(auth.subject)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 60)
    .sign(key.privateKey);
}

/** The text the `headers` mode signs: subject, client, scopes, time, method and path. */
export function identitySigningInput(fields: { subject: string; clientId: string; scopes: string; timestamp: string; method: string; path: string }): string {
  return [fields.subject, fields.clientId, fields.scopes, fields.timestamp, fields.method.toUpperCase(), fields.path].join('\n');
}

/** The `headers` mode's header values, signed with `secret`. */
export function identityHeaders(secret: string, auth: VerifiedAccess, method: string, path: string, now: number): Record<string, string> {
  const fields = {
    subject: auth.subject,
    clientId: auth.clientId,
    scopes: auth.scopes.join(' '),
    timestamp: String(Math.floor(now / 1000)),
    method,
    path,
  };
  return {
    'x-flowgate-subject': fields.subject,
    'x-flowgate-client-id': fields.clientId,
    'x-flowgate-scopes': fields.scopes,
    'x-flowgate-timestamp': fields.timestamp,
    'x-flowgate-signature': createHmac('sha256', secret).update(identitySigningInput(fields)).digest('base64url'),
  };
}

/**
 * `POST /introspect` (RFC 7662). Only configured resource servers may call it (HTTP Basic
 * or form credentials, §2.1) — never a self-registered client. Anything inactive, unknown,
 * expired, revoked, or not a flowgate access token (a refresh token, an ID token, an
 * upstream token) is exactly `{"active":false}` (§2.2).
 *
 * @module
 */
import { decodeJwt } from 'jose';
import { constantTimeEqual, sha256Base64Url } from '../../crypto/random.js';
import { InvalidClient, OAuthError, oauthErrorResponse } from '../../oauth/errors.js';
import { formBody, required, singleValued, type Params } from '../params.js';
import type { HttpDeps } from '../ports.js';
import { jsonResponse } from '../responses.js';

function resourceServer(request: Request, form: Params, deps: HttpDeps): { clientId: string; usedBasic: boolean } {
  const header = request.headers.get('authorization') ?? '';
  let id = form.get('client_id');
  let secret = form.get('client_secret');
  const usedBasic = /^basic /i.test(header);
  if (usedBasic) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    try {
      id = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    } catch {
      id = undefined;
    }
  }
  const entry = deps.settings.introspectionClients.find((c) => c.clientId === id);
  let ok = false;
  if (entry && secret) ok = constantTimeEqual(sha256Base64Url(secret), entry.secretHash);
  if (!ok || !id) throw Object.assign(new InvalidClient('introspection requires resource server credentials'), { usedBasic });
  return { clientId: id, usedBasic };
}

const INACTIVE = { active: false } as const;

/** Handles `POST /introspect`. */
export async function introspect(request: Request, deps: HttpDeps): Promise<Response> {
  try {
    const form = singleValued(await formBody(request));
    resourceServer(request, form, deps);
    const token = required(form, 'token');
    let audience: unknown;
    try {
      audience = decodeJwt(token).aud;
    } catch {
      return jsonResponse(INACTIVE, 200, { noStore: true });
    }
    if (typeof audience !== 'string') return jsonResponse(INACTIVE, 200, { noStore: true });
    try {
      const access = await deps.gate.verify(token, { resource: audience });
      return jsonResponse(
        {
          active: true,
          scope: access.scopes.join(' '),
          client_id: access.clientId,
          sub: access.subject,
          aud: access.resource,
          iss: deps.settings.issuer,
          exp: access.expiresAt,
          jti: access.jti,
          token_type: 'Bearer',
        },
        200,
        { noStore: true },
      );
    } catch (error) {
      if (error instanceof OAuthError) return jsonResponse(INACTIVE, 200, { noStore: true });
      throw error;
    }
  } catch (error) {
    if (error instanceof OAuthError) {
      if (error.code === 'invalid_client') await deps.securityEvents.record('introspection_auth_failed');
      return oauthErrorResponse(error, { basicChallenge: Boolean((error as { usedBasic?: boolean }).usedBasic) });
    }
    throw error;
  }
}

/**
 * `POST /token` (OAuth 2.1 §3.2): the `authorization_code` grant (§4.1.3) and the
 * `refresh_token` grant (§4.3). JSON answers with `Cache-Control: no-store`; errors per
 * RFC 6749 §5.2 (`invalid_client` 401, everything else 400). Upstream tokens never appear
 * in a response.
 *
 * @module
 */
import { InvalidRequest, OAuthError, UnauthorizedClient, UnsupportedGrantType, oauthErrorResponse } from '../../oauth/errors.js';
import { selectResource } from '../../oauth/resource.js';
import { parseScope } from '../../oauth/scope.js';
import type { IssuedTokens } from '../../engine/commands/index.js';
import { sha256Base64Url } from '../../crypto/random.js';
import { findGrant } from '../../projections/grants.js';
import { findRefreshToken } from '../../projections/refresh-tokens.js';
import { authenticateClient, ClientAuthError } from '../client-auth.js';
import { formBody, optional, required, singleValued, type Params } from '../params.js';
import type { HttpDeps } from '../ports.js';
import { jsonResponse } from '../responses.js';

function tokenResponse(tokens: IssuedTokens): Response {
  return jsonResponse(
    {
      access_token: tokens.accessToken,
      token_type: 'Bearer',
      expires_in: tokens.expiresIn,
      ...(tokens.refreshToken ? { refresh_token: tokens.refreshToken } : {}),
      scope: tokens.scopes.join(' '),
    },
    200,
    { noStore: true },
  );
}

function resourceParam(form: Params, deps: HttpDeps): string | null {
  const requested = optional(form, 'resource');
  if (requested === undefined) return null;
  return selectResource(requested, deps.settings.resources.map((r) => r.uri), deps.settings.defaultResource);
}

/**
 * Before a client refresh, brings the grant's upstream tokens up to date when they expired,
 * so a refresh that cannot reach the upstream fails with `temporarily_unavailable` *before*
 * the client's refresh token rotates (it can simply try again). Only for a token that is
 * live and the caller's: anything else goes straight to the engine, which rejects it (and
 * revokes the family on reuse).
 */
async function refreshUpstreamFirst(deps: HttpDeps, refreshToken: string, clientId: string): Promise<void> {
  const row = await findRefreshToken(deps.db, sha256Base64Url(refreshToken));
  if (!row || row.status !== 'active') return;
  const grant = await findGrant(deps.db, row.grantId);
  if (!grant || grant.status !== 'active' || grant.clientId !== clientId) return;
  await deps.upstreamTokens.ensureFresh(row.grantId);
}

/** The client a request claims to be (for security events; unverified). */
function claimedClientId(request: Request, form: Params): string | undefined {
  const header = request.headers.get('authorization') ?? '';
  if (/^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      try {
        return decodeURIComponent(decoded.slice(0, colon));
      } catch {
        return undefined;
      }
    }
  }
  return form.get('client_id');
}

/** The security-event kind of a refused grant (nothing secret in it). */
function rejectionKind(error: OAuthError): string {
  const detail = error.detail ?? '';
  if (detail.includes('PKCE') || detail.includes('verifier')) return 'pkce_failed';
  if (detail.includes('reuse')) return 'reuse_detected';
  return `token_${error.code}`;
}

/** Handles `POST /token`. */
export async function token(request: Request, deps: HttpDeps): Promise<Response> {
  let usedBasic = /^basic /i.test(request.headers.get('authorization') ?? '');
  let clientId: string | undefined;
  try {
    const form = singleValued(await formBody(request));
    const grantType = required(form, 'grant_type');
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
      throw new UnsupportedGrantType('only authorization_code and refresh_token are supported');
    }
    clientId = claimedClientId(request, form);
    const auth = await authenticateClient(request, form, deps.db);
    usedBasic = auth.usedBasic;
    const client = auth.client;
    clientId = client.clientId;
    if (!client.metadata.grant_types.includes(grantType)) {
      throw new UnauthorizedClient(`the client is not registered for the ${grantType} grant`);
    }
    let tokens: IssuedTokens;
    if (grantType === 'authorization_code') {
      tokens = await deps.engine.execute({
        type: 'RedeemCode',
        code: required(form, 'code'),
        clientId: client.clientId,
        codeVerifier: required(form, 'code_verifier'),
        redirectUri: optional(form, 'redirect_uri') ?? null,
        resource: resourceParam(form, deps),
        issueRefreshToken: client.metadata.grant_types.includes('refresh_token'),
      });
    } else {
      const scope = optional(form, 'scope');
      await refreshUpstreamFirst(deps, required(form, 'refresh_token'), client.clientId);
      tokens = await deps.engine.execute({
        type: 'RefreshGrant',
        refreshToken: required(form, 'refresh_token'),
        clientId: client.clientId,
        scopes: scope === undefined ? null : parseScope(scope),
        resource: resourceParam(form, deps),
      });
    }
    deps.log.info({ clientId: client.clientId, grantType, grantId: tokens.grantId }, 'tokens issued');
    void deps.engine.execute({ type: 'TouchClient', clientId: client.clientId }).catch(() => {});
    return tokenResponse(tokens);
  } catch (error) {
    if (error instanceof ClientAuthError) {
      await deps.securityEvents.record('client_auth_failed', clientId);
      return oauthErrorResponse(error, { basicChallenge: error.usedBasic || usedBasic });
    }
    if (error instanceof OAuthError) {
      if (['invalid_grant', 'invalid_target', 'invalid_scope', 'unauthorized_client'].includes(error.code)) {
        await deps.securityEvents.record(rejectionKind(error), clientId);
      }
      return oauthErrorResponse(error, { basicChallenge: usedBasic });
    }
    throw error;
  }
}

/** Any method but POST at the token endpoint. */
export function tokenMethodNotAllowed(): Response {
  return oauthErrorResponse(new InvalidRequest('the token endpoint accepts POST only'), { headers: { Allow: 'POST, OPTIONS' } });
}

/**
 * `POST /register`: dynamic client registration (RFC 7591 §3).
 *
 * - Modes: `open`, `token` (an initial access token is required, §3), `off` (no endpoint).
 * - Every redirect URI passes the built-in checks (absolute; https, or http on a loopback
 *   host, or a private-use scheme with a period; no fragment, userinfo, dot segments,
 *   whitespace or dangerous scheme) and the operator's patterns; otherwise
 *   `invalid_redirect_uri` (§3.2.2) and nothing is registered.
 * - The `client_id` is chosen by flowgate (128 random bits), never by the request. A
 *   confidential client's secret is returned once and stored only as its hash.
 * - Requests are bounded in size and per client IP per hour (in memory, per instance).
 *
 * @module
 */
import { z } from 'zod';
import { constantTimeEqual, randomToken, sha256Base64Url } from '../../crypto/random.js';
import type { ClientMetadata } from '../../../machines/client-registration.js';
import { InvalidClientMetadata, InvalidRedirectUri, InvalidRequest, InvalidToken, OAuthError, oauthErrorResponse } from '../../oauth/errors.js';
import { matchesAnyRedirectPattern } from '../../oauth/redirect-patterns.js';
import { clientDisplayMembers } from '../../oauth/https-url.js';
import { checkRedirectUriForRegistration } from '../../oauth/redirect-uri.js';
import { parseScope } from '../../oauth/scope.js';
import { clientAddress } from '../client-address.js';
import type { HttpDeps } from '../ports.js';
import { jsonResponse } from '../responses.js';

const metadataSchema = z.object({
  redirect_uris: z.array(z.string().max(2048)).min(1),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token'])).default(['authorization_code']),
  response_types: z.array(z.literal('code')).default(['code']),
  ...clientDisplayMembers,
});

function describeZod(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'the client metadata is not valid';
  const where = issue.path.length ? issue.path.join('.') : 'the request body';
  return `${where}: ${issue.message}`;
}

function tooMany(): Response {
  return jsonResponse(
    { error: 'invalid_request', error_description: 'too many registrations from this address; try again later' },
    429,
    { noStore: true, headers: { 'Retry-After': '3600' } },
  );
}

/** Checks one redirect URI for a client of `applicationType` (SEP-837 `application_type`). */
function redirectProblem(uri: string, applicationType: 'native' | 'web', patterns: readonly string[]): string | undefined {
  const check = checkRedirectUriForRegistration(uri);
  if (!check.ok) return check.reason;
  if (applicationType === 'web') {
    const url = new URL(uri);
    if (url.protocol !== 'https:') return 'a web client must use https redirect URIs';
  }
  if (patterns.length > 0 && !matchesAnyRedirectPattern(uri, patterns)) return 'the redirect URI is not allowed by this server';
  return undefined;
}

/** Handles `POST /register`. */
export async function register(request: Request, deps: HttpDeps, socketAddress: string | undefined): Promise<Response> {
  const { settings } = deps;
  try {
    if (settings.registration.mode === 'token') {
      const header = request.headers.get('authorization') ?? '';
      const presented = /^bearer /i.test(header) ? header.slice(7).trim() : '';
      let ok = false;
      for (const token of settings.registration.initialAccessTokens) ok = constantTimeEqual(token, presented) || ok;
      if (!ok) {
        await deps.securityEvents.record('registration_token_rejected');
        return oauthErrorResponse(new InvalidToken('a valid initial access token is required to register'), {
          headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
        });
      }
    }
    const ip = clientAddress(request, settings.trustProxy, socketAddress);
    if (!deps.registrationLimiter.take(ip)) {
      await deps.securityEvents.record('registration_rate_limited');
      return tooMany();
    }
    const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new InvalidRequest('the registration request must be application/json');
    const text = await request.text();
    if (text.length > settings.registration.maxBodyBytes) throw new InvalidClientMetadata('the registration request is too large');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new InvalidClientMetadata('the registration request is not valid JSON');
    }
    const parsed = metadataSchema.safeParse(body);
    if (!parsed.success) throw new InvalidClientMetadata(describeZod(parsed.error));
    const input = parsed.data;
    if (!input.grant_types.includes('authorization_code')) {
      throw new InvalidClientMetadata('grant_types must include authorization_code');
    }
    if (input.redirect_uris.length > settings.registration.maxRedirectUris) {
      throw new InvalidRedirectUri(`at most ${settings.registration.maxRedirectUris} redirect URIs may be registered`);
    }
    for (const uri of input.redirect_uris) {
      const problem = redirectProblem(uri, input.application_type, settings.registration.redirectPatterns);
      if (problem) {
        await deps.securityEvents.record('registration_redirect_rejected');
        throw new InvalidRedirectUri(problem);
      }
    }
    const offered = settings.scopes.map((s) => s.name);
    const scopes = input.scope === undefined ? undefined : parseScope(input.scope);
    if (scopes && !scopes.every((s) => offered.includes(s))) {
      throw new InvalidClientMetadata('scope names a scope this server does not offer');
    }
    const confidential = input.token_endpoint_auth_method !== 'none';
    const secret = confidential ? randomToken(32) : undefined;
    const metadata: ClientMetadata = {
      redirect_uris: input.redirect_uris,
      token_endpoint_auth_method: input.token_endpoint_auth_method,
      grant_types: input.grant_types,
      response_types: input.response_types,
      application_type: input.application_type,
      ...(scopes ? { scope: scopes.join(' ') } : {}),
      ...(input.client_name ? { client_name: input.client_name } : {}),
      ...(input.client_uri ? { client_uri: input.client_uri } : {}),
      ...(input.logo_uri ? { logo_uri: input.logo_uri } : {}),
      ...(input.tos_uri ? { tos_uri: input.tos_uri } : {}),
      ...(input.policy_uri ? { policy_uri: input.policy_uri } : {}),
      ...(input.software_id ? { software_id: input.software_id } : {}),
      ...(input.software_version ? { software_version: input.software_version } : {}),
    };
    const registered = await deps.engine.execute({
      type: 'RegisterClient',
      kind: 'dynamic',
      metadata,
      secretHash: secret ? sha256Base64Url(secret) : null,
      allowedPatterns: settings.registration.redirectPatterns,
    });
    deps.log.info({ clientId: registered.clientId, confidential }, 'client registered');
    return jsonResponse(
      {
        client_id: registered.clientId,
        client_id_issued_at: Math.floor(registered.registeredAt / 1000),
        ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
        ...metadata,
      },
      201,
      { noStore: true },
    );
  } catch (error) {
    if (error instanceof OAuthError) return oauthErrorResponse(error);
    throw error;
  }
}

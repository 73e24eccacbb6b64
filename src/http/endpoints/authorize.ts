/**
 * `GET|POST /authorize` (OAuth 2.1 §4.1.1).
 *
 * - The client and its redirect URI are checked first; if either is wrong the answer is a
 *   local HTML page, never a redirect (OAuth 2.1 §4.1.2.1, RFC 9700 §4.11.2).
 * - Then `response_type=code`, S256 PKCE (`plain`, a missing or an unknown method refused:
 *   RFC 7636, OAuth 2.1 §4.1.1), the resource (RFC 8707: absent → the default; unknown →
 *   `invalid_target`) and the scopes (absent → the defaults; unknown → `invalid_scope`).
 *   These errors are found before the user consented, so they are shown locally too,
 *   unless the redirect URI is loopback, where a redirect with `error`, `state` and `iss`
 *   is low-risk (security-invariants item 13).
 * - A valid request starts a flow bound to this browser and goes to the consent page, or
 *   (consent remembered or off) straight upstream — with `consent.approved` and its basis
 *   in the log either way.
 *
 * @module
 */
import type { ClientRecord } from '../../projections/clients.js';
import { InvalidRequest, InvalidScope, OAuthError, UnauthorizedClient, UnsupportedResponseType, toOAuthError } from '../../oauth/errors.js';
import { isValidCodeChallenge } from '../../oauth/pkce.js';
import { isLoopbackRedirect } from '../../oauth/redirect-uri.js';
import { selectResource } from '../../oauth/resource.js';
import { parseScope } from '../../oauth/scope.js';
import { browserHash, ensureBrowserId } from '../browser-binding.js';
import { clientRedirect, lookupClient, resolveRedirectUri } from '../clients.js';
import { errorPage } from '../html/error-page.js';
import { optional, requestParams, type Params } from '../params.js';
import type { HttpDeps } from '../ports.js';
import { isRemembered, navigationAllowsRememberedConsent } from '../remembered-consent.js';
import { htmlResponse, redirectResponse } from '../responses.js';
import { endpointsOf } from '../settings.js';

const MAX_STATE_LENGTH = 1024;

/** A local error page for a request whose client or redirect URI cannot be trusted. */
function localError(title: string, message: string, code: string, status = 400): Response {
  return htmlResponse(errorPage(title, message, code), status);
}

/** Checks the protocol parameters of a request whose client and redirect URI are trusted. */
function checkRequest(params: Params, client: ClientRecord, deps: HttpDeps): { resource: string; scopes: string[]; challenge: string } {
  const { settings } = deps;
  if (params.get('response_type') !== 'code') throw new UnsupportedResponseType('response_type must be code');
  if (!client.metadata.grant_types.includes('authorization_code')) {
    throw new UnauthorizedClient('the client is not registered for the authorization_code grant');
  }
  const challenge = optional(params, 'code_challenge');
  if (challenge === undefined) throw new InvalidRequest('code_challenge is required (PKCE with S256)');
  const method = optional(params, 'code_challenge_method');
  if (method !== 'S256') throw new InvalidRequest('code_challenge_method must be S256');
  if (!isValidCodeChallenge(challenge)) throw new InvalidRequest('code_challenge is not a valid S256 challenge');
  const state = optional(params, 'state');
  if (state !== undefined && state.length > MAX_STATE_LENGTH) throw new InvalidRequest('state is too long');
  const resource = selectResource(optional(params, 'resource'), settings.resources.map((r) => r.uri), settings.defaultResource);
  const requested = parseScope(optional(params, 'scope'));
  const scopes = requested.length > 0 ? requested : [...settings.defaultScopes];
  const forResource = settings.resources.find((r) => r.uri === resource)?.scopes ?? [];
  const clientScopes = client.metadata.scope ? parseScope(client.metadata.scope) : undefined;
  for (const scope of scopes) {
    if (!forResource.includes(scope) || (clientScopes && !clientScopes.includes(scope))) {
      throw new InvalidScope('a requested scope is not offered for this resource or this client');
    }
  }
  return { resource, scopes, challenge };
}

/** Handles `/authorize`. */
export async function authorize(request: Request, deps: HttpDeps): Promise<Response> {
  const { settings } = deps;
  let params: Params;
  try {
    params = await requestParams(request);
  } catch (error) {
    const e = toOAuthError(error);
    return localError('Invalid authorization request', e.description, e.code);
  }
  const clientId = optional(params, 'client_id');
  if (clientId === undefined) return localError('Invalid authorization request', 'The request names no client (client_id is missing).', 'invalid_request');
  const found = await lookupClient(deps, clientId);
  if (!found.ok) {
    if (found.problem === 'metadata_document') {
      await deps.securityEvents.record('metadata_document_refused');
      return localError('Application not accepted', `This application identifies itself with a URL, but ${found.reason}.`, 'invalid_client');
    }
    await deps.securityEvents.record('unknown_client');
    return localError(
      'Application not registered',
      'This application is not registered with this server (or its registration expired). Reconnect it so that it registers again.',
      'invalid_client',
    );
  }
  const client = found.client;
  const redirect = resolveRedirectUri(client, optional(params, 'redirect_uri'), settings, found.redirectRule);
  if (!redirect.ok) {
    await deps.securityEvents.record('redirect_uri_rejected', client.clientId);
    return localError('Invalid redirect URI', `The authorization request was refused: ${redirect.reason}.`, 'invalid_request');
  }
  const redirectUri = redirect.uri;
  const state = optional(params, 'state');

  let checked: ReturnType<typeof checkRequest>;
  try {
    checked = checkRequest(params, client, deps);
  } catch (error) {
    const e = toOAuthError(error);
    // Before consent, only a loopback client gets a redirected error (security-invariants item 13).
    if (!(e instanceof OAuthError) || !e.allowRedirect || !isLoopbackRedirect(redirectUri)) {
      return localError('Invalid authorization request', e.description, e.code);
    }
    return redirectResponse(
      clientRedirect(redirectUri, { error: e.code, error_description: e.description, state, iss: settings.issuer }),
    );
  }

  const keys = await deps.keys.cookieKeys();
  const cookieOptions = { secure: settings.secureCookies, maxAgeSeconds: Math.ceil(settings.flowTtlMs / 1000) };
  const browser = ensureBrowserId(request, keys, cookieOptions);
  let silentConsent: 'remembered' | 'disabled' | undefined;
  if (settings.consent.mode === 'off') silentConsent = 'disabled';
  else if (
    settings.consent.mode === 'remember' &&
    navigationAllowsRememberedConsent(request) &&
    isRemembered(request, keys, { secure: settings.secureCookies, now: deps.clock(), clientId: client.clientId, redirectUri })
  ) {
    silentConsent = 'remembered';
  }
  const started = await deps.engine.execute({
    type: 'StartFlow',
    clientId: client.clientId,
    redirectUri,
    codeChallenge: checked.challenge,
    scopes: checked.scopes,
    resource: checked.resource,
    clientState: state ?? null,
    browserHash: browserHash(browser.id),
    ...(silentConsent ? { silentConsent } : {}),
  });
  deps.log.info({ flowId: started.flowId, clientId: client.clientId, consent: silentConsent ?? 'page' }, 'flow started');
  const endpoints = endpointsOf(settings);
  if (started.upstream) {
    const url = await deps.upstream.authorizationUrl({
      state: started.upstream.state,
      codeChallenge: started.upstream.codeChallenge,
      nonce: started.upstream.nonce,
      redirectUri: endpoints.callback,
    });
    return redirectResponse(url.toString(), 302, [['Set-Cookie', browser.setCookie]]);
  }
  return redirectResponse(`${endpoints.consent}?flow=${encodeURIComponent(started.flowId)}`, 303, [['Set-Cookie', browser.setCookie]]);
}

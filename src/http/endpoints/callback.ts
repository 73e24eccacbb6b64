/**
 * `GET <redirectPath>` (default `/auth/callback`): the upstream's authorization response
 * (RFC 6749 §4.1.2, RFC 9207).
 *
 * - An unknown, expired or replayed upstream `state` is a local error page: nothing
 *   identifies a client to redirect to.
 * - A code (or an error) is accepted only from the browser that approved consent
 *   (GHSA-rww4-4w9c-7733: another browser gets a 403 page, no code, and the flow goes on),
 *   and only once.
 * - The exchange uses flowgate's own PKCE verifier and client credentials; the upstream
 *   tokens are sealed before they reach the log; the client gets flowgate's own code with
 *   its `state` and `iss`.
 * - Upstream errors reach the client as OAuth errors without the upstream's text.
 *
 * @module
 */
import { FlowError } from '../../engine/errors.js';
import { toOAuthError } from '../../oauth/errors.js';
import { browserHash, readBrowserId } from '../browser-binding.js';
import { clientRedirect } from '../clients.js';
import { errorPage } from '../html/error-page.js';
import { singleValued } from '../params.js';
import type { HttpDeps } from '../ports.js';
import { htmlResponse, redirectResponse } from '../responses.js';
import { endpointsOf } from '../settings.js';
import { flowErrorPage } from './consent.js';

/** Handles the upstream callback. */
export async function upstreamCallback(request: Request, deps: HttpDeps): Promise<Response> {
  const { settings } = deps;
  const url = new URL(request.url);
  let params: ReturnType<typeof singleValued>;
  try {
    params = singleValued(url.searchParams);
  } catch (error) {
    return htmlResponse(errorPage('Invalid response', toOAuthError(error).description, 'invalid_request'), 400);
  }
  const state = params.get('state');
  if (!state) return htmlResponse(errorPage('Invalid response', 'The identity provider answered without a state.', 'invalid_request'), 400);
  try {
    const upstreamError = params.get('error');
    if (upstreamError === undefined && !params.get('code')) {
      return htmlResponse(errorPage('Invalid response', 'The identity provider answered without a code.', 'invalid_request'), 400);
    }
    // Success or error, only the browser that started the flow may end it: whoever else learnt
    // the upstream state could otherwise cancel the user's sign-in and read the client's state.
    const keys = await deps.keys.cookieKeys();
    const browserId = readBrowserId(request, keys, settings.secureCookies);
    if (!browserId) {
      await deps.securityEvents.record('browser_binding_missing');
      return htmlResponse(
        errorPage('Wrong browser', 'This sign-in was approved in another browser. Start again from your application in this browser.', 'browser_mismatch'),
        403,
      );
    }
    if (upstreamError !== undefined) {
      const code = deps.upstream.authorizationErrorCode(upstreamError);
      const back = await deps.engine.execute({ type: 'RecordUpstreamError', upstreamState: state, error: code, browserHash: browserHash(browserId) });
      deps.log.info({ clientId: back.clientId, error: code }, 'upstream refused the authorization');
      return redirectResponse(
        clientRedirect(back.redirectUri, {
          error: code,
          error_description: code === 'access_denied' ? 'the user or the identity provider denied the request' : 'the identity provider could not authorize the request',
          state: back.clientState,
          iss: settings.issuer,
        }),
      );
    }
    const accepted = await deps.engine.execute({ type: 'AcceptCallback', upstreamState: state, browserHash: browserHash(browserId) });
    let signIn: Awaited<ReturnType<typeof deps.upstream.signIn>>;
    try {
      signIn = await deps.upstream.signIn({
        callbackUrl: url,
        expectedState: state,
        codeVerifier: accepted.codeVerifier,
        redirectUri: endpointsOf(settings).callback,
        nonceHash: accepted.nonceHash,
      });
    } catch (error) {
      const clientError = deps.upstream.clientError(error, 'exchange');
      deps.log.warn({ flowId: accepted.flowId, error: clientError.code, detail: clientError.detail }, 'upstream exchange failed');
      const back = await deps.engine.execute({ type: 'FailUpstreamExchange', flowId: accepted.flowId, error: clientError.code });
      return redirectResponse(
        clientRedirect(back.redirectUri, {
          error: clientError.code,
          error_description: clientError.description,
          state: back.clientState,
          iss: settings.issuer,
        }),
      );
    }
    const issued = await deps.engine.execute({
      type: 'CompleteUpstreamExchange',
      flowId: accepted.flowId,
      subject: signIn.subject,
      claims: Object.keys(signIn.claims).length > 0 ? signIn.claims : null,
      tokenSet: signIn.tokenSet,
      upstreamExpiresAt: signIn.expiresAt,
      refreshable: signIn.refreshable,
      grantedScopes: accepted.scopes,
    });
    deps.log.info({ flowId: accepted.flowId, clientId: issued.clientId }, 'code issued');
    return redirectResponse(clientRedirect(issued.redirectUri, { code: issued.code, state: issued.clientState, iss: settings.issuer }));
  } catch (error) {
    if (error instanceof FlowError) {
      if (error.problem === 'browser_mismatch') await deps.securityEvents.record('browser_binding_mismatch');
      return flowErrorPage(error);
    }
    throw error;
  }
}

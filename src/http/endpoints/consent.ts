/**
 * `GET /consent` shows flowgate's consent page; `POST /consent` takes the decision
 * (MCP security best practices: consent per client before anything goes upstream).
 *
 * - Both need the browser that started the flow (its binding cookie); another browser
 *   gets a 403 page.
 * - The form's CSRF token is bound to the flow and this browser; a missing or wrong one is
 *   a 403 page and changes nothing. The flow's machine makes the decision single-use.
 * - Approve records `consent.approved` (basis `user`) and sends the browser upstream with
 *   flowgate's own state, PKCE and nonce. Deny records `consent.denied` and redirects the
 *   client with `access_denied`, its `state` and `iss` — an explicit user action, so this is
 *   the one pre-login redirect a non-loopback client gets.
 *
 * @module
 */
import { verifiedDomainOf } from '../../cimd/client-id.js';
import { FlowError } from '../../engine/errors.js';
import { findClient } from '../../projections/clients.js';
import { toOAuthError } from '../../oauth/errors.js';
import { browserHash, csrfMatches, csrfToken, readBrowserId } from '../browser-binding.js';
import { clientRedirect } from '../clients.js';
import { consentPage } from '../html/consent-page.js';
import { errorPage } from '../html/error-page.js';
import { formBody, singleValued } from '../params.js';
import type { HttpDeps } from '../ports.js';
import { rememberApproval } from '../remembered-consent.js';
import { htmlResponse, redirectResponse } from '../responses.js';
import { endpointsOf } from '../settings.js';

const FLOW_PROBLEM_TITLES: Record<string, string> = {
  not_found: 'Unknown authorization request',
  expired: 'Authorization request expired',
  browser_mismatch: 'Wrong browser',
  already_used: 'Authorization request already decided',
  wrong_state: 'Authorization request not ready',
};

/** The page for a refused flow step. */
export function flowErrorPage(error: FlowError): Response {
  return htmlResponse(errorPage(FLOW_PROBLEM_TITLES[error.problem] ?? 'Authorization failed', error.message, error.problem), error.status);
}

function noBrowser(): Response {
  return htmlResponse(
    errorPage(
      'Wrong browser',
      'This authorization request was started in another browser, or this browser does not keep cookies. Start again from your application in this browser.',
      'browser_mismatch',
    ),
    403,
  );
}

function hostOf(uri: string): string {
  try {
    return new URL(uri).host || uri;
  } catch {
    return uri;
  }
}

/** Handles `GET /consent?flow=…`. */
export async function showConsent(request: Request, deps: HttpDeps): Promise<Response> {
  const { settings } = deps;
  let flowId: string | undefined;
  try {
    flowId = singleValued(new URL(request.url).searchParams).get('flow');
  } catch (error) {
    return htmlResponse(errorPage('Invalid request', toOAuthError(error).description, 'invalid_request'), 400);
  }
  if (!flowId) return htmlResponse(errorPage('Invalid request', 'The consent page needs a flow.', 'invalid_request'), 400);
  const keys = await deps.keys.cookieKeys();
  const browserId = readBrowserId(request, keys, settings.secureCookies);
  if (!browserId) {
    await deps.securityEvents.record('browser_binding_missing');
    return noBrowser();
  }
  try {
    const view = await deps.engine.execute({ type: 'ShowConsent', flowId, browserHash: browserHash(browserId) });
    const client = await findClient(deps.db, view.clientId);
    const kind = client?.kind ?? 'dynamic';
    const descriptions = new Map(settings.scopes.map((s) => [s.name, s.description]));
    const html = consentPage({
      action: endpointsOf(settings).consent,
      flowId,
      csrf: csrfToken(keys, flowId, browserId),
      clientName: client?.metadata.client_name ?? view.clientId,
      clientTrust:
        kind === 'static'
          ? { kind: 'verified', label: 'registered by the operator' }
          : kind === 'metadata_document'
            ? { kind: 'verified', label: `verified domain ${verifiedDomainOf(view.clientId)}` }
            : { kind: 'unverified' },
      clientId: view.clientId,
      redirectHost: hostOf(view.redirectUri),
      redirectUri: view.redirectUri,
      scopes: view.scopes.map((name) => ({ name, description: descriptions.get(name) ?? name })),
      resource: view.resource,
      upstreamName: deps.upstream.displayName,
    });
    return htmlResponse(html);
  } catch (error) {
    if (error instanceof FlowError) {
      if (error.problem === 'browser_mismatch') await deps.securityEvents.record('browser_binding_mismatch');
      return flowErrorPage(error);
    }
    throw error;
  }
}

/** Handles `POST /consent` (the Approve or Deny button). */
export async function decideConsent(request: Request, deps: HttpDeps): Promise<Response> {
  const { settings } = deps;
  let form: ReturnType<typeof singleValued>;
  try {
    form = singleValued(await formBody(request));
  } catch (error) {
    return htmlResponse(errorPage('Invalid request', toOAuthError(error).description, 'invalid_request'), 400);
  }
  const flowId = form.get('flow');
  const decision = form.get('decision');
  const csrf = form.get('csrf') ?? '';
  if (!flowId || (decision !== 'approve' && decision !== 'deny')) {
    return htmlResponse(errorPage('Invalid request', 'The consent form is incomplete.', 'invalid_request'), 400);
  }
  const keys = await deps.keys.cookieKeys();
  const browserId = readBrowserId(request, keys, settings.secureCookies);
  if (!browserId) {
    await deps.securityEvents.record('browser_binding_missing');
    return noBrowser();
  }
  if (!csrfMatches(keys, flowId, browserId, csrf)) {
    await deps.securityEvents.record('csrf_failed');
    return htmlResponse(
      errorPage('Request not accepted', 'The consent form was not submitted from this browser’s consent page. Start again from your application.', 'csrf'),
      403,
    );
  }
  const hash = browserHash(browserId);
  try {
    if (decision === 'deny') {
      const back = await deps.engine.execute({ type: 'DenyConsent', flowId, browserHash: hash });
      deps.log.info({ flowId, clientId: back.clientId }, 'consent denied');
      return redirectResponse(
        clientRedirect(back.redirectUri, {
          error: 'access_denied',
          error_description: 'the user denied the request',
          state: back.clientState,
          iss: settings.issuer,
        }),
        303,
      );
    }
    const approved = await deps.engine.execute({ type: 'ApproveConsent', flowId, browserHash: hash });
    deps.log.info({ flowId }, 'consent approved');
    const endpoints = endpointsOf(settings);
    const url = await deps.upstream.authorizationUrl({
      state: approved.upstream.state,
      codeChallenge: approved.upstream.codeChallenge,
      nonce: approved.upstream.nonce,
      redirectUri: endpoints.callback,
    });
    const headers: Array<[string, string]> = [];
    if (settings.consent.mode === 'remember') {
      const flow = await deps.engine.store.readStream(`flow:${flowId}`);
      const started = flow[0]?.data as { clientId: string; redirectUri: string } | undefined;
      if (started) {
        headers.push([
          'Set-Cookie',
          rememberApproval(request, keys, {
            secure: settings.secureCookies,
            now: deps.clock(),
            clientId: started.clientId,
            redirectUri: started.redirectUri,
            days: settings.consent.rememberDays,
          }),
        ]);
      }
    }
    return redirectResponse(url.toString(), 303, headers);
  } catch (error) {
    if (error instanceof FlowError) {
      if (error.problem === 'browser_mismatch') await deps.securityEvents.record('browser_binding_mismatch');
      return flowErrorPage(error);
    }
    throw error;
  }
}

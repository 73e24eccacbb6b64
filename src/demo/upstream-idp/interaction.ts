/**
 * The login page: `GET|POST /interaction/:uid`. A plain HTML form (username, password,
 * "Sign in", "Cancel"); a wrong password re-renders it with an error (200), the right one
 * finishes the login (303), Cancel finishes with `access_denied`. A consent prompt (not
 * expected: consent is skipped through `loadExistingGrant`) is granted automatically.
 *
 * @module
 */
import type { InteractionResults } from 'oidc-provider';
import { constantTimeEqual } from '../../crypto/random.js';
import { findUser } from './config.js';
import { readUrlencodedBody } from './form-body.js';
import { renderErrorPage, renderLoginPage } from './html.js';
import { seeOther, type IdpContext, type IdpMiddleware, type ProviderInstance } from './middleware.js';
import type { UpstreamIdpStats, UpstreamIdpUser } from './types.js';

const PATH = /^\/interaction\/([A-Za-z0-9_-]+)$/;

/** The message shown for a wrong username or password. */
export const INVALID_LOGIN_MESSAGE = 'Invalid username or password.';

/** What the login middleware needs. */
export interface LoginInteractionDeps {
  readonly provider: ProviderInstance;
  readonly issuer: string;
  readonly users: Readonly<Record<string, UpstreamIdpUser>>;
  readonly stats: UpstreamIdpStats;
  /** Path prefix the IdP is served under (`''` at the root). */
  readonly mountPath?: string;
}

function sendHtml(ctx: IdpContext, status: number, html: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = html;
}

interface ConsentDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
}

/** The `GET|POST /interaction/:uid` middleware. */
export function loginInteraction(deps: LoginInteractionDeps): IdpMiddleware {
  const { provider, users, stats } = deps;

  return async (ctx, next) => {
    const match = PATH.exec(ctx.path);
    if (!match) return void (await next());
    if (ctx.method !== 'GET' && ctx.method !== 'POST') {
      ctx.set('Allow', 'GET, POST');
      return sendHtml(ctx, 405, renderErrorPage('Method not allowed', { method: ctx.method }));
    }

    let details: Awaited<ReturnType<ProviderInstance['interactionDetails']>>;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      return sendHtml(
        ctx,
        400,
        renderErrorPage('Sign-in session not found', {
          error: 'invalid_request',
          error_description: 'The sign-in session expired or its cookie is missing; start again from the application.',
        }),
      );
    }
    if (details.uid !== match[1]) {
      return sendHtml(ctx, 400, renderErrorPage('Sign-in session mismatch', { error: 'invalid_request' }));
    }

    const { prompt, params } = details;
    const finish = async (result: InteractionResults, merge = false): Promise<void> => {
      seeOther(ctx, await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: merge }));
    };

    if (prompt.name === 'consent') {
      const accountId = details.session?.accountId;
      const clientId = String(params.client_id);
      const grant = details.grantId
        ? ((await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId }))
        : new provider.Grant({ accountId, clientId });
      const missing = prompt.details as ConsentDetails;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      return finish({ consent: { grantId: await grant.save() } }, true);
    }
    if (prompt.name !== 'login') {
      return sendHtml(ctx, 400, renderErrorPage('Unsupported prompt', { prompt: prompt.name }));
    }

    const show = (status: number, username: string | undefined, error?: string): void =>
      sendHtml(
        ctx,
        status,
        renderLoginPage({
          action: `${deps.mountPath ?? ''}/interaction/${details.uid}`,
          clientId: String(params.client_id ?? ''),
          scope: String(params.scope ?? ''),
          issuer: deps.issuer,
          ...(username === undefined ? {} : { username }),
          ...(error === undefined ? {} : { error }),
        }),
      );

    if (ctx.method === 'GET') {
      return show(200, typeof params.login_hint === 'string' ? params.login_hint : undefined);
    }

    let form: URLSearchParams;
    try {
      form = await readUrlencodedBody(ctx.req);
    } catch {
      return sendHtml(ctx, 413, renderErrorPage('Request too large', { error: 'invalid_request' }));
    }
    if (form.get('action') === 'cancel') {
      stats.cancelledLogins += 1;
      return finish({ error: 'access_denied', error_description: 'End-User cancelled the sign-in' });
    }

    const username = (form.get('username') ?? '').trim();
    const password = form.get('password') ?? '';
    const user = findUser(users, username);
    // Compare even for an unknown user, so timing does not reveal which usernames exist.
    const passwordOk = constantTimeEqual(password, user?.password ?? '\u0000no-such-user');
    if (!user || !passwordOk) {
      stats.failedLogins += 1;
      return show(200, username, INVALID_LOGIN_MESSAGE);
    }
    stats.logins += 1;
    return finish({ login: { accountId: username } });
  };
}

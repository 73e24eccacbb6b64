/**
 * A GitHub-like REST API on the IdP (mode `'github'`): `GET /user` and `GET /user/emails`,
 * authenticated with `Authorization: Bearer <token>` or `token <token>` and looked up with
 * `provider.AccessToken.find`. Bad tokens get 401 `{"message":"Bad credentials"}`.
 *
 * @module
 */
import { findUser } from './config.js';
import { sendJson, type IdpMiddleware, type ProviderInstance } from './middleware.js';
import type { UpstreamIdpStats, UpstreamIdpUser } from './types.js';

/** Paths of the GitHub-like API. */
export const GITHUB_API_PATHS = { user: '/user', userEmails: '/user/emails' } as const;

const DOCS = 'https://docs.github.com/rest';

/** What the GitHub-like API needs. */
export interface GithubApiDeps {
  readonly provider: ProviderInstance;
  readonly users: Readonly<Record<string, UpstreamIdpUser>>;
  readonly stats: UpstreamIdpStats;
  /** Path prefix of the API (`/api/v3` as on GitHub Enterprise Server; default none). */
  readonly prefix?: string;
}

/** The parts of an oidc-provider AccessToken this API reads. */
interface FoundAccessToken {
  readonly accountId: string;
  readonly scope?: string | undefined;
}

function tokenFrom(header: string): string | undefined {
  const match = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** The numeric id of a user: explicit, or 1000 + position in the user table. */
function userId(users: Readonly<Record<string, UpstreamIdpUser>>, login: string): number {
  return findUser(users, login)?.id ?? 1000 + Object.keys(users).indexOf(login) + 1;
}

/** The `GET /user` and `GET /user/emails` middleware. */
export function githubApi(deps: GithubApiDeps): IdpMiddleware {
  const { provider, users, stats } = deps;
  return async (ctx, next) => {
    const prefix = deps.prefix ?? '';
    const isUser = ctx.path === prefix + GITHUB_API_PATHS.user;
    const isEmails = ctx.path === prefix + GITHUB_API_PATHS.userEmails;
    if (!isUser && !isEmails) return void (await next());
    if (isUser) stats.userCalls += 1;
    else stats.userEmailsCalls += 1;
    if (ctx.method !== 'GET') {
      ctx.set('Allow', 'GET');
      return sendJson(ctx, 405, { message: 'Method Not Allowed', documentation_url: DOCS });
    }

    const value = tokenFrom(ctx.get('authorization'));
    let token: FoundAccessToken | undefined;
    try {
      token = value ? ((await provider.AccessToken.find(value)) as FoundAccessToken | undefined) : undefined;
    } catch {
      token = undefined;
    }
    const user = token ? findUser(users, token.accountId) : undefined;
    if (!token || !user) {
      ctx.set('WWW-Authenticate', 'Bearer realm="upstream", error="invalid_token"');
      return sendJson(ctx, 401, { message: 'Bad credentials', documentation_url: DOCS });
    }

    const scopes = (token.scope ?? '').split(' ').filter(Boolean);
    ctx.set('X-OAuth-Scopes', scopes.join(', '));
    if (isUser) {
      ctx.set('X-Accepted-OAuth-Scopes', '');
      return sendJson(ctx, 200, {
        login: token.accountId,
        id: userId(users, token.accountId),
        name: user.name,
        email: user.email,
        type: 'User',
      });
    }
    ctx.set('X-Accepted-OAuth-Scopes', 'user, user:email');
    if (!scopes.includes('user:email') && !scopes.includes('user')) {
      return sendJson(ctx, 403, { message: 'This API requires the user:email scope', documentation_url: DOCS });
    }
    return sendJson(ctx, 200, [{ email: user.email, primary: true, verified: true, visibility: 'private' }]);
  };
}

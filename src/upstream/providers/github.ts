/**
 * GitHub OAuth apps (and GitHub Enterprise Server with `baseUrl`): plain OAuth 2, no
 * discovery, no `iss`, no ID token. The subject is the user's numeric `id` from
 * `GET /user` (stable; `login` can be renamed), `login` becomes `preferred_username`, and
 * the primary verified address comes from `GET /user/emails` when `user:email` (or `user`)
 * was granted. Token replies are form-encoded unless JSON is asked for (flowgate asks, and
 * copes with either), and an OAuth app's token has no `expires_in` and no refresh token:
 * flowgate treats it as valid until the upstream rejects it.
 *
 * @module
 */
import type { IdentityHook, UpstreamPreset } from './types.js';
import { baseUrlProblem, trimSlashes } from './urls.js';

/** github.com, whose API lives on its own host. */
const GITHUB = 'https://github.com';

/** Endpoints of github.com, or of a GitHub Enterprise Server at `baseUrl` (API under `/api/v3`). */
export function githubEndpoints(baseUrl: string | undefined) {
  const base = trimSlashes(baseUrl) ?? GITHUB;
  const api = base === GITHUB ? 'https://api.github.com' : `${base}/api/v3`;
  return {
    // What an RFC 9207 `iss` would be; GitHub sends none.
    issuer: new URL(base).origin,
    authorizationEndpoint: `${base}/login/oauth/authorize`,
    tokenEndpoint: `${base}/login/oauth/access_token`,
    userinfoEndpoint: `${api}/user`,
    emailsEndpoint: `${api}/user/emails`,
  };
}

/** GitHub's user object (`GET /user`) as claims: `login` is the username. */
export const githubIdentity: IdentityHook = {
  claims(user) {
    const claims: Record<string, string | boolean> = {};
    if (typeof user.login === 'string' && user.login.length > 0) claims.preferred_username = user.login;
    if (typeof user.name === 'string' && user.name.length > 0) claims.name = user.name;
    // The public profile address, unverified; /user/emails replaces it with a verified one.
    if (typeof user.email === 'string' && user.email.length > 0) claims.email = user.email;
    return claims;
  },
};

/** The `github` preset (see the module documentation). */
export const githubPreset: UpstreamPreset = {
  name: 'github',
  kind: 'oauth2',
  displayName: 'GitHub',
  options: ['baseUrl'],
  defaults: (section) => ({
    ...(baseUrlProblem(section.baseUrl) === undefined ? githubEndpoints(section.baseUrl) : {}),
    subjectField: 'id',
    clientAuthMethod: 'client_secret_post',
    scopes: ['read:user', 'user:email'],
  }),
  check: (section) => {
    const problem = baseUrlProblem(section.baseUrl);
    return problem === undefined ? [] : [{ path: ['baseUrl'], message: problem }];
  },
  identity: githubIdentity,
  emails: 'scoped',
};

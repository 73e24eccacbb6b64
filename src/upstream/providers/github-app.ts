/**
 * GitHub Apps acting for a user (user access tokens): the same endpoints and user API as
 * OAuth apps, but no scopes (the app's permissions apply), user access tokens that expire
 * after 8 hours with a refresh token that lasts 6 months (unless the app opted out of
 * expiring tokens), and e-mail addresses readable only with the "Email addresses" user
 * permission: `GET /user/emails` is always tried, and a 403 or 404 just means no verified
 * address.
 *
 * @module
 */
import { githubEndpoints, githubIdentity } from './github.js';
import type { UpstreamPreset } from './types.js';
import { baseUrlProblem } from './urls.js';

/** The `github-app` preset (see the module documentation). */
export const githubAppPreset: UpstreamPreset = {
  name: 'github-app',
  kind: 'oauth2',
  displayName: 'GitHub',
  options: ['baseUrl'],
  defaults: (section) => ({
    ...(baseUrlProblem(section.baseUrl) === undefined ? githubEndpoints(section.baseUrl) : {}),
    subjectField: 'id',
    clientAuthMethod: 'client_secret_post',
    scopes: [],
  }),
  check: (section) => {
    const problem = baseUrlProblem(section.baseUrl);
    return problem === undefined ? [] : [{ path: ['baseUrl'], message: problem }];
  },
  identity: githubIdentity,
  emails: 'permitted',
};

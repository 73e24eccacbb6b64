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
import { githubPreset } from './github.js';
import type { UpstreamPreset } from './types.js';

/** The `github-app` preset (see the module documentation): GitHub's, without scopes, e-mail as permitted. */
export const githubAppPreset: UpstreamPreset = {
  ...githubPreset,
  name: 'github-app',
  defaults: (section) => ({ ...githubPreset.defaults(section), scopes: [] }),
  emails: 'permitted',
};

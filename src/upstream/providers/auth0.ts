/**
 * Auth0 (OpenID Connect), discovered from `https://<domain>/`: the issuer has a trailing
 * slash, which is part of it. `audience` (the API identifier) is sent in the authorization
 * request, without which Auth0 issues an access token only good for its UserInfo endpoint.
 * Refresh tokens need `offline_access` and "Allow Offline Access" on the API.
 * `private_key_jwt` assertions are addressed to the tenant (the issuer).
 *
 * @module
 */
import type { PresetProblem, UpstreamPreset } from './types.js';
import { domainOrigin, domainProblem } from './urls.js';

/** The `auth0` preset (see the module documentation). */
export const auth0Preset: UpstreamPreset = {
  name: 'auth0',
  kind: 'oidc',
  displayName: 'Auth0',
  options: ['domain', 'audience'],
  requiredOptions: ['domain'],
  defaults: (section) => {
    const origin = domainOrigin(section.domain);
    return {
      ...(origin === undefined ? {} : { issuer: `${origin}/` }),
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      ...(section.audience === undefined ? {} : { extraAuthorizeParams: { audience: section.audience } }),
      assertionAudience: 'issuer',
    };
  },
  check: (section) => {
    const problems: PresetProblem[] = [];
    const domain = domainProblem(section.domain);
    if (domain !== undefined) problems.push({ path: ['domain'], message: domain });
    if (section.audience !== undefined && section.audience.trim() === '') problems.push({ path: ['audience'], message: 'must not be empty' });
    return problems;
  },
};

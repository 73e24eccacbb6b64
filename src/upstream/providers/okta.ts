/**
 * Okta (OpenID Connect) with a custom authorization server, discovered from
 * `https://<domain>/oauth2/<authorizationServerId>` (`default` unless set; the org
 * authorization server, issuer `https://<domain>`, is reached by setting `issuer`).
 * Refresh tokens need `offline_access` and the Refresh Token grant on the app.
 * `private_key_jwt` assertions are addressed to the token endpoint.
 *
 * @module
 */
import type { PresetProblem, UpstreamPreset } from './types.js';
import { domainOrigin, domainProblem } from './urls.js';

/** Okta's authorization server ids: letters and digits (`default`, `aus1a2b3c…`). */
const SERVER_ID = /^[A-Za-z0-9]{1,64}$/;

/** The `okta` preset (see the module documentation). */
export const oktaPreset: UpstreamPreset = {
  name: 'okta',
  kind: 'oidc',
  displayName: 'Okta',
  options: ['domain', 'authorizationServerId'],
  requiredOptions: ['domain'],
  defaults: (section) => {
    const origin = domainOrigin(section.domain);
    const server = section.authorizationServerId ?? 'default';
    return {
      ...(origin === undefined || !SERVER_ID.test(server) ? {} : { issuer: `${origin}/oauth2/${server}` }),
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      assertionAudience: 'token_endpoint',
    };
  },
  check: (section) => {
    const problems: PresetProblem[] = [];
    const domain = domainProblem(section.domain);
    if (domain !== undefined) problems.push({ path: ['domain'], message: domain });
    if (section.authorizationServerId !== undefined && !SERVER_ID.test(section.authorizationServerId)) {
      problems.push({ path: ['authorizationServerId'], message: 'must be an authorization server id such as `default` or `aus1a2b3c4d5e6f7g8h9`' });
    }
    return problems;
  },
};

/**
 * Keycloak (OpenID Connect), discovered from `<baseUrl>/realms/<realm>` (`baseUrl` with
 * `/auth` for Keycloak before version 17). Keycloak issues refresh tokens without
 * `offline_access` (which asks for an offline token instead). `private_key_jwt` ("Signed
 * JWT") assertions are addressed to the realm's issuer.
 *
 * @module
 */
import type { PresetProblem, UpstreamPreset } from './types.js';
import { baseUrlProblem, trimSlashes } from './urls.js';

const REALM = /^[A-Za-z0-9._~-]{1,255}$/;

/** The `keycloak` preset (see the module documentation). */
export const keycloakPreset: UpstreamPreset = {
  name: 'keycloak',
  kind: 'oidc',
  displayName: 'Keycloak',
  options: ['baseUrl', 'realm'],
  requiredOptions: ['baseUrl', 'realm'],
  defaults: (section) => ({
    ...(section.baseUrl !== undefined && baseUrlProblem(section.baseUrl) === undefined && section.realm !== undefined && REALM.test(section.realm)
      ? { issuer: `${trimSlashes(section.baseUrl)}/realms/${section.realm}` }
      : {}),
    scopes: ['openid', 'profile', 'email'],
    assertionAudience: 'issuer',
  }),
  check: (section) => {
    const problems: PresetProblem[] = [];
    const base = baseUrlProblem(section.baseUrl);
    if (base !== undefined) problems.push({ path: ['baseUrl'], message: base });
    if (section.realm !== undefined && !REALM.test(section.realm)) {
      problems.push({ path: ['realm'], message: 'must be a realm name (letters, digits, `.`, `_`, `~`, `-`)' });
    }
    return problems;
  },
};

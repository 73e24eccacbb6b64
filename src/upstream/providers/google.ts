/**
 * Google (OpenID Connect, discovered from `https://accounts.google.com`). Google issues a
 * refresh token only for `access_type=offline`, and only on the first consent unless the
 * request also says `prompt=consent`; both are preset extra parameters (explicit ones win).
 * Google has no `offline_access` scope. Its ID tokens may carry `iss: accounts.google.com`
 * (no scheme), which Google documents as equivalent; the hosted domain of a Workspace
 * account is kept as the `hd` claim.
 *
 * @module
 */
import type { IssuerRule, UpstreamPreset } from './types.js';

/** Google's issuer identifier. */
export const GOOGLE_ISSUER = 'https://accounts.google.com';

/** The scheme-less `iss` Google also uses. */
const BARE_ISSUER = 'accounts.google.com';

/** Accepts Google's two spellings of its own issuer; only for Google's real issuer. */
const googleIssuerRule: IssuerRule = {
  acceptsDiscovered: (issuer) => issuer === GOOGLE_ISSUER,
  expected: (claims, discovered) => ({ issuer: claims.iss === BARE_ISSUER ? BARE_ISSUER : discovered }),
};

/** The `google` preset (see the module documentation). */
export const googlePreset: UpstreamPreset = {
  name: 'google',
  kind: 'oidc',
  displayName: 'Google',
  options: [],
  defaults: () => ({
    issuer: GOOGLE_ISSUER,
    scopes: ['openid', 'email', 'profile'],
    extraAuthorizeParams: { access_type: 'offline', prompt: 'consent' },
  }),
  issuerRule: (config) => (config.issuer === GOOGLE_ISSUER ? googleIssuerRule : undefined),
  identity: {
    claims: (idToken): Record<string, string> => (typeof idToken.hd === 'string' && idToken.hd.length > 0 ? { hd: idToken.hd } : {}),
  },
};

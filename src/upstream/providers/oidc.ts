/**
 * Any OpenID Provider: everything comes from discovery at `issuer` and from explicit
 * options. The same as `kind: 'oidc'` without a preset.
 *
 * @module
 */
import type { UpstreamPreset } from './types.js';

/** The `oidc` preset. */
export const oidcPreset: UpstreamPreset = {
  name: 'oidc',
  kind: 'oidc',
  options: [],
  defaults: () => ({}),
};

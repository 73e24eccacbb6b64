/**
 * The registry of provider presets: every preset by name.
 *
 * @module
 */
import { auth0Preset } from './auth0.js';
import { entraPreset } from './entra.js';
import { githubAppPreset } from './github-app.js';
import { githubPreset } from './github.js';
import { googlePreset } from './google.js';
import { keycloakPreset } from './keycloak.js';
import { oauth2Preset } from './oauth2.js';
import { oidcPreset } from './oidc.js';
import { oktaPreset } from './okta.js';
import type { UpstreamPreset, UpstreamPresetName } from './types.js';

/** Every preset, by name. */
export const UPSTREAM_PRESETS: Readonly<Record<UpstreamPresetName, UpstreamPreset>> = Object.freeze({
  github: githubPreset,
  'github-app': githubAppPreset,
  google: googlePreset,
  entra: entraPreset,
  auth0: auth0Preset,
  okta: oktaPreset,
  keycloak: keycloakPreset,
  oidc: oidcPreset,
  oauth2: oauth2Preset,
});

/** The preset names, in the order they are documented. */
export const UPSTREAM_PRESET_NAMES = Object.freeze(Object.keys(UPSTREAM_PRESETS)) as readonly UpstreamPresetName[];

/**
 * The preset of a configuration, or `undefined` without one.
 *
 * @example
 * ```ts
 * presetFor('github')?.displayName; // 'GitHub'
 * ```
 */
export function presetFor(name: UpstreamPresetName | undefined): UpstreamPreset | undefined {
  return name === undefined ? undefined : UPSTREAM_PRESETS[name];
}

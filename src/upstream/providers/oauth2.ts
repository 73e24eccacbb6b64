/**
 * Any plain OAuth 2 provider with a user API: static endpoints, the subject from
 * `subjectField` of the user API's answer. The same as `kind: 'oauth2'` without a preset.
 *
 * @module
 */
import type { UpstreamPreset } from './types.js';

/** The `oauth2` preset. */
export const oauth2Preset: UpstreamPreset = {
  name: 'oauth2',
  kind: 'oauth2',
  options: [],
  defaults: () => ({}),
};

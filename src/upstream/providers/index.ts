/**
 * Provider presets (`upstream.preset`): one file each in this folder, a registry, and how a
 * preset's defaults are applied to an `upstream` section.
 *
 * @module
 */
export type {
  IdentityHook,
  IssuerRule,
  PresetDefaults,
  PresetOption,
  PresetProblem,
  ScopeTranslation,
  UpstreamPreset,
  UpstreamPresetName,
} from './types.js';
export { PRESET_OPTIONS } from './types.js';
export { presetFor, UPSTREAM_PRESET_NAMES, UPSTREAM_PRESETS } from './registry.js';
export { presetProblems, resolveUpstreamSection } from './resolve.js';

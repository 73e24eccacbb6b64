/**
 * Applies a preset to an `upstream` section: the preset's defaults fill what the section
 * leaves out (explicit values always win; extra parameters merge key by key, explicit keys
 * winning), and the preset's own options are checked.
 *
 * The result is a complete section again, so validating it a second time (flowgate
 * re-parses a configuration it is handed) gives the same result.
 *
 * @module
 */
import type { UpstreamConfig, UpstreamSection } from '../../config/schema.js';
import { presetFor, UPSTREAM_PRESETS } from './registry.js';
import { PRESET_OPTIONS, type PresetProblem } from './types.js';

/** Endpoint-like members a preset may default. */
const DEFAULTED = ['issuer', 'authorizationEndpoint', 'tokenEndpoint', 'userinfoEndpoint', 'emailsEndpoint', 'revocationEndpoint'] as const;

/**
 * The section with its preset's defaults applied (see the module documentation). Without a
 * preset, only the global defaults (`clientAuthMethod: 'client_secret_basic'`).
 *
 * @example
 * ```ts
 * resolveUpstreamSection(upstreamSectionSchema.parse({ preset: 'okta', domain: 'dev-1.okta.com', clientId, clientSecret })).issuer;
 * // 'https://dev-1.okta.com/oauth2/default'
 * ```
 */
export function resolveUpstreamSection(section: UpstreamSection): UpstreamConfig {
  const preset = presetFor(section.preset);
  const defaults = preset?.defaults(section) ?? {};
  const resolved: Record<string, unknown> = { ...section };
  // A preset is one kind or the other; a contradicting `kind` is reported by presetProblems.
  resolved.kind = preset?.kind ?? section.kind ?? 'oidc';
  for (const name of DEFAULTED) {
    if (section[name] === undefined && defaults[name] !== undefined) resolved[name] = defaults[name];
  }
  if (section.displayName === undefined && preset?.displayName !== undefined) resolved.displayName = preset.displayName;
  resolved.clientAuthMethod = section.clientAuthMethod ?? defaults.clientAuthMethod ?? 'client_secret_basic';
  if (section.scopes === undefined && defaults.scopes !== undefined) resolved.scopes = [...defaults.scopes];
  resolved.extraAuthorizeParams = { ...defaults.extraAuthorizeParams, ...section.extraAuthorizeParams };
  resolved.extraTokenParams = { ...defaults.extraTokenParams, ...section.extraTokenParams };
  if (section.clientAssertion !== undefined) {
    resolved.clientAssertion = {
      ...section.clientAssertion,
      audience: section.clientAssertion.audience ?? defaults.assertionAudience ?? 'token_endpoint',
    };
  }
  return resolved as UpstreamConfig;
}

/** The presets that read `option`. */
function presetsReading(option: string): string[] {
  return Object.values(UPSTREAM_PRESETS)
    .filter((p) => (p.options as readonly string[]).includes(option))
    .map((p) => `\`${p.name}\``);
}

/**
 * Problems with the preset part of a section: no `kind` and no preset, a `kind` the preset
 * contradicts, a preset option for another preset, a missing required option, and whatever
 * the preset's own check finds.
 */
export function presetProblems(section: UpstreamSection): PresetProblem[] {
  const preset = presetFor(section.preset);
  const problems: PresetProblem[] = [];
  if (preset === undefined) {
    if (section.kind === undefined) problems.push({ path: ['kind'], message: 'required unless `preset` is set' });
  } else if (section.kind !== undefined && section.kind !== preset.kind) {
    problems.push({ path: ['kind'], message: `preset \`${preset.name}\` is an \`${preset.kind}\` upstream` });
  }
  for (const option of PRESET_OPTIONS) {
    if (section[option] === undefined || preset?.options.includes(option)) continue;
    problems.push({ path: [option], message: `only for preset ${presetsReading(option).join(' or ')}` });
  }
  for (const option of preset?.requiredOptions ?? []) {
    if (section[option] === undefined) problems.push({ path: [option], message: `required for preset \`${preset!.name}\`` });
  }
  if (preset?.check) problems.push(...preset.check(section));
  return problems;
}

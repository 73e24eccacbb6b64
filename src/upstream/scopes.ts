/**
 * Upstream scopes: the requested defaults and what a token response says was granted.
 *
 * @module
 */
import type { UpstreamConfig } from '../config/schema.js';
import type { UpstreamPreset } from './providers/index.js';

/** Requested when `upstream.scopes` is absent: OIDC's basics; nothing for plain OAuth 2. */
export const DEFAULT_OIDC_SCOPES: readonly string[] = Object.freeze(['openid', 'email', 'profile']);

/** The scopes requested upstream. */
export function requestedScopes(config: UpstreamConfig): readonly string[] {
  return Object.freeze([...(config.scopes ?? (config.kind === 'oidc' ? DEFAULT_OIDC_SCOPES : []))]);
}

/**
 * The scopes of a token response's `scope` (RFC 6749 §3.3: space-delimited; GitHub uses
 * commas), or `undefined` when the member is absent or not a string (RFC 6749 §5.1: absent
 * means "as requested").
 *
 * @example
 * ```ts
 * parseScope('repo,read:user'); // ['repo', 'read:user']
 * ```
 */
export function parseScope(value: unknown): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  return [...new Set(value.split(/[\s,]+/).filter(Boolean))];
}

/** Configured scope names as the upstream knows them (the preset's translation, e.g. Entra `api://…/`). */
export function toUpstreamScopes(preset: UpstreamPreset | undefined, config: UpstreamConfig, scopes: readonly string[]): string[] {
  return preset?.scopes ? preset.scopes.toUpstream(scopes, config) : [...scopes];
}

/** Granted upstream scope names as configured (the preset's translation back). */
export function fromUpstreamScopes(preset: UpstreamPreset | undefined, config: UpstreamConfig, scopes: readonly string[]): string[] {
  return preset?.scopes ? preset.scopes.fromUpstream(scopes, config) : [...scopes];
}

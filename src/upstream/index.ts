/**
 * The upstream client: flowgate as ONE confidential OAuth client of the upstream IdP.
 *
 * @module
 */
export { createUpstreamClient, UpstreamClient, type UpstreamClientOptions } from './upstream-client.js';
export type { AuthorizationUrlParams } from './authorization-url.js';
export type { ExchangeCodeOptions, ExchangeCodeParams } from './exchange-code.js';
export type { CallbackInput } from './authorization-response.js';
export type { UpstreamClaims, UpstreamIdentity, UpstreamSignIn, UpstreamTokens, UpstreamTokenSet } from './types.js';
export {
  UpstreamError,
  upstreamErrorToken,
  type UpstreamErrorInit,
  type UpstreamErrorKind,
  type UpstreamErrorReason,
  type UpstreamOperation,
} from './upstream-error.js';
export { clientErrorFor, clientErrorForAuthorizationError } from './client-error.js';
export { isReservedUpstreamParam, RESERVED_UPSTREAM_PARAMS } from './reserved-params.js';
export { isLoopbackHost } from './loopback.js';
export {
  PRESET_OPTIONS,
  presetFor,
  UPSTREAM_PRESET_NAMES,
  UPSTREAM_PRESETS,
  type IdentityHook,
  type IssuerRule,
  type PresetDefaults,
  type PresetOption,
  type ScopeTranslation,
  type UpstreamPreset,
  type UpstreamPresetName,
} from './providers/index.js';
export { ASSERTION_ALGS, ASSERTION_LIFETIME_SECONDS, privateKeyJwt, type AssertionAlg, type ClientAssertionConfig } from './client-assertion.js';

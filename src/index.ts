/**
 * flowgate's public surface: only what is exported here is supported API. Adapters are
 * subpath exports: `flowgate/mcp-sdk`, `flowgate/express`, `flowgate/hono`, `flowgate/node`.
 *
 * @module
 */
export { createFlowgate, type Flowgate, type FlowgateOptions } from './flowgate.js';
export {
  configSchema,
  ConfigError,
  ENV_OVERRIDES,
  loadConfigFile,
  parseConfig,
  type ConfigProblem,
  type EnvOverride,
  type FlowgateConfig,
  type FlowgateConfigInput,
} from './config/index.js';
export type { VerifiedAccess, VerifyOptions } from './resource/verify-access-token.js';
export { bearerGuard, type BearerGuardOptions, type BearerOutcome } from './resource/bearer-guard.js';
export {
  protectedResourceMetadataHandler,
  protectedResourceMetadataUrl,
  type ProtectedResourceMetadataOptions,
} from './resource/protected-resource-metadata.js';
export { authInfoOf, type FlowgateAuthInfo } from './resource/auth-info.js';
export { startServer, type RunningServer, type ServeOptions } from './server/serve.js';
export { OAuthError, InvalidToken, InsufficientScope, type OAuthErrorCode } from './oauth/errors.js';
export { FlowgateError } from './errors/flowgate-error.js';
export {
  AppendOnlyError,
  ConcurrencyError,
  IdempotencyConflictError,
  SchemaTooNewError,
  StoreOpenError,
  type StoredEvent,
} from './store/index.js';
export type { Engine } from './engine/engine.js';
export { replayStream, type ReplayResult, type ReplayStep } from './engine/replay.js';
export { UPSTREAM_PRESET_NAMES, type UpstreamPresetName } from './upstream/providers/index.js';
export type {
  Connect as CimdConnect,
  ConnectResponse as CimdConnectResponse,
  ConnectTarget as CimdConnectTarget,
  Resolve as CimdResolve,
  ResolvedAddress as CimdResolvedAddress,
} from './cimd/net.js';

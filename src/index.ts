/**
 * flowgate's public surface. Only what is exported here is supported API.
 *
 * @module
 */
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
export {
  AppendOnlyError,
  ConcurrencyError,
  EventStore,
  IdempotencyConflictError,
  SchemaTooNewError,
  StoreOpenError,
  openStore,
  type AppendResult,
  type NewEvent,
  type Projection,
  type StoredEvent,
  type StreamAppend,
} from './store/index.js';
export { deriveEventId, newCommandId } from './events/ids.js';
export { FlowgateError } from './errors/flowgate-error.js';

/**
 * Configuration: schema, environment overrides, loading.
 *
 * @module
 */
export { configSchema, type FlowgateConfig, type FlowgateConfigInput } from './schema.js';
export { ENV_OVERRIDES, type EnvOverride } from './env.js';
export { ConfigError, type ConfigProblem } from './errors.js';
export { loadConfigFile, parseConfig, type ConfigSources } from './load.js';

/**
 * The environment variables that override configuration, in one explicit table
 * (documented in docs/configuration.md). Nothing else in flowgate reads `process.env`
 * for configuration.
 *
 * @module
 */

/** How an environment value is turned into a configuration value. */
export type EnvValueType = 'string' | 'integer' | 'boolean';

/** One environment override. */
export interface EnvOverride {
  readonly name: string;
  /** Dotted path of the option it sets. */
  readonly path: string;
  readonly type: EnvValueType;
  readonly description: string;
}

/** Every environment override flowgate honours. */
export const ENV_OVERRIDES: readonly EnvOverride[] = [
  {
    name: 'FLOWGATE_ISSUER',
    path: 'server.issuer',
    type: 'string',
    description: 'The issuer URL (https, or http on a loopback host).',
  },
  {
    name: 'FLOWGATE_HOST',
    path: 'serve.host',
    type: 'string',
    description: 'Interface `flowgate serve` listens on. Default `127.0.0.1`.',
  },
  {
    name: 'FLOWGATE_PORT',
    path: 'serve.port',
    type: 'integer',
    description: 'Port `flowgate serve` listens on. Default 8787.',
  },
  {
    name: 'FLOWGATE_LOG_LEVEL',
    path: 'serve.logLevel',
    type: 'string',
    description: 'Log level (`info` by default).',
  },
  {
    name: 'FLOWGATE_UPSTREAM_CLIENT_ID',
    path: 'upstream.clientId',
    type: 'string',
    description: "The upstream app's client id.",
  },
  {
    name: 'FLOWGATE_UPSTREAM_CLIENT_SECRET',
    path: 'upstream.clientSecret',
    type: 'string',
    description: "The upstream app's client secret (keep it out of configuration files).",
  },
  {
    name: 'FLOWGATE_GATEWAY_IDENTITY_SECRET',
    path: 'gateway.identitySecret',
    type: 'string',
    description: 'HMAC key of the gateway’s `headers` identity mode.',
  },
  {
    name: 'FLOWGATE_METRICS_TOKEN',
    path: 'serve.metrics.bearerToken',
    type: 'string',
    description: 'Bearer token `/metrics` requires (`serve.metrics.bearerToken`).',
  },
  {
    name: 'FLOWGATE_DATA_DIR',
    path: 'dataDir',
    type: 'string',
    description: 'Data directory (SQLite file, development keys). Default `./.flowgate`.',
  },
  {
    name: 'FLOWGATE_DB',
    path: 'store.sqlitePath',
    type: 'string',
    description: "SQLite file path, overriding the data directory's `flowgate.db`.",
  },
  {
    name: 'FLOWGATE_DATABASE_URL',
    path: 'store.databaseUrl',
    type: 'string',
    description: 'PostgreSQL URL; when set, PostgreSQL is used instead of SQLite.',
  },
  {
    name: 'FLOWGATE_DATABASE_SCHEMA',
    path: 'store.postgresSchema',
    type: 'string',
    description: "PostgreSQL schema for flowgate's tables. Default `public`.",
  },
  {
    name: 'FLOWGATE_SQLITE_SYNCHRONOUS',
    path: 'store.synchronous',
    type: 'string',
    description: 'SQLite durability: `FULL` (default) or `NORMAL`.',
  },
  {
    name: 'FLOWGATE_SQLITE_BUSY_TIMEOUT_MS',
    path: 'store.busyTimeoutMs',
    type: 'integer',
    description: 'How long a SQLite writer waits for the write lock, in milliseconds. Default 5000.',
  },
  {
    name: 'FLOWGATE_MASTER_KEY',
    path: 'masterKey',
    type: 'string',
    description: 'Master key of envelope encryption (43 base64url characters or 64 hex digits). Required with PostgreSQL.',
  },
  {
    name: 'FLOWGATE_ACCESS_TOKEN_TTL',
    path: 'tokens.accessTokenTtlSeconds',
    type: 'integer',
    description: "Lifetime of flowgate's access tokens in seconds (default 3600); short values make refresh visible in the demo.",
  },
  {
    name: 'FLOWGATE_REFRESH_GRACE_SECONDS',
    path: 'tokens.refreshGraceSeconds',
    type: 'integer',
    description: 'Refresh-token grace window G in seconds (default 0, strict).',
  },
];

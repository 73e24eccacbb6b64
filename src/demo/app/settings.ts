/**
 * The demo's configuration: a few environment variables (`PORT`, `FLOWGATE_DB`,
 * `FLOWGATE_ACCESS_TOKEN_TTL` …) over fixed demo defaults, validated by flowgate's own
 * schema, plus a development master key persisted in the data directory.
 *
 * @module
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseConfig } from '../../config/load.js';
import type { FlowgateConfig, FlowgateConfigInput } from '../../config/schema.js';
import { ConfigError } from '../../config/errors.js';
import { parseMasterKey, resolveMasterKey } from '../../crypto/master-key.js';

/** The environment the demo reads. */
export type DemoEnv = Readonly<Record<string, string | undefined>>;

/** Default port of the demo (`PORT` or `FLOWGATE_PORT` change it; 0 picks a free one). */
export const DEFAULT_DEMO_PORT = 8787;

/** Registrations per IP per hour: generous, so every MCP client one tries just works. */
export const DEMO_REGISTRATION_RATE = 10_000;

/** The flowgate environment overrides the demo honours (the others would fight the demo's setup). */
const HONOURED = [
  'FLOWGATE_PORT',
  'FLOWGATE_LOG_LEVEL',
  'FLOWGATE_DATA_DIR',
  'FLOWGATE_DB',
  'FLOWGATE_ACCESS_TOKEN_TTL',
  'FLOWGATE_REFRESH_GRACE_SECONDS',
  'FLOWGATE_SQLITE_SYNCHRONOUS',
  'FLOWGATE_SQLITE_BUSY_TIMEOUT_MS',
] as const;

/** The upstream IdP as flowgate sees it. */
export interface DemoUpstream {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** Where the master key came from, for the one warning the demo prints. */
export interface DemoMasterKey {
  readonly text: string;
  /** The file of a development key; undefined when `FLOWGATE_MASTER_KEY` is set. */
  readonly path?: string;
  readonly generated: boolean;
}

/** The demo's settings, resolved from the environment. */
export interface DemoSettings {
  readonly dataDir: string;
  readonly sqlitePath: string;
  readonly masterKey: DemoMasterKey;
  /** Validated configuration without issuer and upstream (port, log level, TTLs …). */
  readonly base: FlowgateConfig;
  /** The full configuration once the bound URL and the IdP are known. */
  configFor(url: string, upstream: DemoUpstream): FlowgateConfig;
}

function portFrom(env: DemoEnv): number {
  const raw = env.PORT?.trim();
  if (raw === undefined || raw === '') return DEFAULT_DEMO_PORT;
  if (!/^\d+$/.test(raw) || Number(raw) > 65_535) {
    throw new ConfigError([{ path: 'serve.port', message: `expected a port number (0-65535), got ${JSON.stringify(raw)}`, source: 'PORT' }]);
  }
  return Number(raw);
}

function demoMasterKey(env: DemoEnv, dataDir: string): DemoMasterKey {
  const configured = env.FLOWGATE_MASTER_KEY?.trim();
  if (configured) {
    parseMasterKey(configured); // a malformed key fails here, with flowgate's message
    return { text: configured, generated: false };
  }
  const key = resolveMasterKey({ dataDir });
  return { text: Buffer.from(key.bytes).toString('base64url'), ...(key.path ? { path: key.path } : {}), generated: key.source === 'generated' };
}

/** Reads the demo's settings from `env` (creating the data directory and its master key). */
export function demoSettings(env: DemoEnv): DemoSettings {
  const honoured = Object.fromEntries(HONOURED.filter((name) => env[name] !== undefined).map((name) => [name, env[name]]));
  const dataDir = env.FLOWGATE_DATA_DIR?.trim() || './.flowgate';
  const values = (extra: Partial<FlowgateConfigInput> = {}): FlowgateConfigInput => ({
    dataDir,
    serve: { host: '127.0.0.1', port: portFrom(env), logLevel: 'warn', shutdownTimeoutMs: 3000 },
    store: { sqlitePath: join(dataDir, 'demo.db') },
    registration: { ratePerHour: DEMO_REGISTRATION_RATE },
    ...extra,
  });
  const base = parseConfig({ values: values(), env: honoured });
  const sqlitePath = base.store.sqlitePath ?? join(base.dataDir, 'demo.db');
  if (sqlitePath !== ':memory:') mkdirSync(dirname(resolve(sqlitePath)), { recursive: true });
  const masterKey = demoMasterKey(env, base.dataDir);
  return {
    dataDir: base.dataDir,
    sqlitePath,
    masterKey,
    base,
    configFor: (url, upstream) =>
      parseConfig({
        values: values({
          masterKey: masterKey.text,
          server: {
            issuer: url,
            resources: [{ uri: `${url}/mcp` }],
            scopes: [{ name: 'mcp:tools', description: 'Use the tools of the demo MCP server (whoami, echo) on your behalf' }],
          },
          upstream: {
            kind: 'oidc',
            displayName: 'the demo IdP',
            issuer: upstream.issuer,
            clientId: upstream.clientId,
            clientSecret: upstream.clientSecret,
            scopes: ['openid', 'email', 'profile', 'offline_access'],
            // Always show the IdP's login form, so one can sign in as bob after alice.
            extraAuthorizeParams: { prompt: 'login' },
          },
        }),
        env: honoured,
      }),
  };
}

/**
 * `startDemo`: the whole demo in one process — a real upstream IdP (oidc-provider) on an
 * ephemeral loopback port, then flowgate via `startServer` on `PORT` with three extra
 * routes: the start page and built-in demo client (`/`, `/demo/…`) and the demo MCP
 * server (`/mcp`) behind flowgate's bearer guard.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { randomToken } from '../../crypto/random.js';
import type { Flowgate } from '../../flowgate.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { createLogger } from '../../server/request-context.js';
import { DEFAULT_USERS, startUpstreamIdp, type UpstreamIdp } from '../upstream-idp.js';
import { loadDemoDependencies, type DemoSdk } from './dependencies.js';
import { DemoClient } from './demo-client.js';
import { demoMcpRoute, MCP_PATH } from './mcp-server.js';
import type { DemoInfo } from './pages.js';
import { demoSettings, type DemoEnv, type DemoSettings } from './settings.js';

/** The upstream client flowgate uses at the demo IdP. */
const UPSTREAM_CLIENT_ID = 'flowgate-demo';

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** Environment to read (`PORT`, `FLOWGATE_DB` …); default `process.env`. */
  readonly env?: DemoEnv;
  /** The MCP SDK, when already loaded ({@link loadDemoDependencies} otherwise). */
  readonly sdk?: DemoSdk;
  readonly logger?: Logger;
}

/** A running demo. */
export interface RunningDemo {
  /** flowgate's URL (the issuer) and the start page. */
  readonly url: string;
  readonly mcpUrl: string;
  readonly idp: UpstreamIdp;
  readonly server: RunningServer;
  readonly flowgate: Flowgate;
  readonly settings: DemoSettings;
  readonly info: DemoInfo;
  /** Stops flowgate (in-flight requests finish), then the IdP. */
  close(): Promise<void>;
}

/** flowgate's version, from the package.json above this file (src/ or dist/src/). */
export function flowgateVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'flowgate' && pkg.version) return pkg.version;
      } catch {
        // keep looking
      }
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

/** Starts the IdP and flowgate with the demo's routes; resolves once both accept requests. */
export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const env = options.env ?? process.env;
  const settings = demoSettings(env);
  const sdk = options.sdk ?? (await loadDemoDependencies());
  const version = flowgateVersion();
  const upstreamSecret = randomToken();
  const idp = await startUpstreamIdp({
    mode: 'oidc',
    // application_type native: any port on this loopback redirect URI matches (RFC 8252),
    // so it is right before flowgate's port is known.
    clients: [{ client_id: UPSTREAM_CLIENT_ID, client_secret: upstreamSecret, redirect_uris: ['http://127.0.0.1/auth/callback'] }],
    ttl: { RefreshToken: 86_400, Session: 86_400, Grant: 86_400 },
  });

  // Set once startServer resolves; routes answer 503 until then (they are never reached earlier).
  const live: { flowgate?: Flowgate } = {};
  let info: DemoInfo | undefined;
  let client: DemoClient | undefined;
  const pages = (request: Request, url: URL) => client?.route(request, url);
  let running: RunningServer;
  try {
    running = await startServer(settings.base, {
      logger: options.logger ?? createLogger(settings.base.serve.logLevel),
      configure: (url) => {
        const config = settings.configFor(url, { issuer: idp.issuer, clientId: UPSTREAM_CLIENT_ID, clientSecret: upstreamSecret });
        info = {
          url,
          mcpUrl: `${url}${MCP_PATH}`,
          idpUrl: idp.issuer,
          users: Object.entries(DEFAULT_USERS).map(([name, user]) => `${name}/${user.password}`),
          sqlitePath: settings.sqlitePath,
          accessTokenTtlSeconds: config.tokens.accessTokenTtlSeconds,
          version,
        };
        client = new DemoClient({ info, sdk, flowgate: () => live.flowgate });
        return config;
      },
      routes: [pages, demoMcpRoute({ sdk, flowgate: () => live.flowgate, version })],
    });
  } catch (error) {
    await idp.close();
    throw error;
  }
  const flowgate = running.flowgate;
  live.flowgate = flowgate;
  const ready = info!;
  let closing: Promise<void> | undefined;
  return {
    url: running.url,
    mcpUrl: ready.mcpUrl,
    idp,
    server: running,
    flowgate,
    settings,
    info: ready,
    close: () =>
      (closing ??= (async () => {
        client?.clear();
        try {
          await running.close();
        } finally {
          await idp.close();
        }
      })()),
  };
}

/**
 * The composition root: `createFlowgate(config)` wires the store, envelope encryption, the
 * keyring, the engine, the upstream client and the HTTP app into one object with a
 * web-standard `fetch` (docs/architecture.md).
 *
 * @module
 */
import pino from 'pino';
import { parseConfig } from './config/load.js';
import type { FlowgateConfig, FlowgateConfigInput } from './config/schema.js';
import { masterKeyWarning, resolveMasterKey } from './crypto/master-key.js';
import { sha256Base64Url } from './crypto/random.js';
import { Vault } from './crypto/vault.js';
import type { Random } from './engine/context.js';
import { engineSettingsFrom } from './engine/create-engine.js';
import { Engine } from './engine/engine.js';
import { startSweeper } from './engine/sweeper.js';
import { keysPort, upstreamPort } from './http/adapters.js';
import { createApp } from './http/app.js';
import type { HttpDeps, LoggerPort } from './http/ports.js';
import { FixedWindowLimiter } from './http/rate-limiter.js';
import { resolveServerSettings, type ServerSettings } from './http/settings.js';
import { Keyring } from './keys/keyring.js';
import { keyringOptionsFrom } from './keys/settings.js';
import { ConfigError } from './config/errors.js';
import { PROJECTIONS } from './projections/index.js';
import { SecurityEvents } from './security/security-events.js';
import type { EventStore } from './store/event-store.js';
import { openStore } from './store/open-store.js';
import { UpstreamRevoker } from './upstream/revoke-on-grant-revocation.js';
import { UpstreamClient } from './upstream/upstream-client.js';
import { AccessTokenGate, type VerifiedAccess, type VerifyOptions } from './resource/verify-access-token.js';
import { UpstreamTokenService } from './resource/upstream-tokens.js';
import { CimdClients } from './cimd/clients.js';
import { createCimdFetcher } from './cimd/fetcher.js';
import { systemConnect, systemResolve, type Connect, type Resolve } from './cimd/net.js';
import { FlowgateMetrics } from './server/metrics.js';
import { ownsPath } from './http/routes.js';
import { checkRequest, resolveHostCheck } from './server/host-guard.js';

/** What can be injected into flowgate (tests, embedding). */
export interface FlowgateOptions {
  /** Milliseconds since the epoch. */
  readonly clock?: () => number;
  readonly random?: Random;
  /** The `fetch` used for every upstream request. */
  readonly upstreamFetch?: typeof globalThis.fetch;
  /** A pino-compatible logger; default: pino at level `warn` on stderr. */
  readonly logger?: LoggerPort;
  /** Metrics to count into (default: a fresh registry, exposed as `flowgate.metrics`). */
  readonly metrics?: FlowgateMetrics;
  /**
   * The network operations of metadata-document fetches (tests inject both so no packet
   * leaves the machine). Defaults: `node:dns` lookup and an `node:https` request pinned to
   * the validated address.
   */
  readonly cimd?: { readonly resolve?: Resolve; readonly connect?: Connect };
  /** The id events are correlated by (see `EngineOptions.correlationIdOf`); `flowgate serve` passes its request id. */
  readonly correlationIdOf?: () => string | undefined;
  /**
   * The socket the embedding server is bound to (`flowgate serve` passes its own). On a
   * loopback bind the Host check (`server.hostCheck`) is on under `auto` whatever the issuer,
   * and also accepts 127.0.0.1, localhost and [::1] with this port; `serve.allowedHosts` is
   * accepted too.
   */
  readonly listen?: { readonly host: string; readonly port: number };
}

/** A running flowgate. */
export interface Flowgate {
  /**
   * Serves every flowgate endpoint (web-standard Request → Response), after the DNS-rebinding
   * check of {@link Flowgate.checkRequest}.
   */
  fetch(request: Request, env?: unknown): Promise<Response>;
  /**
   * The DNS-rebinding check (`server.hostCheck`; on by default for a loopback issuer): a 421
   * answer for a request whose `Host` is not flowgate's own, a 403 for a browser request from a
   * foreign `Origin`, undefined when the request may go on or the check is off. `fetch` applies
   * it; call it for the routes you serve next to flowgate's. A request that passed here is not
   * checked again by `fetch`.
   */
  checkRequest(request: Request): Response | undefined;
  /**
   * Verifies an access token for a resource (default: the default configured resource):
   * signature, `typ`, `iss`, exact `aud`, `exp`, and that the token and its grant are still
   * active. Throws `InvalidToken` (OAuth code `invalid_token`).
   */
  verifyAccessToken(token: string, options?: VerifyOptions): Promise<VerifiedAccess>;
  /** The upstream tokens of grants (for tools that call upstream APIs). */
  readonly upstreamTokens: UpstreamTokenService;
  /** Prometheus metrics of this instance. */
  readonly metrics: FlowgateMetrics;
  /** Whether a URL is one of flowgate's own endpoints (for mounting next to other routes). */
  handles(url: URL): boolean;
  readonly config: FlowgateConfig;
  readonly settings: ServerSettings;
  readonly engine: Engine;
  readonly store: EventStore;
  readonly keyring: Keyring;
  readonly vault: Vault;
  readonly upstream: UpstreamClient;
  readonly securityEvents: SecurityEvents;
  /** Warnings worth printing at start (development master key, consent off). */
  readonly warnings: readonly string[];
  /** Closes the store. */
  close(): Promise<void>;
}

function requireUpstream(config: FlowgateConfig): NonNullable<FlowgateConfig['upstream']> {
  if (!config.upstream) throw new ConfigError([{ path: 'upstream', message: 'flowgate needs an upstream identity provider' }]);
  return config.upstream;
}

/** Starts flowgate from a configuration (validated here; every wrong field is named). */
export async function createFlowgate(input: FlowgateConfigInput | FlowgateConfig, options: FlowgateOptions = {}): Promise<Flowgate> {
  const config = parseConfig({ values: input });
  const upstreamConfig = requireUpstream(config);
  const clock = options.clock ?? Date.now;
  const log: LoggerPort = options.logger ?? pino({ level: 'warn' }, pino.destination(2));
  const masterKey = resolveMasterKey({
    configured: config.masterKey,
    dataDir: config.dataDir,
    requireConfigured: config.store.databaseUrl !== undefined,
  });
  const serveHost = config.serve.host.includes(':') ? `[${config.serve.host}]` : config.serve.host;
  const settings = resolveServerSettings({
    server: config.server,
    defaultIssuer: `http://${serveHost}:${config.serve.port}`,
    registration: config.registration,
    consent: config.consent,
    staticClients: config.clients.static,
    callbackPath: upstreamConfig.redirectPath,
    flowTtlMs: config.flows.ttlSeconds * 1000,
    upstreamScopes: upstreamConfig.scopes ?? [],
  });
  const metrics = options.metrics ?? new FlowgateMetrics();
  const store = await openStore(config);
  try {
    for (const projection of PROJECTIONS) store.registerProjection(projection);
    const vault = new Vault(store.db, masterKey.bytes, clock);
    const keyring = await Keyring.open(store.db, vault, keyringOptionsFrom(config, clock));
    const upstream = new UpstreamClient(upstreamConfig, {
      ...(options.upstreamFetch ? { fetch: options.upstreamFetch } : {}),
      clock,
    });
    let upstreamRevoker: UpstreamRevoker | undefined;
    const engine = new Engine({
      store,
      vault,
      settings: engineSettingsFrom(config),
      signer: keyring.accessTokenSigner(settings.issuer),
      upstreamIssuer: upstream.issuer,
      clock,
      ...(options.random ? { random: options.random } : {}),
      ...(options.correlationIdOf ? { correlationIdOf: options.correlationIdOf } : {}),
      onCommitted: (events) => {
        metrics.observe(events);
        upstreamRevoker?.observe(events);
      },
    });
    for (const client of config.clients.static) {
      await engine.execute({
        type: 'SyncStaticClient',
        clientId: client.clientId,
        secretHash: client.clientSecret ? sha256Base64Url(client.clientSecret) : null,
        metadata: {
          redirect_uris: client.redirectUris,
          token_endpoint_auth_method: client.tokenEndpointAuthMethod ?? (client.clientSecret ? 'client_secret_basic' : 'none'),
          grant_types: client.grantTypes,
          response_types: ['code'],
          ...(client.name ? { client_name: client.name } : {}),
          ...(client.scope ? { scope: client.scope } : {}),
        },
      });
    }
    const securityEvents = new SecurityEvents(store.db, clock, undefined, (kind) => metrics.rejections.inc({ kind }));
    const upstreamTokens = new UpstreamTokenService({ engine, vault, upstream, log });
    if (upstreamConfig.revokeOnGrantRevocation) {
      upstreamRevoker = new UpstreamRevoker({
        tokenSet: (grantId) => upstreamTokens.tokenSet(grantId),
        revoke: (tokenSet) => upstream.revoke(tokenSet),
        log,
      });
    }
    const gate = new AccessTokenGate({
      verifier: keyring.accessTokenVerifier({ issuer: settings.issuer }),
      db: store.db,
      resources: settings.resources.map((r) => r.uri),
      defaultResource: settings.defaultResource,
      upstreamTokens,
    });
    const cimd = config.cimd.enabled
      ? new CimdClients({
          engine,
          db: store.db,
          clock,
          fetcher: createCimdFetcher({
            resolve: options.cimd?.resolve ?? systemResolve,
            connect: options.cimd?.connect ?? systemConnect,
            timeoutMs: config.cimd.timeoutMs,
            maxBytes: config.cimd.maxBytes,
            cacheSeconds: config.cimd.cacheSeconds,
            ...(config.cimd.allowedHosts ? { allowedHosts: config.cimd.allowedHosts } : {}),
          }),
          policy: { offeredScopes: settings.scopes.map((s) => s.name), redirectPatterns: settings.registration.redirectPatterns },
          ...(config.cimd.allowedHosts ? { allowedHosts: config.cimd.allowedHosts } : {}),
          onRefusal: (clientId, refusal) =>
            log.warn({ clientId, problem: refusal.problem, stage: refusal.stage, reason: refusal.reason }, 'metadata document client refused'),
        })
      : undefined;
    const deps: HttpDeps = {
      settings,
      engine,
      db: store.db,
      keys: keysPort(keyring),
      upstream: upstreamPort(upstream),
      securityEvents,
      registrationLimiter: new FixedWindowLimiter(config.registration.ratePerHour, 3_600_000, clock),
      log,
      clock,
      gate,
      upstreamTokens,
      ...(cimd ? { cimd } : {}),
      ...(config.clients.upstreamClientIdFallback ? { upstreamClientIdFallback: upstreamConfig.clientId } : {}),
    };
    const app = createApp(deps);
    const warnings: string[] = [];
    const keyWarning = masterKeyWarning(masterKey);
    if (keyWarning) warnings.push(keyWarning);
    if (config.consent.mode === 'off') {
      warnings.push('consent.mode is off: flows go upstream without asking the user (unsafe with open registration)');
    }
    if (config.clients.upstreamClientIdFallback) {
      warnings.push(
        'clients.upstreamClientIdFallback is on: any application may use the upstream client id; only registration.redirectPatterns limit its redirect URIs',
      );
    }
    for (const warning of warnings) log.warn({}, warning);
    const hostCheck = resolveHostCheck({
      mode: config.server.hostCheck,
      issuer: settings.issuer,
      baseUrl: settings.baseUrl,
      extra: config.server.allowedHosts,
      ...(options.listen ? { listen: { ...options.listen, extra: config.serve.allowedHosts } } : {}),
    });
    /** Requests that passed `checkRequest` (an embedder's or `flowgate serve`'s): `fetch` does not check them twice. */
    const checked = new WeakSet<Request>();
    const check = (request: Request): Response | undefined => {
      if (!hostCheck || checked.has(request)) return undefined;
      const refusal = checkRequest(request, hostCheck);
      if (!refusal) checked.add(request);
      return refusal;
    };
    const sweeper = startSweeper(engine, config.flows.sweepIntervalSeconds * 1000, log);
    return {
      fetch: async (request, env) => check(request) ?? app.fetch(request, env as never),
      checkRequest: check,
      verifyAccessToken: (token, verifyOptions) => gate.verify(token, verifyOptions),
      handles: (url) => ownsPath(settings, url),
      upstreamTokens,
      metrics,
      config,
      settings,
      engine,
      store,
      keyring,
      vault,
      upstream,
      securityEvents,
      warnings,
      close: async () => {
        await sweeper.stop();
        await upstreamRevoker?.drain();
        await store.close();
      },
    };
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
}

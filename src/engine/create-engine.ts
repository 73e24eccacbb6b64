/**
 * Builds an engine from configuration: opens and migrates the store, registers every
 * projection, resolves the master key and derives the engine's settings.
 *
 * @module
 */
import type { FlowgateConfig } from '../config/schema.js';
import { masterKeyWarning, resolveMasterKey, type MasterKey } from '../crypto/master-key.js';
import { Vault } from '../crypto/vault.js';
import { PROJECTIONS } from '../projections/index.js';
import { openStore } from '../store/open-store.js';
import type { AccessTokenSigner, Random } from './context.js';
import { Engine } from './engine.js';
import type { EngineSettings } from './settings.js';

/** The engine settings a configuration asks for. */
export function engineSettingsFrom(config: FlowgateConfig): EngineSettings {
  const s = 1000;
  return {
    flowTtlMs: config.flows.ttlSeconds * s,
    codeTtlMs: config.flows.codeTtlSeconds * s,
    upstreamStateTtlMs: config.flows.upstreamStateTtlSeconds * s,
    accessTokenTtlMs: config.tokens.accessTokenTtlSeconds * s,
    refreshIdleTtlMs: config.tokens.refreshIdleTtlSeconds * s,
    refreshAbsoluteTtlMs: config.tokens.refreshAbsoluteTtlSeconds * s,
    refreshGraceMs: config.tokens.refreshGraceSeconds * s,
    upstreamRefreshLeaseMs: config.tokens.upstreamRefreshLeaseSeconds * s,
    clientUnusedTtlMs: config.clients.unusedExpirySeconds === 0 ? null : config.clients.unusedExpirySeconds * s,
    clientTouchIntervalMs: config.clients.touchIntervalSeconds * s,
  };
}

/** An engine and what it was built with. */
export interface OpenedEngine {
  readonly engine: Engine;
  readonly vault: Vault;
  readonly masterKey: MasterKey;
  /** A warning to show at every start (a development master key), if any. */
  readonly warnings: readonly string[];
  close(): Promise<void>;
}

/** Opens the store and builds the engine a configuration describes. */
export async function openEngine(
  config: FlowgateConfig,
  options: { signer: AccessTokenSigner; upstreamIssuer: string; clock?: () => number; random?: Random },
): Promise<OpenedEngine> {
  const masterKey = resolveMasterKey({
    configured: config.masterKey,
    dataDir: config.dataDir,
    requireConfigured: config.store.databaseUrl !== undefined,
  });
  const store = await openStore(config);
  for (const projection of PROJECTIONS) store.registerProjection(projection);
  const vault = new Vault(store.db, masterKey.bytes, options.clock);
  const engine = new Engine({
    store,
    vault,
    settings: engineSettingsFrom(config),
    signer: options.signer,
    upstreamIssuer: options.upstreamIssuer,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  const warning = masterKeyWarning(masterKey);
  return { engine, vault, masterKey, warnings: warning ? [warning] : [], close: () => store.close() };
}

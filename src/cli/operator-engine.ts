/**
 * The engine operator commands run on: the configured store and master key, every
 * projection, and no token signer (an operator revokes and expires; it never issues).
 *
 * @module
 */
import { loadConfigFile } from '../config/load.js';
import type { FlowgateConfig } from '../config/schema.js';
import { openEngine } from '../engine/create-engine.js';
import type { Engine } from '../engine/engine.js';
import type { Vault } from '../crypto/vault.js';
import { FlowgateError } from '../errors/flowgate-error.js';
import { UpstreamClient } from '../upstream/upstream-client.js';

/** What an operator command works with. */
export interface OperatorContext {
  readonly config: FlowgateConfig;
  readonly engine: Engine;
  readonly vault: Vault;
  /** The upstream issuer subjects are scoped to; undefined when no upstream is configured. */
  readonly upstreamIssuer: string | undefined;
}

/** The options every operator command takes. */
export interface ConfigOptions {
  readonly config?: string;
}

const NO_SIGNING = {
  sign(): Promise<string> {
    return Promise.reject(new FlowgateError('ERR_OPERATOR', 'operator commands never issue tokens'));
  },
};

/** Opens the configured engine, runs `use`, and closes the store whatever happens. */
export async function withOperatorEngine<R>(options: ConfigOptions, use: (context: OperatorContext) => Promise<R>): Promise<R> {
  const config = await loadConfigFile(options.config, process.env);
  const upstreamIssuer = config.upstream ? new UpstreamClient(config.upstream).issuer : undefined;
  const opened = await openEngine(config, { signer: NO_SIGNING, upstreamIssuer: upstreamIssuer ?? '' });
  for (const warning of opened.warnings) process.stderr.write(`flowgate: warning: ${warning}\n`);
  try {
    return await use({ config, engine: opened.engine, vault: opened.vault, upstreamIssuer });
  } finally {
    await opened.close();
  }
}

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
import { UpstreamTokenService } from '../resource/upstream-tokens.js';
import { UpstreamRevoker } from '../upstream/revoke-on-grant-revocation.js';
import { UpstreamClient } from '../upstream/upstream-client.js';

/** What an operator command works with. */
export interface OperatorContext {
  readonly config: FlowgateConfig;
  readonly engine: Engine;
  readonly vault: Vault;
  /** The upstream issuer subjects are scoped to; undefined when no upstream is configured. */
  readonly upstreamIssuer: string | undefined;
  /**
   * Revokes a revoked grant's upstream tokens at the upstream, when
   * `upstream.revokeOnGrantRevocation` is on; undefined otherwise.
   */
  readonly upstreamRevoker: UpstreamRevoker | undefined;
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
  const upstream = config.upstream ? new UpstreamClient(config.upstream) : undefined;
  const upstreamIssuer = upstream?.issuer;
  const opened = await openEngine(config, { signer: NO_SIGNING, upstreamIssuer: upstreamIssuer ?? '' });
  for (const warning of opened.warnings) process.stderr.write(`flowgate: warning: ${warning}\n`);
  let upstreamRevoker: UpstreamRevoker | undefined;
  if (upstream && config.upstream?.revokeOnGrantRevocation) {
    const tokens = new UpstreamTokenService({ engine: opened.engine, vault: opened.vault, upstream });
    upstreamRevoker = new UpstreamRevoker({
      tokenSet: (grantId) => tokens.tokenSet(grantId),
      revoke: (tokenSet) => upstream.revoke(tokenSet),
      log: { warn: (fields, message) => process.stderr.write(`flowgate: warning: ${message ?? ''} ${JSON.stringify(fields)}\n`) },
    });
  }
  try {
    return await use({ config, engine: opened.engine, vault: opened.vault, upstreamIssuer, upstreamRevoker });
  } finally {
    await upstreamRevoker?.drain();
    await opened.close();
  }
}

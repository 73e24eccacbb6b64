/**
 * The keyring options a configuration asks for (`keys` and `tokens` sections).
 *
 * @module
 */
import type { FlowgateConfig } from '../config/schema.js';
import type { KeyringOptions } from './keyring.js';

/**
 * {@link KeyringOptions} from configuration, with an optional injected clock.
 *
 * @example
 * ```ts
 * const keyring = await Keyring.open(store.db, vault, keyringOptionsFrom(config));
 * ```
 */
export function keyringOptionsFrom(
  config: Pick<FlowgateConfig, 'keys' | 'tokens'>,
  clock?: () => number,
): KeyringOptions {
  const s = 1000;
  return {
    accessTokenTtlMs: config.tokens.accessTokenTtlSeconds * s,
    accessTokenAlg: config.keys.accessTokenAlg,
    anchorAlg: config.keys.anchorAlg,
    clockSkewMs: config.keys.clockSkewSeconds * s,
    refreshIntervalMs: config.keys.refreshSeconds * s,
    cookieMaxAgeMs: config.keys.cookieMaxAgeSeconds * s,
    ...(clock ? { clock } : {}),
  };
}

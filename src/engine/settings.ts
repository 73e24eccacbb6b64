/**
 * The engine's lifetimes and policies, in milliseconds, derived from configuration.
 *
 * @module
 */

/** Lifetimes and policies the engine applies. */
export interface EngineSettings {
  /** A flow must reach its code within this time of `/authorize` (fastmcp: 900 s). */
  readonly flowTtlMs: number;
  /** flowgate's authorization codes live this long (OAuth 2.1 §4.1.2: short; default 5 min). */
  readonly codeTtlMs: number;
  /** The upstream `state` is single-use and expires after this (default 10 min). */
  readonly upstreamStateTtlMs: number;
  /** flowgate's access tokens (default 1 h, independent of the upstream's). */
  readonly accessTokenTtlMs: number;
  /** A grant dies after this long without a refresh (default 30 days). */
  readonly refreshIdleTtlMs: number;
  /** A grant dies this long after it was created, however active (default 90 days). */
  readonly refreshAbsoluteTtlMs: number;
  /** Grace window G for a just-rotated refresh token (default 0: strict). */
  readonly refreshGraceMs: number;
  /** How long one instance holds the lease to refresh a grant's upstream tokens. */
  readonly upstreamRefreshLeaseMs: number;
  /** Dynamic clients unused this long expire; null = never. */
  readonly clientUnusedTtlMs: number | null;
  /** `client.used` is recorded at most once per this period. */
  readonly clientTouchIntervalMs: number;
}

const SECOND = 1000;
const DAY = 86_400 * SECOND;

/** The defaults (each also documented in docs/configuration.md). */
export const DEFAULT_ENGINE_SETTINGS: EngineSettings = {
  flowTtlMs: 900 * SECOND,
  codeTtlMs: 300 * SECOND,
  upstreamStateTtlMs: 600 * SECOND,
  accessTokenTtlMs: 3600 * SECOND,
  refreshIdleTtlMs: 30 * DAY,
  refreshAbsoluteTtlMs: 90 * DAY,
  refreshGraceMs: 0,
  upstreamRefreshLeaseMs: 30 * SECOND,
  clientUnusedTtlMs: 90 * DAY,
  clientTouchIntervalMs: DAY,
};

/**
 * The shapes of an audit: findings, options, progress and the report (docs/audit.md).
 *
 * @module
 */

/**
 * What an audit can find. Every kind names the check that found it:
 *
 * - `chain.*`: a stream's hash chain does not verify (a row was changed or removed);
 * - `order.*`: global order contradicts the streams or the commands (rows were moved);
 * - `event.*`: a row that cannot be read at all;
 * - `machine.*`: re-folding the stream through the machine version it was written with
 *   refuses an event, disagrees with the recorded states, or the machine is unknown;
 * - `invariant.*`: a security rule checked over the log independently of the machines;
 * - `projection.*`: a read view differs from a rebuild of the log;
 * - `anchor.*`: the log no longer reproduces a signed anchor, or an anchor is missing or
 *   forged.
 */
export type FindingKind =
  | 'chain.payload_hash'
  | 'chain.prev_hash'
  | 'chain.hash'
  | 'chain.version_gap'
  | 'chain.metadata_not_json'
  | 'chain.metadata_not_canonical'
  | 'event.data_not_json'
  | 'order.position'
  | 'order.command_split'
  | 'machine.unknown'
  | 'machine.mixed'
  | 'machine.illegal'
  | 'machine.drift'
  | 'invariant.code_redeemed_twice'
  | 'invariant.code_reuse_without_revocation'
  | 'invariant.redemption_without_grant'
  | 'invariant.grant_without_redemption'
  | 'invariant.refresh_after_rotation'
  | 'invariant.refresh_reuse_without_revocation'
  | 'invariant.redirect_without_consent'
  | 'invariant.code_without_callback'
  | 'invariant.token_for_revoked_grant'
  | 'projection.missing_row'
  | 'projection.extra_row'
  | 'projection.differs'
  | 'projection.apply_failed'
  | 'anchor.signature'
  | 'anchor.digest'
  | 'anchor.segment'
  | 'anchor.events'
  | 'anchor.heads'
  | 'anchor.chain'
  | 'anchor.missing';

/** One problem, located. */
export interface Finding {
  readonly kind: FindingKind;
  /**
   * The stream the problem is in (`flow:…`, `grant:…`, `client:…`), or `(log)` for a
   * problem of the log as a whole (an anchor that no longer verifies).
   */
  readonly streamId: string;
  /** The global position of the event concerned (for an anchor: its position). */
  readonly position: number;
  /** The stream version, when the finding is about one event. */
  readonly version?: number;
  /** One line, for people. */
  readonly reason: string;
}

/** The stream id of findings about the log as a whole. */
export const LOG = '(log)';

/** Which checks run; all by default. */
export interface AuditChecks {
  /** Hash chains of every stream (and version/position order). */
  readonly chain?: boolean;
  /** Re-fold every stream through its recorded machine version. */
  readonly machine?: boolean;
  /** Security invariants over the log (per stream and per command). */
  readonly invariants?: boolean;
  /** Rebuild every projection into a scratch database and diff it with the live one. */
  readonly projections?: boolean;
}

/** Progress of a long audit, for a terminal. */
export interface AuditProgress {
  /** A phase starts; `total` events (or rows) are expected. */
  phase(name: string, total: number): void;
  /** `count` more done in the current phase. */
  advance(count: number): void;
  /** The audit is over. */
  end(): void;
}

/** A progress reporter that says nothing. */
export const SILENT: AuditProgress = { phase() {}, advance() {}, end() {} };

/** Counts of findings by kind, plus the first ones in full. */
export interface FindingsSummary {
  readonly total: number;
  readonly byKind: Readonly<Record<string, number>>;
  /** The findings listed (at most `maxListed`, in the order found). */
  readonly listed: readonly Finding[];
  /** How many were counted but not listed. */
  readonly unlisted: number;
}

/**
 * Security events: counts of rejections that change no state, per kind, client and
 * minute (an upsert that increments a counter), so an attacker's flood costs one row per
 * minute and kind, not one per request. Unknown client ids are not stored as given (that
 * would let anyone fill the table): they count as `(unknown)`. Rows older than the
 * retention are pruned. A detected code or refresh-token reuse changes state and is in the
 * event log; it is counted here too.
 *
 * @module
 */
import { sql, type Kysely } from 'kysely';
import { findClient } from '../projections/clients.js';

/** One aggregated row. */
export interface SecurityEventRow {
  readonly minute: number;
  readonly kind: string;
  readonly clientId: string;
  readonly count: number;
  readonly firstAt: number;
  readonly lastAt: number;
}

const UNKNOWN = '(unknown)';
const MINUTE = 60_000;

/** Records and reads security events. */
export class SecurityEvents {
  #lastPrune = 0;

  constructor(
    private readonly db: Kysely<any>,
    private readonly now: () => number = Date.now,
    private readonly retentionMs = 30 * 86_400_000,
    private readonly onRecord?: (kind: string) => void,
  ) {}

  /** Counts one rejection of `kind` (for `clientId` when it is a known client). */
  async record(kind: string, clientId?: string): Promise<void> {
    this.onRecord?.(kind);
    const now = this.now();
    const known = clientId !== undefined && (await findClient(this.db, clientId)) !== undefined ? clientId : UNKNOWN;
    const minute = Math.floor(now / MINUTE) * MINUTE;
    await this.db
      .insertInto('security_events')
      .values({ minute, kind: kind.slice(0, 64), client_id: known, count: 1, first_at: now, last_at: now })
      .onConflict((oc) =>
        oc.columns(['minute', 'kind', 'client_id']).doUpdateSet({ count: sql`security_events.count + 1`, last_at: now }),
      )
      .execute();
    if (now - this.#lastPrune > MINUTE) {
      this.#lastPrune = now;
      await this.db.deleteFrom('security_events').where('minute', '<', now - this.retentionMs).execute();
    }
  }

  /** The rows of a period, newest first. */
  async list(options: { since?: number; until?: number; kind?: string; limit?: number } = {}): Promise<SecurityEventRow[]> {
    let query = this.db.selectFrom('security_events').selectAll().orderBy('minute', 'desc').limit(options.limit ?? 10_000);
    if (options.since !== undefined) query = query.where('minute', '>=', Math.floor(options.since / MINUTE) * MINUTE);
    if (options.until !== undefined) query = query.where('minute', '<=', options.until);
    if (options.kind) query = query.where('kind', '=', options.kind);
    return (await query.execute()).map((r) => ({
      minute: Number(r.minute),
      kind: r.kind,
      clientId: r.client_id,
      count: Number(r.count),
      firstAt: Number(r.first_at),
      lastAt: Number(r.last_at),
    }));
  }

  /** Totals per kind over a period. */
  async summary(options: { since?: number; until?: number } = {}): Promise<Record<string, number>> {
    const totals: Record<string, number> = {};
    for (const row of await this.list(options)) totals[row.kind] = (totals[row.kind] ?? 0) + row.count;
    return totals;
  }
}

/**
 * The rows the audit reads and the readers of worker threads (a read-only better-sqlite3
 * connection; src/audit/queries.ts has the kysely readers for both databases). This
 * module does not load kysely, which keeps each worker thread small. Rows come back as tuples of
 * the stored texts, unparsed: the audit hashes exactly what is stored.
 *
 * Both orders are keyset-paginated (never `OFFSET`, never one huge result), and every query
 * is bounded by `global_position <= upTo`, the end of the log when the audit started, so an
 * audit of a live database sees one consistent prefix of the append-only log however long
 * it runs:
 *
 * - stream order, `(stream_id, stream_version)`, on the `UNIQUE (stream_id, stream_version)`
 *   index, optionally restricted to a range of stream ids (one range per worker);
 * - global order, `global_position`, on the primary key.
 *
 * @module
 */
import type Database from 'better-sqlite3';

/** A row in stream order: every column, as stored. */
export type RawRow = [
  position: number,
  eventId: string,
  streamId: string,
  version: number,
  type: string,
  schemaVersion: number,
  data: string,
  metadata: string,
  occurredAt: number,
  payloadHash: string,
  prevHash: string,
  hash: string,
];

/** Indexes into {@link RawRow}. */
export const R = {
  position: 0,
  eventId: 1,
  streamId: 2,
  version: 3,
  type: 4,
  schemaVersion: 5,
  data: 6,
  metadata: 7,
  occurredAt: 8,
  payloadHash: 9,
  prevHash: 10,
  hash: 11,
} as const;

/** The columns of a {@link RawRow}, in order. */
export const STREAM_COLUMNS =
  'global_position, event_id, stream_id, stream_version, type, schema_version, data, metadata, occurred_at, payload_hash, prev_hash, hash';

/** A row in global order: what the order, command and anchor checks need. */
export type GlobalRow = [
  position: number,
  streamId: string,
  version: number,
  type: string,
  /** Only for the types in {@link GLOBAL_DATA_TYPES}, null otherwise. */
  data: string | null,
  metadata: string,
  occurredAt: number,
  hash: string,
];

/** Indexes into {@link GlobalRow}. */
export const G = { position: 0, streamId: 1, version: 2, type: 3, data: 4, metadata: 5, occurredAt: 6, hash: 7 } as const;

/**
 * The event types whose `data` the global pass reads (the flow of a new grant, the reason
 * of a revocation). Every other payload stays in the database: a million payloads read
 * only to be dropped would be most of what the pass allocates.
 */
export const GLOBAL_DATA_TYPES = ['grant.created', 'grant.revoked'] as const;

/** The columns of a {@link GlobalRow}, in order. */
export const GLOBAL_COLUMNS = `global_position, stream_id, stream_version, type,
  CASE WHEN type IN (${GLOBAL_DATA_TYPES.map((t) => `'${t}'`).join(', ')}) THEN data END AS data, metadata, occurred_at, hash`;

/** A range of stream ids: `from` inclusive, `to` exclusive; either may be open. */
export interface StreamRange {
  readonly from?: string;
  readonly to?: string;
}

/** A retention checkpoint (docs/store.md, "Retention"). */
export interface Checkpoint {
  readonly version: number;
  readonly hash: string;
}

/**
 * Rows in (stream, version) order on a better-sqlite3 connection (the worker threads' fast
 * path: raw arrays, prepared statements, no kysely).
 */
export function* sqliteStreamOrderBatches(
  db: Database.Database,
  options: { readonly upTo: number; readonly range?: StreamRange; readonly batchSize: number },
): Generator<RawRow[]> {
  const { upTo, range = {}, batchSize } = options;
  const base = ['global_position <= ?'];
  const baseParams: unknown[] = [upTo];
  if (range.from !== undefined) {
    base.push('stream_id >= ?');
    baseParams.push(range.from);
  }
  if (range.to !== undefined) {
    base.push('stream_id < ?');
    baseParams.push(range.to);
  }
  const select = (extra: string[]) =>
    db
      .prepare(`SELECT ${STREAM_COLUMNS} FROM events WHERE ${[...base, ...extra].join(' AND ')} ORDER BY stream_id, stream_version LIMIT ?`)
      .raw(true);
  const first = select([]);
  const next = select(['(stream_id, stream_version) > (?, ?)']);
  let rows = first.all(...baseParams, batchSize) as RawRow[];
  for (;;) {
    if (rows.length > 0) yield rows;
    if (rows.length < batchSize) return;
    const last = rows[rows.length - 1]!;
    rows = next.all(...baseParams, last[R.streamId], last[R.version], batchSize) as RawRow[];
  }
}

/** {@link checkpointsOf} on a better-sqlite3 connection. */
export function sqliteCheckpointsOf(db: Database.Database, streamIds: readonly string[]): Map<string, Checkpoint> {
  const found = new Map<string, Checkpoint>();
  const stmt = db.prepare('SELECT through_version, through_hash FROM stream_checkpoints WHERE stream_id = ?');
  for (const id of streamIds) {
    const row = stmt.get(id) as { through_version: number; through_hash: string } | undefined;
    if (row) found.set(id, { version: Number(row.through_version), hash: row.through_hash });
  }
  return found;
}

/**
 * The streams of a batch whose first row in the batch starts a stream at a version other
 * than 1 (only those can have a retention checkpoint).
 */
export function streamsStartingLate(rows: readonly RawRow[], previousStream: string | undefined): string[] {
  const late: string[] = [];
  let current = previousStream;
  for (const row of rows) {
    if (row[R.streamId] !== current) {
      current = row[R.streamId];
      if (row[R.version] !== 1) late.push(current);
    }
  }
  return late;
}

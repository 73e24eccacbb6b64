/**
 * The audit's queries on `store.db` (kysely, SQLite and PostgreSQL): the log in stream order
 * and in global order (keyset-paginated, bounded by `upTo`; see src/audit/rows.ts), and
 * small lookups.
 *
 * @module
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { G, GLOBAL_COLUMNS, R, STREAM_COLUMNS, type Checkpoint, type GlobalRow, type RawRow, type StreamRange } from './rows.js';

function toRawRow(r: Record<string, unknown>): RawRow {
  return [
    Number(r.global_position),
    r.event_id as string,
    r.stream_id as string,
    Number(r.stream_version),
    r.type as string,
    Number(r.schema_version),
    r.data as string,
    r.metadata as string,
    Number(r.occurred_at),
    r.payload_hash as string,
    r.prev_hash as string,
    r.hash as string,
  ];
}

function toGlobalRow(r: Record<string, unknown>): GlobalRow {
  return [
    Number(r.global_position),
    r.stream_id as string,
    Number(r.stream_version),
    r.type as string,
    (r.data ?? null) as string | null,
    r.metadata as string,
    Number(r.occurred_at),
    r.hash as string,
  ];
}

/** Rows in (stream, version) order, in batches, through kysely. */
export async function* streamOrderBatches(
  db: Kysely<any>,
  options: { readonly upTo: number; readonly range?: StreamRange; readonly batchSize: number },
): AsyncGenerator<RawRow[]> {
  const { upTo, range = {}, batchSize } = options;
  let after: { stream: string; version: number } | undefined;
  for (;;) {
    const conditions: RawBuilder<unknown>[] = [sql`global_position <= ${upTo}`];
    if (range.from !== undefined) conditions.push(sql`stream_id >= ${range.from}`);
    if (range.to !== undefined) conditions.push(sql`stream_id < ${range.to}`);
    if (after) conditions.push(sql`(stream_id, stream_version) > (${after.stream}, ${after.version})`);
    const result = await sql<Record<string, unknown>>`SELECT ${sql.raw(STREAM_COLUMNS)} FROM events
      WHERE ${sql.join(conditions, sql` AND `)}
      ORDER BY stream_id, stream_version LIMIT ${batchSize}`.execute(db);
    const rows = result.rows.map(toRawRow);
    if (rows.length > 0) yield rows;
    if (rows.length < batchSize) return;
    const last = rows[rows.length - 1]!;
    after = { stream: last[R.streamId], version: last[R.version] };
  }
}

/** Rows in global order, in batches, through kysely. */
export async function* globalOrderBatches(
  db: Kysely<any>,
  options: { readonly upTo: number; readonly batchSize: number },
): AsyncGenerator<GlobalRow[]> {
  let after = 0;
  for (;;) {
    const result = await sql<Record<string, unknown>>`SELECT ${sql.raw(GLOBAL_COLUMNS)} FROM events
      WHERE global_position > ${after} AND global_position <= ${options.upTo}
      ORDER BY global_position LIMIT ${options.batchSize}`.execute(db);
    const rows = result.rows.map(toGlobalRow);
    if (rows.length > 0) yield rows;
    if (rows.length < options.batchSize) return;
    after = rows[rows.length - 1]![G.position];
  }
}

/** The last global position (0 for an empty log). */
export async function maxPosition(db: Kysely<any>): Promise<number> {
  const result = await sql<{ p: number | null }>`SELECT max(global_position) AS p FROM events`.execute(db);
  return Number(result.rows[0]?.p ?? 0);
}

/** How many events there are up to `upTo`. */
export async function countEvents(db: Kysely<any>, upTo: number): Promise<number> {
  const result = await sql<{ n: number }>`SELECT count(*) AS n FROM events WHERE global_position <= ${upTo}`.execute(db);
  return Number(result.rows[0]?.n ?? 0);
}

/**
 * Stream ids that cut the log (in stream order) into `parts` ranges of about the same
 * number of events. A stream is never split: every range starts at a stream id.
 */
export async function splitStreamRanges(db: Kysely<any>, parts: number, total: number): Promise<StreamRange[]> {
  const cuts: string[] = [];
  for (let i = 1; i < parts; i++) {
    const offset = Math.floor((total * i) / parts);
    const result = await sql<{ stream_id: string }>`SELECT stream_id FROM events
      ORDER BY stream_id, stream_version LIMIT 1 OFFSET ${offset}`.execute(db);
    const cut = result.rows[0]?.stream_id;
    if (cut !== undefined && (cuts.length === 0 || cut !== cuts[cuts.length - 1])) cuts.push(cut);
  }
  const ranges: StreamRange[] = [];
  let from: string | undefined;
  for (const cut of cuts) {
    ranges.push(from === undefined ? { to: cut } : { from, to: cut });
    from = cut;
  }
  ranges.push(from === undefined ? {} : { from });
  return ranges;
}

/** The retention checkpoints of some streams. */
export async function checkpointsOf(db: Kysely<any>, streamIds: readonly string[]): Promise<Map<string, Checkpoint>> {
  const found = new Map<string, Checkpoint>();
  for (let i = 0; i < streamIds.length; i += 500) {
    const rows = await db
      .selectFrom('stream_checkpoints')
      .select(['stream_id', 'through_version', 'through_hash'])
      .where('stream_id', 'in', streamIds.slice(i, i + 500))
      .execute();
    for (const row of rows) found.set(row.stream_id, { version: Number(row.through_version), hash: row.through_hash });
  }
  return found;
}


/**
 * A pruned event (a row of `pruned_events`, migration 0007): what signed anchors digest of
 * an event the retention path removed.
 */
export type PrunedRow = [position: number, streamId: string, version: number, hash: string];

/** Indexes into {@link PrunedRow}. */
export const P = { position: 0, streamId: 1, version: 2, hash: 3 } as const;

function toPrunedRow(r: Record<string, unknown>): PrunedRow {
  return [Number(r.global_position), r.stream_id as string, Number(r.stream_version), r.hash as string];
}

/** Pruned events in global order, in batches (keyset on the primary key). */
export async function* prunedGlobalBatches(
  db: Kysely<any>,
  options: { readonly upTo: number; readonly batchSize: number },
): AsyncGenerator<PrunedRow[]> {
  let after = 0;
  for (;;) {
    const result = await sql<Record<string, unknown>>`SELECT global_position, stream_id, stream_version, hash FROM pruned_events
      WHERE global_position > ${after} AND global_position <= ${options.upTo}
      ORDER BY global_position LIMIT ${options.batchSize}`.execute(db);
    const rows = result.rows.map(toPrunedRow);
    if (rows.length > 0) yield rows;
    if (rows.length < options.batchSize) return;
    after = rows[rows.length - 1]![P.position];
  }
}

/**
 * Pruned events in (stream, version) order, in batches, each with the first global position
 * its stream still has in `events` (null when none: the whole stream was pruned).
 */
export async function* prunedStreamOrderBatches(
  db: Kysely<any>,
  options: { readonly upTo: number; readonly batchSize: number },
): AsyncGenerator<Array<{ row: PrunedRow; liveFirst: number | null }>> {
  let after: { stream: string; version: number } | undefined;
  for (;;) {
    const conditions: RawBuilder<unknown>[] = [sql`p.global_position <= ${options.upTo}`];
    if (after) conditions.push(sql`(p.stream_id, p.stream_version) > (${after.stream}, ${after.version})`);
    const result = await sql<Record<string, unknown>>`SELECT p.global_position, p.stream_id, p.stream_version, p.hash,
        (SELECT min(e.global_position) FROM events e WHERE e.stream_id = p.stream_id) AS live_first
      FROM pruned_events p WHERE ${sql.join(conditions, sql` AND `)}
      ORDER BY p.stream_id, p.stream_version LIMIT ${options.batchSize}`.execute(db);
    const rows = result.rows.map((r) => ({ row: toPrunedRow(r), liveFirst: r.live_first === null || r.live_first === undefined ? null : Number(r.live_first) }));
    if (rows.length > 0) yield rows;
    if (rows.length < options.batchSize) return;
    const last = rows[rows.length - 1]!.row;
    after = { stream: last[P.streamId], version: last[P.version] };
  }
}

/** The last pruned global position (0 when nothing was pruned). */
export async function maxPrunedPosition(db: Kysely<any>): Promise<number> {
  const result = await sql<{ p: number | null }>`SELECT max(global_position) AS p FROM pruned_events`.execute(db);
  return Number(result.rows[0]?.p ?? 0);
}

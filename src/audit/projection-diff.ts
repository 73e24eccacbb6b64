/**
 * Projection diff: every projection is rebuilt from the log into a scratch SQLite database
 * (migrated with the store's own migrations, fed by replaying the log in global order in
 * batches) and compared with the live tables table by table, row by row, in primary-key
 * order, with keyset-paginated reads on both sides (binary order on both: `COLLATE "C"` on
 * PostgreSQL), so memory does not grow with the tables. The first differences of each table
 * are listed; all are counted.
 *
 * The scratch database is in memory for small logs and a temporary file otherwise (an
 * in-memory SQLite holds every rebuilt row). A live flowgate keeps appending while the
 * audit runs; a difference on a row whose stream moved past the audited position is that,
 * not a finding, and is left out.
 *
 * @module
 */
import { sql, type Kysely } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreDialect } from '../store/dialect.js';
import { migrate } from '../store/migrate.js';
import { openSqliteDialect } from '../store/sqlite/open-sqlite.js';
import type { EventMetadata, Projection, StoredEvent } from '../store/types.js';
import type { Finding, FindingKind } from './types.js';

/** Per table: rows on each side and rows that differ. */
export interface TableDiff {
  readonly live: number;
  readonly rebuilt: number;
  readonly differing: number;
}

/** What the projection diff returns. */
export interface ProjectionDiffResult {
  readonly events: number;
  /** Events that could not be read (their findings come from the other checks). */
  readonly unreadable: number;
  readonly tables: Record<string, TableDiff>;
  readonly scratch: 'memory' | 'file';
  /** Differences left out because their stream moved on during the audit. */
  readonly inFlux: number;
}

/** What the diff needs. */
export interface ProjectionDiffOptions {
  readonly db: Kysely<any>;
  readonly dialect: StoreDialect['name'];
  readonly upTo: number;
  readonly projections: readonly Projection[];
  readonly scratch: 'memory' | 'file';
  readonly batchSize: number;
  /** Differences listed per table. */
  readonly maxPerTable?: number;
  readonly onFinding: (finding: Finding) => void;
  /** Progress in events replayed, then rows compared. */
  readonly onProgress: (count: number) => void;
  /** Called when the comparison starts (after the replay). */
  readonly onPhase?: (name: string, total: number) => void;
}

/** The streams a projection row belongs to, by its id columns. */
function streamsOfRow(table: string, row: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (table === 'clients' && typeof row.client_id === 'string') out.push(`client:${row.client_id}`);
  const grantFirst = ['grants', 'jti_mappings', 'refresh_tokens', 'upstream_token_sets'].includes(table);
  const flow = typeof row.flow_id === 'string' ? `flow:${row.flow_id}` : undefined;
  const grant = typeof row.grant_id === 'string' ? `grant:${row.grant_id}` : undefined;
  for (const s of grantFirst ? [grant, flow] : [flow, grant]) if (s) out.push(s);
  return out;
}

function normalise(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (Buffer.isBuffer(value)) return value.toString('hex');
  return value;
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

interface KeyColumn {
  readonly name: string;
  readonly text: boolean;
}

function compareKeys(a: Record<string, unknown>, b: Record<string, unknown>, keys: readonly KeyColumn[]): number {
  for (const k of keys) {
    const x = a[k.name];
    const y = b[k.name];
    const c = k.text ? Buffer.compare(Buffer.from(String(x)), Buffer.from(String(y))) : Number(x) - Number(y);
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

/** Pages through a table in binary primary-key order. */
async function* pagesOf(
  db: Kysely<any>,
  postgres: boolean,
  table: string,
  columns: readonly string[],
  keys: readonly KeyColumn[],
  size: number,
): AsyncGenerator<Record<string, unknown>[]> {
  const keyExpr = (k: KeyColumn) => (postgres && k.text ? sql`${sql.ref(k.name)} COLLATE "C"` : sql.ref(k.name));
  const order = sql.join(keys.map(keyExpr));
  let after: Record<string, unknown> | undefined;
  for (;;) {
    const where = after
      ? sql`WHERE (${order}) > (${sql.join(keys.map((k) => sql`${after![k.name]}`))})`
      : sql``;
    const result = await sql<Record<string, unknown>>`SELECT ${sql.join(columns.map((c) => sql.ref(c)))} FROM ${sql.table(table)}
      ${where} ORDER BY ${order} LIMIT ${size}`.execute(db);
    if (result.rows.length > 0) yield result.rows;
    if (result.rows.length < size) return;
    after = result.rows[result.rows.length - 1];
  }
}

/** Yields rows of pages one at a time. */
async function* rowsOf(pages: AsyncGenerator<Record<string, unknown>[]>): AsyncGenerator<Record<string, unknown>> {
  for await (const page of pages) yield* page;
}

/** Rebuilds the projections into a scratch database and diffs them with the live ones. */
export async function projectionDiff(options: ProjectionDiffOptions): Promise<ProjectionDiffResult> {
  const maxPerTable = options.maxPerTable ?? 10;
  let dir: string | undefined;
  let path = ':memory:';
  if (options.scratch === 'file') {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-audit-'));
    path = join(dir, 'scratch.db');
  }
  const scratch = openSqliteDialect({ path, synchronous: 'NORMAL', busyTimeoutMs: 5000 });
  try {
    await migrate(scratch);
    const byType = new Map<string, Projection[]>();
    for (const p of options.projections) {
      for (const type of p.handles) byType.set(type, [...(byType.get(type) ?? []), p]);
    }
    const { events, unreadable } = await replayInto(scratch.db, byType, options);
    options.onPhase?.('compare projections', 0);
    const tables: Record<string, TableDiff> = {};
    let inFlux = 0;
    for (const projection of options.projections) {
      for (const table of projection.tables) {
        const diff = await diffTable(scratch.db, table, options, maxPerTable);
        tables[table] = diff.result;
        inFlux += diff.inFlux;
      }
    }
    return { events, unreadable, tables, scratch: options.scratch, inFlux };
  } finally {
    await scratch.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

async function replayInto(
  scratch: Kysely<any>,
  byType: Map<string, Projection[]>,
  options: ProjectionDiffOptions,
): Promise<{ events: number; unreadable: number }> {
  let events = 0;
  let unreadable = 0;
  let failures = 0;
  let after = 0;
  for (;;) {
    const result = await sql<Record<string, any>>`SELECT * FROM events
      WHERE global_position > ${after} AND global_position <= ${options.upTo}
      ORDER BY global_position LIMIT ${options.batchSize}`.execute(options.db);
    const rows = result.rows;
    if (rows.length === 0) break;
    after = Number(rows[rows.length - 1]!.global_position);
    await scratch.transaction().execute(async (trx) => {
      for (const row of rows) {
        events++;
        const projections = byType.get(row.type);
        if (!projections) continue;
        let event: StoredEvent;
        try {
          event = {
            globalPosition: Number(row.global_position),
            eventId: row.event_id,
            streamId: row.stream_id,
            streamVersion: Number(row.stream_version),
            type: row.type,
            schemaVersion: Number(row.schema_version),
            data: JSON.parse(row.data),
            metadata: JSON.parse(row.metadata) as EventMetadata,
            occurredAt: Number(row.occurred_at),
            payloadHash: row.payload_hash,
            prevHash: row.prev_hash,
            hash: row.hash,
          };
        } catch {
          unreadable++;
          continue;
        }
        for (const projection of projections) {
          try {
            await projection.apply(trx, event);
          } catch (error) {
            if (failures++ < 20) {
              options.onFinding({
                kind: 'projection.apply_failed',
                streamId: event.streamId,
                position: event.globalPosition,
                version: event.streamVersion,
                reason: `projection ${projection.name} cannot apply ${event.type}: ${(error as Error).message.split('\n')[0]}`,
              });
            }
          }
        }
      }
    });
    options.onProgress(rows.length);
    if (rows.length < options.batchSize) break;
  }
  return { events, unreadable };
}

async function tableShape(scratch: Kysely<any>, table: string): Promise<{ columns: string[]; keys: KeyColumn[] }> {
  const info = await sql<{ name: string; type: string; pk: number }>`SELECT name, type, pk FROM pragma_table_info(${table})`.execute(scratch);
  const columns = info.rows.map((r) => r.name);
  const keys = info.rows
    .filter((r) => r.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((r) => ({ name: r.name, text: !/INT/i.test(r.type) }));
  if (keys.length === 0) throw new Error(`projection table ${table} has no primary key to compare by`);
  return { columns, keys };
}

async function diffTable(
  scratch: Kysely<any>,
  table: string,
  options: ProjectionDiffOptions,
  maxPerTable: number,
): Promise<{ result: TableDiff; inFlux: number }> {
  const { columns, keys } = await tableShape(scratch, table);
  const postgres = options.dialect === 'postgres';
  const live = rowsOf(pagesOf(options.db, postgres, table, columns, keys, options.batchSize));
  const rebuilt = rowsOf(pagesOf(scratch, false, table, columns, keys, options.batchSize));
  let l = await live.next();
  let r = await rebuilt.next();
  let liveCount = 0;
  let rebuiltCount = 0;
  let differing = 0;
  let rechecks = 0;
  let inFlux = 0;
  const keyText = (row: Record<string, unknown>) => keys.map((k) => `${k.name}=${String(row[k.name])}`).join(', ');

  const report = async (kind: FindingKind, row: Record<string, unknown>, reason: string) => {
    const streams = streamsOfRow(table, row);
    // A row whose stream moved past the audited position changed during the audit.
    if (streams.length > 0 && rechecks++ < 1000) {
      const moved = await options.db
        .selectFrom('events')
        .select('global_position')
        .where('stream_id', 'in', streams)
        .where('global_position', '>', options.upTo)
        .limit(1)
        .executeTakeFirst();
      if (moved) {
        inFlux++;
        return;
      }
    }
    differing++;
    if (differing > maxPerTable) return;
    const streamId = streams[0] ?? `(projection ${table})`;
    let position = 0;
    if (streams.length > 0) {
      const last = await options.db
        .selectFrom('events')
        .select(({ fn }) => fn.max('global_position').as('p'))
        .where('stream_id', '=', streamId)
        .where('global_position', '<=', options.upTo)
        .executeTakeFirst();
      position = Number(last?.p ?? 0);
    }
    options.onFinding({ kind, streamId, position, reason: `${table} (${keyText(row)}): ${reason}` });
  };

  while (!l.done || !r.done) {
    const c = l.done ? 1 : r.done ? -1 : compareKeys(l.value, r.value, keys);
    if (c < 0) {
      liveCount++;
      await report('projection.extra_row', l.value, 'in the live table, not in a rebuild from the log');
      l = await live.next();
    } else if (c > 0) {
      rebuiltCount++;
      await report('projection.missing_row', r.value, 'a rebuild from the log has this row, the live table does not');
      r = await rebuilt.next();
    } else {
      liveCount++;
      rebuiltCount++;
      const changed = columns.filter((col) => normalise(l.value![col]) !== normalise(r.value![col]));
      if (changed.length > 0) {
        const col = changed[0]!;
        const more = changed.length > 1 ? ` (and ${changed.length - 1} more column${changed.length > 2 ? 's' : ''})` : '';
        await report(
          'projection.differs',
          l.value,
          `${col} is ${show(normalise(l.value[col]))} in the live table, ${show(normalise(r.value[col]))} in a rebuild${more}`,
        );
      }
      l = await live.next();
      r = await rebuilt.next();
    }
    options.onProgress(1);
  }
  return { result: { live: liveCount, rebuilt: rebuiltCount, differing }, inFlux };
}

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
 * On a SQLite file the audit runs it in a worker thread (`projectionDiffInWorker`,
 * src/audit/projection-worker.ts) whose heap is limited: in the main thread V8 let the
 * replay's garbage grow the heap to ~130 MB before collecting.
 *
 * @module
 */
import { sql, type Kysely } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreDialect } from '../store/dialect.js';
import { rowToStoredEvent } from '../store/event-store.js';
import { migrate } from '../store/migrate.js';
import type { EventRow } from '../store/seal-event.js';
import { openSqliteDialect } from '../store/sqlite/open-sqlite.js';
import type { Projection, StoredEvent } from '../store/types.js';
import { startAuditWorker } from './start-worker.js';
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

/**
 * SQLite page caches (KiB) of the scratch database and of the worker's read-only
 * connection to the live one. better-sqlite3 defaults to 16 MB per connection; the replay
 * reads the log once in order, and the operating system's file cache serves the scratch
 * tables' pages about as fast. Measured on a million events (bench:audit): 4 MB + 2 MB
 * instead of 16 + 16 take 28 MB off the peak RSS, at the same speed.
 */
export const SCRATCH_CACHE_KB = 4000;
export const LIVE_CACHE_KB = 2000;

/**
 * The worker's heap limits. Its live data is one batch of rows (two pages when comparing)
 * and the queries of one event, well under 20 MB; without limits V8 lets the garbage grow
 * the heap past 120 MB before collecting (the diff in the main thread peaked at ~237 MB on
 * a million events). 24 MB + 2 MB, as for the stream pass's workers, cost no speed there;
 * the old generation grows with larger batches.
 */
function projectionWorkerHeap(batchSize: number) {
  return { maxOldGenerationSizeMb: Math.max(24, Math.ceil((24 * batchSize) / 2000)), maxYoungGenerationSizeMb: 2 };
}

/** Data the worker starts with. */
export interface ProjectionWorkerInput {
  readonly file: string;
  readonly upTo: number;
  /** Names of flowgate's projections (src/projections/index.ts) to rebuild. */
  readonly projections: readonly string[];
  readonly scratch: 'memory' | 'file';
  readonly batchSize: number;
  readonly maxPerTable?: number;
}

/** Messages the worker posts, in order. */
export type ProjectionWorkerMessage =
  | { readonly type: 'finding'; readonly finding: Finding }
  | { readonly type: 'progress'; readonly count: number }
  | { readonly type: 'phase'; readonly name: string; readonly total: number }
  | { readonly type: 'done'; readonly result: ProjectionDiffResult }
  | { readonly type: 'error'; readonly message: string };

/**
 * The projection diff in a worker thread on its own read-only connection to the SQLite
 * file `file` (src/audit/projection-worker.ts): the same rebuild, comparison and findings,
 * in a heap of bounded size. `projectionNames` are names of flowgate's own projections.
 */
export function projectionDiffInWorker(
  file: string,
  projectionNames: readonly string[],
  options: Omit<ProjectionDiffOptions, 'db' | 'dialect' | 'projections'>,
): Promise<ProjectionDiffResult> {
  const input: ProjectionWorkerInput = {
    file,
    upTo: options.upTo,
    projections: projectionNames,
    scratch: options.scratch,
    batchSize: options.batchSize,
    ...(options.maxPerTable !== undefined ? { maxPerTable: options.maxPerTable } : {}),
  };
  return new Promise((resolve, reject) => {
    const worker = startAuditWorker('projection-worker', input, projectionWorkerHeap(options.batchSize));
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
    };
    worker.on('message', (message: ProjectionWorkerMessage) => {
      switch (message.type) {
        case 'finding':
          options.onFinding(message.finding);
          return;
        case 'progress':
          options.onProgress(message.count);
          return;
        case 'phase':
          options.onPhase?.(message.name, message.total);
          return;
        case 'done':
          settle(() => resolve(message.result));
          return;
        case 'error':
          settle(() => reject(new Error(`audit projection worker: ${message.message}`)));
          return;
      }
    });
    worker.on('error', (error) => settle(() => reject(error)));
    worker.on('exit', (code) => settle(() => reject(new Error(`audit projection worker exited with code ${code}`))));
  });
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
    await sql.raw(`PRAGMA cache_size = -${SCRATCH_CACHE_KB}`).execute(scratch.db);
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
          event = rowToStoredEvent(row as EventRow);
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

/**
 * The worker thread of the projection diff (src/audit/projection-diff.ts) for a SQLite
 * file: opens the live database read-only, rebuilds flowgate's projections into the
 * scratch database and diffs them, posting findings, phases and progress as they come,
 * then the result. Its heap is capped (see `PROJECTION_WORKER_HEAP`), so the garbage of
 * the replay (a batch of rows, the queries built per event) is collected early instead of
 * growing the process by a hundred MB.
 *
 * @module
 */
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { parentPort, workerData } from 'node:worker_threads';
import { PROJECTIONS } from '../projections/index.js';
import { CachedSqliteDialect } from '../store/sqlite/sqlite-dialect.js';
import { LIVE_CACHE_KB, projectionDiff, type ProjectionWorkerInput, type ProjectionWorkerMessage } from './projection-diff.js';

function post(message: ProjectionWorkerMessage): void {
  parentPort!.postMessage(message);
}

async function run(input: ProjectionWorkerInput): Promise<void> {
  const projections = input.projections.map((name) => {
    const projection = PROJECTIONS.find((p) => p.name === name);
    if (!projection) throw new Error(`no projection named ${name}`);
    return projection;
  });
  const sqlite = new Database(input.file, { readonly: true, fileMustExist: true });
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma(`cache_size = -${LIVE_CACHE_KB}`);
  const db = new Kysely<any>({ dialect: new CachedSqliteDialect(sqlite) });
  try {
    // Progress is posted once per batch of rows, not per row compared.
    let pending = 0;
    const flush = () => {
      if (pending > 0) post({ type: 'progress', count: pending });
      pending = 0;
    };
    const result = await projectionDiff({
      db,
      dialect: 'sqlite',
      upTo: input.upTo,
      projections,
      scratch: input.scratch,
      batchSize: input.batchSize,
      ...(input.maxPerTable !== undefined ? { maxPerTable: input.maxPerTable } : {}),
      onFinding: (finding) => {
        flush();
        post({ type: 'finding', finding });
      },
      onProgress: (count) => {
        pending += count;
        if (pending >= input.batchSize) flush();
      },
      onPhase: (name, total) => {
        flush();
        post({ type: 'phase', name, total });
      },
    });
    flush();
    post({ type: 'done', result });
  } finally {
    await db.destroy();
  }
}

run(workerData as ProjectionWorkerInput).catch((error: unknown) => {
  post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
});

/**
 * A worker thread of the stream pass: opens the SQLite file read-only, checks one range of
 * streams with a {@link StreamAuditor} and posts findings and progress after every batch
 * (so nothing piles up here), then the counts and heads.
 *
 * @module
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { R, sqliteCheckpointsOf, sqliteStreamOrderBatches, streamsStartingLate } from './rows.js';
import { StreamAuditor } from './stream-auditor.js';
import type { WorkerInput, WorkerMessage } from './stream-pass.js';
import type { Finding } from './types.js';

function post(message: WorkerMessage): void {
  parentPort!.postMessage(message);
}

function run(input: WorkerInput): void {
  const db = new Database(input.file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    let findings: Finding[] = [];
    const auditor = new StreamAuditor({ checks: input.checks, targets: input.targets, emit: (f) => findings.push(f) });
    for (const rows of sqliteStreamOrderBatches(db, { upTo: input.upTo, range: input.range, batchSize: input.batchSize })) {
      const late = streamsStartingLate(rows, auditor.currentStream);
      const checkpoints = late.length > 0 ? sqliteCheckpointsOf(db, late) : undefined;
      for (const row of rows) auditor.row(row, checkpoints?.get(row[R.streamId]));
      post({ type: 'progress', events: rows.length, findings });
      findings = [];
    }
    const heads = auditor.finish();
    post({ type: 'done', stats: auditor.stats, heads, findings });
  } finally {
    db.close();
  }
}

try {
  run(workerData as WorkerInput);
} catch (error) {
  post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
}

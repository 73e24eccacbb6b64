/**
 * The stream pass: every stream in (stream, version) order through a
 * {@link StreamAuditor}, either in this thread (kysely, both databases) or, for a SQLite
 * file, split into ranges of streams checked by worker threads on their own read-only
 * connections (src/audit/stream-worker.ts). Streams are independent, so the ranges need no
 * coordination; findings stream back to one bounded collector, heads add up.
 *
 * @module
 */
import type { Worker } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import { LtHash16 } from './lthash.js';
import { startAuditWorker } from './start-worker.js';
import { checkpointsOf, splitStreamRanges, streamOrderBatches } from './queries.js';
import { R, streamsStartingLate, type StreamRange } from './rows.js';
import { StreamAuditor, type HeadResult, type HeadTarget, type StreamChecks, type StreamStats } from './stream-auditor.js';
import type { Finding } from './types.js';

/** What the stream pass needs. */
export interface StreamPassOptions {
  readonly db: Kysely<any>;
  readonly upTo: number;
  /** Events up to `upTo` (to split the work evenly). */
  readonly total: number;
  readonly checks: StreamChecks;
  readonly targets: readonly HeadTarget[];
  readonly batchSize: number;
  /** A SQLite file the workers can open read-only; undefined = check in this thread. */
  readonly sqliteFile?: string;
  /** Worker threads (0 = this thread). */
  readonly workers: number;
  readonly onFinding: (finding: Finding) => void;
  readonly onProgress: (events: number) => void;
}

/** What the stream pass returns. */
export interface StreamPassResult {
  readonly stats: StreamStats;
  readonly heads: HeadResult[];
  /** How many worker threads did the work (0 = this thread). */
  readonly workers: number;
}

/** Data a worker starts with. */
export interface WorkerInput {
  readonly file: string;
  readonly range: StreamRange;
  readonly upTo: number;
  readonly checks: StreamChecks;
  readonly targets: readonly HeadTarget[];
  readonly batchSize: number;
}

/** Messages a worker posts. */
export type WorkerMessage =
  | { readonly type: 'progress'; readonly events: number; readonly findings: Finding[] }
  | { readonly type: 'done'; readonly stats: StreamStats; readonly heads: HeadResult[]; readonly findings: Finding[] }
  | { readonly type: 'error'; readonly message: string };

/** Adds up the heads of several ranges. */
export function mergeHeads(parts: readonly HeadResult[][], targets: readonly HeadTarget[]): HeadResult[] {
  return targets.map((target, i) => {
    const hash = new LtHash16();
    let collected: Array<[string, number, string]> | null = target.collectUpTo !== undefined ? [] : null;
    const seen: string[] = [];
    for (const part of parts) {
      const h = part[i]!;
      hash.merge(new LtHash16(h.lanes, h.count));
      if (collected && h.collected) collected.push(...h.collected);
      else collected = null;
      seen.push(...h.seen);
    }
    if (collected && collected.length > (target.collectUpTo ?? 0)) collected = null;
    collected?.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return { count: hash.count, lanes: hash.lanes, collected, seen };
  });
}

function addStats(into: StreamStats, more: StreamStats): void {
  into.events += more.events;
  into.streams += more.streams;
  into.refolded += more.refolded;
  into.notRefolded += more.notRefolded;
}

async function inThisThread(options: StreamPassOptions): Promise<StreamPassResult> {
  const auditor = new StreamAuditor({ checks: options.checks, targets: options.targets, emit: options.onFinding });
  for await (const rows of streamOrderBatches(options.db, { upTo: options.upTo, batchSize: options.batchSize })) {
    const late = streamsStartingLate(rows, auditor.currentStream);
    const checkpoints = late.length > 0 ? await checkpointsOf(options.db, late) : undefined;
    for (const row of rows) auditor.row(row, checkpoints?.get(row[R.streamId]));
    options.onProgress(rows.length);
  }
  const heads = auditor.finish();
  return { stats: auditor.stats, heads, workers: 0 };
}

/**
 * A worker's heap limits. A worker's live data is one batch of rows and one stream's state
 * (a few MB); without limits V8 lets garbage pile up to hundreds of MB before collecting,
 * and peak RSS is what counts on a small server. Measured on a million events (two
 * workers, bench:audit): 32 MB + 4 MB peaked at ~188 MB for the process, 24 MB + 2 MB at
 * ~178 MB for about the same CPU time, 16 MB + 2 MB at ~170 MB for ~10% more.
 */
const WORKER_HEAP = { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 2 };

function startWorker(input: WorkerInput): Worker {
  return startAuditWorker('stream-worker', input, WORKER_HEAP);
}

function runWorker(input: WorkerInput, options: StreamPassOptions): Promise<{ stats: StreamStats; heads: HeadResult[] }> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(input);
    let settled = false;
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'error') {
        settled = true;
        reject(new Error(`audit worker: ${message.message}`));
        return;
      }
      for (const finding of message.findings) options.onFinding(finding);
      if (message.type === 'progress') {
        options.onProgress(message.events);
      } else {
        settled = true;
        resolve({ stats: message.stats, heads: message.heads });
      }
    });
    worker.on('error', (error) => {
      if (!settled) reject(error);
      settled = true;
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`audit worker exited with code ${code}`));
      settled = true;
    });
  });
}

async function inWorkers(options: StreamPassOptions, file: string): Promise<StreamPassResult> {
  const ranges = await splitStreamRanges(options.db, options.workers, options.total);
  const results = await Promise.all(
    ranges.map((range) =>
      runWorker(
        {
          file,
          range,
          upTo: options.upTo,
          checks: options.checks,
          targets: options.targets,
          batchSize: options.batchSize,
        },
        options,
      ),
    ),
  );
  const stats: StreamStats = { events: 0, streams: 0, refolded: 0, notRefolded: 0 };
  for (const r of results) addStats(stats, r.stats);
  return {
    stats,
    heads: mergeHeads(
      results.map((r) => r.heads),
      options.targets,
    ),
    workers: ranges.length,
  };
}

/** Runs the stream pass (see the module comment). */
export async function streamPass(options: StreamPassOptions): Promise<StreamPassResult> {
  if (options.sqliteFile !== undefined && options.workers > 0 && options.total > 0) {
    return inWorkers(options, options.sqliteFile);
  }
  return inThisThread(options);
}

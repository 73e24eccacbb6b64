/**
 * `flowgate export`: the event log as JSONL (src/store/log-lines.ts; docs/replay.md,
 * "Export and import"). Events go out in global order, in keyset-paginated batches, so
 * memory stays flat. A whole-log export also carries the retention checkpoints, the records
 * of pruned events (what signed anchors digest of them) and the signed audit anchors, and
 * is what `flowgate import` restores; a window (`since`/`until`
 * on the events' times) is a slice for reading and verifying, not for restoring.
 *
 * Nothing secret is written: the log holds hashes and sealed values only (docs/privacy.md).
 *
 * @module
 */
import type { EventStore } from './event-store.js';
import type { LineSink } from './line-sink.js';
import { eventLineOf, LOG_FORMAT, LOG_FORMAT_VERSION, LineDigest, lineText, type BodyLine, type HeaderLine } from './log-lines.js';
import type { EventRow } from './seal-event.js';

/** What to export. */
export interface ExportOptions {
  /** Only events that occurred at or after this time (ms). */
  readonly since?: number;
  /** Only events that occurred before this time (ms). */
  readonly until?: number;
  /** Rows per query; default 2000. */
  readonly batchSize?: number;
  /** The clock for the header. */
  readonly now?: () => number;
}

/** What an export wrote. */
export interface ExportSummary {
  readonly events: number;
  readonly streams: number;
  readonly checkpoints: number;
  /** Records of pruned events (`pruned_events`). */
  readonly pruned: number;
  readonly anchors: number;
  /** Global positions of the first and last event written (null when none). */
  readonly firstPosition: number | null;
  readonly lastPosition: number | null;
  /** The `end` line's digest. */
  readonly digest: string;
  readonly window: boolean;
}

/** Writes the log (or a window of it) to `sink` and returns what was written. */
export async function exportLog(store: EventStore, sink: LineSink, options: ExportOptions = {}): Promise<ExportSummary> {
  const db = store.db;
  const batchSize = options.batchSize ?? 2000;
  const window = options.since !== undefined || options.until !== undefined;
  const digest = new LineDigest();
  const put = (line: HeaderLine | BodyLine) => {
    const text = lineText(line);
    digest.add(text);
    sink.write(text);
  };
  // A consistent upper bound: appends committed after this are not part of the export.
  const head = await db.selectFrom('events').select((eb) => eb.fn.max('global_position').as('p')).executeTakeFirst();
  let upTo = head?.p === null || head?.p === undefined ? 0 : Number(head.p);
  // Pruned events count as part of the log for the anchors that cover them.
  const prunedTable = !window && (await store.dialect.tableExists('pruned_events'));
  if (prunedTable) {
    const prunedHead = await db.selectFrom('pruned_events').select((eb) => eb.fn.max('global_position').as('p')).executeTakeFirst();
    if (prunedHead?.p !== null && prunedHead?.p !== undefined) upTo = Math.max(upTo, Number(prunedHead.p));
  }

  put({
    kind: 'header',
    format: LOG_FORMAT,
    version: LOG_FORMAT_VERSION,
    type: 'export',
    createdAt: (options.now ?? Date.now)(),
    since: options.since ?? null,
    until: options.until ?? null,
    cutoff: null,
    source: { dialect: store.dialect.name, location: store.dialect.location },
  });

  let checkpoints = 0;
  if (!window) {
    const rows = await db.selectFrom('stream_checkpoints').selectAll().orderBy('stream_id').execute();
    for (const row of rows) {
      put({
        kind: 'checkpoint',
        streamId: row.stream_id,
        throughVersion: Number(row.through_version),
        throughHash: row.through_hash,
        archiveDigest: row.archive_digest,
        createdAt: Number(row.created_at),
      });
      checkpoints++;
    }
  }

  let pruned = 0;
  if (prunedTable) {
    let afterPruned = 0;
    for (;;) {
      const rows = await db
        .selectFrom('pruned_events')
        .selectAll()
        .where('global_position', '>', afterPruned)
        .where('global_position', '<=', upTo)
        .orderBy('global_position')
        .limit(batchSize)
        .execute();
      for (const row of rows) {
        put({
          kind: 'pruned',
          position: Number(row.global_position),
          streamId: row.stream_id as string,
          version: Number(row.stream_version),
          hash: row.hash as string,
          prunedAt: Number(row.pruned_at),
        });
        pruned++;
      }
      await sink.flush();
      if (rows.length < batchSize) break;
      afterPruned = Number(rows[rows.length - 1]!.global_position);
    }
  }

  let events = 0;
  let firstPosition: number | null = null;
  let lastPosition: number | null = null;
  const streams = new Set<string>();
  let after = 0;
  for (;;) {
    let query = db
      .selectFrom('events')
      .selectAll()
      .where('global_position', '>', after)
      .where('global_position', '<=', upTo)
      .orderBy('global_position')
      .limit(batchSize);
    if (options.since !== undefined) query = query.where('occurred_at', '>=', options.since);
    if (options.until !== undefined) query = query.where('occurred_at', '<', options.until);
    const rows = (await query.execute()) as EventRow[];
    for (const row of rows) {
      const line = eventLineOf(row);
      put(line);
      firstPosition ??= line.position;
      lastPosition = line.position;
      streams.add(line.streamId);
      events++;
    }
    await sink.flush();
    if (rows.length < batchSize) break;
    after = Number(rows[rows.length - 1]!.global_position);
  }

  let anchors = 0;
  if (!window && (await store.dialect.tableExists('audit_anchors'))) {
    const rows = await db
      .selectFrom('audit_anchors')
      .selectAll()
      .where('position', '<=', upTo)
      .orderBy('position')
      .orderBy('anchor_id')
      .execute();
    for (const row of rows) {
      put({
        kind: 'anchor',
        position: Number(row.position),
        previousPosition: row.previous_position === null ? null : Number(row.previous_position),
        digest: row.digest,
        kid: row.kid,
        issuedAt: Number(row.issued_at),
        jws: row.jws,
      });
      anchors++;
    }
  }

  const summaryDigest = digest.hex();
  sink.write(lineText({ kind: 'end', events, digest: summaryDigest }));
  await sink.close();
  return { events, streams: streams.size, checkpoints, pruned, anchors, firstPosition, lastPosition, digest: summaryDigest, window };
}

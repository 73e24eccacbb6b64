/**
 * Pruned events in the audit (docs/audit.md, "Signed anchors"; docs/store.md, "Retention").
 * `flowgate prune` removes whole streams and records, for each removed event, its global
 * position, stream, version and hash in `pruned_events` (migration 0007). Signed anchors
 * cover every event up to their position, pruned ones included: the global pass digests
 * the union of `events` and `pruned_events` (src/audit/global-pass.ts), and this module adds
 * the heads of pruned streams to the anchors' heads. The machine re-fold and the
 * cross-stream rules see only `events`: a pruned stream is gone from them by design, its
 * remaining part (if any) starts from its retention checkpoint.
 *
 * It also summarises the prunings for the report (information, not a finding): how many
 * events and checkpoints, and which checkpoints were made after the newest anchor.
 *
 * @module
 */
import { sql, type Kysely } from 'kysely';
import { P, prunedStreamOrderBatches } from './queries.js';
import { addHead, headResults, headStates, type Head, type HeadResult, type HeadTarget } from './stream-auditor.js';
import type { Finding } from './types.js';

/**
 * The heads, as of each target's position, of the streams that have no event left in
 * `events` up to that position but pruned events before it: the last pruned event at or
 * before the position. Streamed in (stream, version) order, one stream in memory.
 */
export async function prunedHeads(
  db: Kysely<any>,
  options: { readonly upTo: number; readonly batchSize: number; readonly targets: readonly HeadTarget[]; readonly onFinding: (finding: Finding) => void },
): Promise<HeadResult[]> {
  const states = headStates(options.targets);
  if (states.length === 0) return [];
  let stream: string | undefined;
  let liveFirst: number | null = null;
  const heads: Array<Head | null> = states.map(() => null);
  const close = () => {
    if (stream === undefined) return;
    states.forEach((t, i) => {
      const head = heads[i];
      heads[i] = null;
      // The stream still has events up to the position: the stream pass counted its head.
      if (!head || (liveFirst !== null && liveFirst <= t.target.position)) return;
      addHead(t, stream!, head, options.onFinding);
    });
  };
  for await (const batch of prunedStreamOrderBatches(db, { upTo: options.upTo, batchSize: options.batchSize })) {
    for (const { row, liveFirst: first } of batch) {
      if (row[P.streamId] !== stream) {
        close();
        stream = row[P.streamId];
        liveFirst = first;
      }
      states.forEach((t, i) => {
        if (row[P.position] <= t.target.position) heads[i] = { version: row[P.version], hash: row[P.hash] };
      });
    }
  }
  close();
  return headResults(states);
}

/** A retention checkpoint in the report. */
export interface PrunedCheckpoint {
  readonly streamId: string;
  readonly throughVersion: number;
  /** Events of the stream recorded in `pruned_events`. */
  readonly events: number;
  readonly prunedAt: number;
  readonly archiveDigest: string;
}

/** What was pruned, for the report (information, not findings). */
export interface PruningSummary {
  /** Pruned events and retention checkpoints in the whole store. */
  readonly events: number;
  readonly checkpoints: number;
  /** Pruned after the newest stored anchor was issued (everything when there is none). */
  readonly sinceAnchor: {
    readonly anchorPosition: number | null;
    readonly events: number;
    readonly checkpoints: number;
    /** The first 100 of those checkpoints, oldest first. */
    readonly listed: readonly PrunedCheckpoint[];
  };
  /** Checkpoints whose stream does not have exactly `through_version` recorded pruned events. */
  readonly unrecorded: number;
}

/** Summarises the prunings (see {@link PruningSummary}). */
export async function pruningSummary(db: Kysely<any>, latestAnchor: { readonly position: number; readonly issuedAt: number } | null): Promise<PruningSummary> {
  const after = latestAnchor?.issuedAt ?? -1;
  const totals = await sql<{ events: number; checkpoints: number }>`SELECT
      (SELECT count(*) FROM pruned_events) AS events, (SELECT count(*) FROM stream_checkpoints) AS checkpoints`.execute(db);
  const since = await sql<{ events: number; checkpoints: number }>`SELECT
      (SELECT count(*) FROM pruned_events WHERE pruned_at > ${after}) AS events,
      (SELECT count(*) FROM stream_checkpoints WHERE created_at > ${after}) AS checkpoints`.execute(db);
  const listed = await sql<Record<string, unknown>>`SELECT c.stream_id, c.through_version, c.created_at, c.archive_digest,
      (SELECT count(*) FROM pruned_events p WHERE p.stream_id = c.stream_id) AS events
    FROM stream_checkpoints c WHERE c.created_at > ${after} ORDER BY c.created_at, c.stream_id LIMIT 100`.execute(db);
  const unrecorded = await sql<{ n: number }>`SELECT count(*) AS n FROM stream_checkpoints c
    WHERE c.through_version <> (SELECT count(*) FROM pruned_events p WHERE p.stream_id = c.stream_id)`.execute(db);
  return {
    events: Number(totals.rows[0]?.events ?? 0),
    checkpoints: Number(totals.rows[0]?.checkpoints ?? 0),
    sinceAnchor: {
      anchorPosition: latestAnchor?.position ?? null,
      events: Number(since.rows[0]?.events ?? 0),
      checkpoints: Number(since.rows[0]?.checkpoints ?? 0),
      listed: listed.rows.map((r) => ({
        streamId: r.stream_id as string,
        throughVersion: Number(r.through_version),
        events: Number(r.events),
        prunedAt: Number(r.created_at),
        archiveDigest: r.archive_digest as string,
      })),
    },
    unrecorded: Number(unrecorded.rows[0]?.n ?? 0),
  };
}

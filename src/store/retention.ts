/**
 * The one sanctioned deletion from the log (docs/store.md, "Retention"): whole streams are
 * archived to JSONL and removed, one transaction per batch, on SQLite and PostgreSQL alike.
 * For each stream of a batch, inside the transaction:
 *
 * 1. its rows are read and its hash chain verified (a stream that does not verify is kept:
 *    it is evidence, and `flowgate audit` reports it);
 * 2. the caller's policy decides, from the events themselves, whether it may go;
 * 3. a `stream_checkpoints` row is inserted (`through_version`, `through_hash` = the last
 *    event's, `archive_digest` = SHA-256 of the stream's archive lines);
 * 4. a `pruned_events` row (global position, stream, version, hash) is inserted for each of
 *    its events (migration 0007), so signed anchors, which digest (position, hash) of every
 *    event and the head of every stream, still verify without the events (docs/audit.md);
 * 5. exactly the rows the checkpoint covers are deleted (the triggers refuse any other);
 * 6. the caller removes what the projections and key table hold for it;
 * 7. the archive lines are written and fsynced; then the transaction commits.
 *
 * A crash before the commit leaves the streams in the log (and perhaps their lines in the
 * archive, which `verify-archive` then reports as not pruned); a commit never happens
 * before the archive is on disk.
 *
 * @module
 */
import type { Kysely, Transaction } from 'kysely';
import { rowToChainRow, rowToStoredEvent } from './event-store.js';
import type { EventStore } from './event-store.js';
import { verifyStreamChain } from './hash-chain.js';
import type { LineSink } from './line-sink.js';
import { eventLineOf, LineDigest, lineText, type CheckpointLine } from './log-lines.js';
import type { EventRow } from './seal-event.js';
import type { StoredEvent } from './types.js';

/** Streams that go together or not at all (a flow and the grant it created). */
export interface RetentionUnit {
  /** A label for reports (e.g. the flow's stream id). */
  readonly label: string;
  /** Streams of the unit; those without events are ignored (e.g. a flow that never made a grant). */
  readonly streamIds: readonly string[];
}

/** What a batch needs from the caller. */
export interface RetentionPolicy {
  /** Why this unit (its streams' events, as read in the transaction) must stay; undefined lets it go. */
  refuse(streams: ReadonlyMap<string, readonly StoredEvent[]>): string | undefined;
  /** Removes what outside the log belongs to the removed streams (projections, keys), in `trx`. */
  cleanup(trx: Transaction<any>, removed: ReadonlyMap<string, readonly StoredEvent[]>): Promise<void>;
}

/** One archived and removed stream. */
export interface PrunedStream {
  readonly streamId: string;
  readonly throughVersion: number;
  readonly throughHash: string;
  readonly archiveDigest: string;
  readonly events: number;
}

/** The outcome of one batch. */
export interface RetentionBatchResult {
  readonly pruned: readonly PrunedStream[];
  readonly kept: ReadonlyArray<{ readonly label: string; readonly reason: string }>;
}

/** `pruned_events` rows per INSERT. */
const PRUNED_CHUNK = 200;

/** The archive text of one stream (its event lines, then its checkpoint line) and the checkpoint. */
export function archiveStream(rows: readonly EventRow[], createdAt: number): { text: string; checkpoint: CheckpointLine } {
  const digest = new LineDigest();
  let text = '';
  for (const row of rows) {
    const line = lineText(eventLineOf(row));
    digest.add(line);
    text += line;
  }
  const last = rows[rows.length - 1]!;
  const checkpoint: CheckpointLine = {
    kind: 'checkpoint',
    streamId: last.stream_id,
    throughVersion: Number(last.stream_version),
    throughHash: last.hash,
    archiveDigest: digest.hex(),
    createdAt,
  };
  return { text: text + lineText(checkpoint), checkpoint };
}

/**
 * Reads a unit's streams (raw rows and events) and says why the store itself must keep it:
 * no events, an earlier checkpoint, or a hash chain that does not verify. The policy's own
 * reasons come on top.
 */
export async function readUnit(
  executor: Kysely<any> | Transaction<any>,
  unit: RetentionUnit,
): Promise<{ rowsOf: Map<string, EventRow[]>; events: Map<string, StoredEvent[]>; refusal: string | undefined }> {
  const rowsOf = new Map<string, EventRow[]>();
  for (const streamId of unit.streamIds) {
    const rows = (await executor.selectFrom('events').selectAll().where('stream_id', '=', streamId).orderBy('stream_version').execute()) as EventRow[];
    if (rows.length > 0) rowsOf.set(streamId, rows);
  }
  let refusal: string | undefined;
  if (rowsOf.size === 0) refusal = 'no events (already pruned?)';
  for (const streamId of rowsOf.keys()) {
    if (refusal) break;
    const checkpoint = await executor.selectFrom('stream_checkpoints').select('stream_id').where('stream_id', '=', streamId).executeTakeFirst();
    if (checkpoint) refusal = `${streamId} already has a retention checkpoint`;
    else if (verifyStreamChain(rowsOf.get(streamId)!.map(rowToChainRow)).length > 0) {
      refusal = `the hash chain of ${streamId} does not verify; it is kept as evidence (run flowgate audit)`;
    }
  }
  const events = new Map([...rowsOf].map(([id, rows]) => [id, rows.map(rowToStoredEvent)]));
  return { rowsOf, events, refusal };
}

/**
 * Archives and removes the units a policy lets go, in one transaction (see the module
 * comment for the order of the steps).
 */
export async function pruneBatch(
  store: EventStore,
  units: readonly RetentionUnit[],
  archive: LineSink,
  policy: RetentionPolicy,
  now: number,
): Promise<RetentionBatchResult> {
  return store.db.transaction().execute(async (trx) => {
    await store.dialect.lockForAppend(trx);
    const pruned: PrunedStream[] = [];
    const kept: Array<{ label: string; reason: string }> = [];
    const removed = new Map<string, StoredEvent[]>();
    let text = '';
    for (const unit of units) {
      const { rowsOf, events, refusal } = await readUnit(trx, unit);
      const reason = refusal ?? policy.refuse(events);
      if (reason) {
        kept.push({ label: unit.label, reason });
        continue;
      }
      for (const [streamId, rows] of rowsOf) {
        const archived = archiveStream(rows, now);
        const c = archived.checkpoint;
        await trx
          .insertInto('stream_checkpoints')
          .values({
            stream_id: streamId,
            through_version: c.throughVersion,
            through_hash: c.throughHash,
            archive_digest: c.archiveDigest,
            created_at: now,
          })
          .execute();
        for (let i = 0; i < rows.length; i += PRUNED_CHUNK) {
          await trx
            .insertInto('pruned_events')
            .values(
              rows.slice(i, i + PRUNED_CHUNK).map((row) => ({
                global_position: Number(row.global_position),
                stream_id: row.stream_id,
                stream_version: Number(row.stream_version),
                hash: row.hash,
                pruned_at: now,
              })),
            )
            .execute();
        }
        const deleted = await trx
          .deleteFrom('events')
          .where('stream_id', '=', streamId)
          .where('stream_version', '<=', c.throughVersion)
          .executeTakeFirst();
        if (Number(deleted.numDeletedRows) !== rows.length) {
          throw new Error(`retention: ${streamId}: deleted ${deleted.numDeletedRows} rows, archived ${rows.length}`);
        }
        text += archived.text;
        removed.set(streamId, events.get(streamId)!);
        pruned.push({ streamId, throughVersion: c.throughVersion, throughHash: c.throughHash, archiveDigest: c.archiveDigest, events: rows.length });
      }
    }
    if (removed.size > 0) {
      await policy.cleanup(trx, removed);
      archive.write(text);
      await archive.sync();
    }
    return { pruned, kept };
  });
}

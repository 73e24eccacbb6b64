/**
 * `flowgate prune`: archives finished flows and ended grants older than a cutoff, and
 * removes them through the store's one sanctioned deletion (src/store/retention.ts;
 * docs/privacy.md, "Retention"). The unit is a flow together with the grant it created:
 *
 * - a flow that ended without a grant (`denied`, `upstream_failed`, `expired`) goes alone;
 * - a flow whose code was redeemed goes only with its grant, once that grant is `revoked`
 *   or `expired` (a live grant still needs its flow: the subject of its tokens is there);
 * - every stream of the unit must have had its last event before the cutoff.
 *
 * Candidates come from the `transactions` view; the decision is taken on the events
 * themselves, re-folded through their machines inside the batch's transaction.
 *
 * @module
 */
import type { Kysely } from 'kysely';
import { replayEvents } from '../../engine/replay.js';
import { categoryOf } from '../../engine/runners.js';
import type { EventStore } from '../../store/event-store.js';
import type { LineSink } from '../../store/line-sink.js';
import { LOG_FORMAT, LOG_FORMAT_VERSION, LineDigest, lineText } from '../../store/log-lines.js';
import { pruneBatch, readUnit, type PrunedStream, type RetentionPolicy, type RetentionUnit } from '../../store/retention.js';
import type { StoredEvent } from '../../store/types.js';
import { removeProjectedRows } from './projection-retention.js';

/** Flow states after which nothing more can happen (besides a replayed code, see below). */
export const FINISHED_FLOW_STATES: readonly string[] = ['denied', 'upstream_failed', 'expired', 'reuse_detected', 'code_redeemed'];
/** Grant states after which nothing more can happen. */
export const ENDED_GRANT_STATES: readonly string[] = ['revoked', 'expired'];

/** Options of a prune run. */
export interface PruneOptions {
  /** Streams whose last event is before this time (ms) may go. */
  readonly before: number;
  /** Units per transaction; default 100. */
  readonly batchSize?: number;
  /** Only count what would go; write and delete nothing. */
  readonly dryRun?: boolean;
  readonly now?: () => number;
}

/** What a prune run did. */
export interface PruneReport {
  readonly before: number;
  readonly units: number;
  readonly streams: number;
  readonly events: number;
  readonly batches: number;
  /** Candidates the events showed must stay, with the reason (at most 100 listed). */
  readonly kept: ReadonlyArray<{ readonly label: string; readonly reason: string }>;
  readonly keptTotal: number;
  /** The archive's `end` digest (null on a dry run). */
  readonly digest: string | null;
  readonly dryRun: boolean;
}

/** The decision on one unit, from its events (see the module comment). */
export function retentionRefusal(streams: ReadonlyMap<string, readonly StoredEvent[]>, before: number): string | undefined {
  const states = new Map<string, string | null>();
  for (const [streamId, events] of streams) {
    const last = events[events.length - 1]!;
    if (last.occurredAt >= before) return `${streamId} had an event at ${new Date(last.occurredAt).toISOString()}, after the cutoff`;
    let replay;
    try {
      replay = replayEvents(streamId, events);
    } catch (error) {
      return `${streamId} cannot be re-folded (${(error as Error).message})`;
    }
    if (replay.steps.some((s) => !s.legal)) return `${streamId} holds an event its machine refuses (run flowgate audit)`;
    states.set(streamId, replay.finalState);
  }
  let flowState: string | null | undefined;
  let grantState: string | null | undefined;
  for (const [streamId, state] of states) {
    const category = categoryOf(streamId);
    if (category === 'flow') flowState = state;
    else if (category === 'grant') grantState = state;
    else return `${streamId}: only flows and grants are pruned`;
  }
  if (flowState !== undefined && !FINISHED_FLOW_STATES.includes(flowState ?? '')) return `the flow is in state ${flowState}, not finished`;
  if (grantState !== undefined && !ENDED_GRANT_STATES.includes(grantState ?? '')) return `its grant is in state ${grantState}, not ended`;
  if (flowState === 'code_redeemed' && grantState === undefined) return 'the flow redeemed its code but its grant stream is missing';
  return undefined;
}

/** One page of candidate flows: finished by their view row, last event before the cutoff. */
async function candidates(
  db: Kysely<any>,
  before: number,
  after: { updatedAt: number; flowId: string } | undefined,
  limit: number,
): Promise<Array<{ flowId: string; grantId: string; updatedAt: number }>> {
  let query = db
    .selectFrom('transactions')
    .select(['flow_id', 'grant_id', 'updated_at'])
    .where('updated_at', '<', before)
    .where('state', 'in', [...FINISHED_FLOW_STATES])
    .orderBy('updated_at')
    .orderBy('flow_id')
    .limit(limit);
  if (after) {
    const { updatedAt, flowId } = after;
    query = query.where((eb) =>
      eb.or([eb('updated_at', '>', updatedAt), eb.and([eb('updated_at', '=', updatedAt), eb('flow_id', '>', flowId)])]),
    );
  }
  const rows = await query.execute();
  return rows.map((r) => ({ flowId: r.flow_id as string, grantId: r.grant_id as string, updatedAt: Number(r.updated_at) }));
}

/**
 * Prunes the log into `archive` (header first, `end` line last); see the module comment.
 * With `dryRun`, counts the candidates the events let go and changes nothing.
 */
export async function pruneLog(store: EventStore, archive: LineSink | null, options: PruneOptions): Promise<PruneReport> {
  const now = options.now ?? Date.now;
  const batchSize = options.batchSize ?? 100;
  const digest = new LineDigest();
  const sink: LineSink | null = archive && {
    write(text) {
      for (const line of text.split(/(?<=\n)/)) if (line) digest.add(line);
      archive.write(text);
    },
    flush: () => archive.flush(),
    sync: () => archive.sync(),
    close: () => archive.close(),
  };
  sink?.write(
    lineText({
      kind: 'header',
      format: LOG_FORMAT,
      version: LOG_FORMAT_VERSION,
      type: 'archive',
      createdAt: now(),
      since: null,
      until: null,
      cutoff: options.before,
      source: { dialect: store.dialect.name, location: store.dialect.location },
    }),
  );
  const policy: RetentionPolicy = {
    refuse: (streams) => retentionRefusal(streams, options.before),
    cleanup: (trx, removed) => removeProjectedRows(trx, removed, now()),
  };
  const kept: Array<{ label: string; reason: string }> = [];
  let keptTotal = 0;
  let units = 0;
  let batches = 0;
  const pruned: PrunedStream[] = [];
  let after: { updatedAt: number; flowId: string } | undefined;
  for (;;) {
    const page = await candidates(store.db, options.before, after, batchSize);
    if (page.length === 0) break;
    const last = page[page.length - 1]!;
    after = { updatedAt: last.updatedAt, flowId: last.flowId };
    const batch: RetentionUnit[] = page.map((c) => ({ label: `flow:${c.flowId}`, streamIds: [`flow:${c.flowId}`, `grant:${c.grantId}`] }));
    if (options.dryRun) {
      for (const unit of batch) {
        const read = await readUnit(store.db, unit);
        const streams = read.events;
        const reason = read.refusal ?? retentionRefusal(streams, options.before);
        if (reason) {
          keptTotal++;
          if (kept.length < 100) kept.push({ label: unit.label, reason });
        } else {
          units++;
          for (const [streamId, events] of streams) {
            pruned.push({ streamId, throughVersion: events.length, throughHash: events.at(-1)!.hash, archiveDigest: '', events: events.length });
          }
        }
      }
      continue;
    }
    const result = await pruneBatch(store, batch, sink!, policy, now());
    batches++;
    pruned.push(...result.pruned);
    units += batch.length - result.kept.length;
    keptTotal += result.kept.length;
    for (const k of result.kept) if (kept.length < 100) kept.push(k);
  }
  let endDigest: string | null = null;
  if (sink) {
    endDigest = digest.hex();
    archive!.write(lineText({ kind: 'end', events: pruned.reduce((n, p) => n + p.events, 0), digest: endDigest }));
    await archive!.close();
  }
  return {
    before: options.before,
    units,
    streams: pruned.length,
    events: pruned.reduce((n, p) => n + p.events, 0),
    batches,
    kept,
    keptTotal,
    digest: endDigest,
    dryRun: options.dryRun ?? false,
  };
}

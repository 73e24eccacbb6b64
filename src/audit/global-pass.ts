/**
 * The global pass: every event in global-position order, with bounded state, for what only
 * global order shows:
 *
 * - **Anchors.** Each anchor's segment is re-hashed from its signed previous digest and
 *   compared with its digest, event count and locator ranges; the anchor a new one will
 *   continue is hashed the same way (src/audit/anchors.ts). Events removed by the
 *   retention path count as recorded in `pruned_events` (src/audit/pruned.ts): their
 *   (position, hash) are merged into global order for the anchors, and for nothing else.
 * - **Commands.** A command appends all its events in one transaction, so they are
 *   adjacent in global order. Grouping consecutive events by `metadata.commandId` checks
 *   the rules that tie streams together: a code redemption creates its grant in the same
 *   command (and a grant is only created by one); a detected code reuse revokes the flow's
 *   grant in the same command unless it was already dead; a detected refresh-token reuse
 *   revokes its grant in the same command. A command whose events are not adjacent means
 *   rows were moved (`order.command_split`, remembered for the last 4096 commands).
 * - **Summary.** Events per type in the audited period, and the security-relevant events
 *   (reuse detections, revocations).
 *
 * @module
 */
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../store/dialect.js';
import { SegmentDigest, type AnchorPayload } from './anchors.js';
import { globalOrderBatches, P, prunedGlobalBatches, type PrunedRow } from './queries.js';
import { RecentCommands } from './recent-commands.js';
import { G, type GlobalRow } from './rows.js';
import { LOG, type Finding } from './types.js';

/** One anchor segment to hash during the pass. */
export interface SegmentTask {
  /** Segment `(from, to]`. */
  readonly from: number;
  readonly to: number;
  /**
   * Called when the pass reaches `from`: the anchor to check (verified, with its signed
   * previous digest), or `create` for the segment of a new anchor. Null skips it.
   */
  open(): Promise<{ readonly check: AnchorPayload; readonly label: string } | { readonly create: { readonly seed: string | null } } | null>;
}

/** What the new anchor's segment hashed to. */
export interface CreatedSegment {
  readonly digest: string;
  readonly locator: { readonly step: number; readonly digests: string };
  readonly events: number;
}

/** A security-relevant event in the period. */
export interface Notice {
  readonly type: string;
  readonly streamId: string;
  readonly position: number;
  readonly at: number;
  readonly detail: string;
}

/** What the global pass returns. */
export interface GlobalPassResult {
  /** Events in `events` up to `upTo`. */
  readonly events: number;
  /** Pruned events (`pruned_events`) up to `upTo`, which the anchors cover too. */
  readonly pruned: number;
  readonly eventsInPeriod: number;
  readonly byType: Record<string, number>;
  readonly notices: Notice[];
  readonly noticesTotal: number;
  readonly created: CreatedSegment | null;
  readonly anchorsChecked: number;
}

/** What the global pass needs. */
export interface GlobalPassOptions {
  readonly db: Kysely<any>;
  readonly upTo: number;
  readonly batchSize: number;
  /** Run the command rules (the anchors and the summary always run). */
  readonly invariants: boolean;
  readonly period: { readonly since?: number; readonly until?: number };
  readonly segments: readonly SegmentTask[];
  readonly onFinding: (finding: Finding) => void;
  readonly onProgress: (events: number) => void;
  /** Notices listed (the rest are counted). */
  readonly maxNotices?: number;
}

const NOTICE_TYPES = new Set(['code.reuse_detected', 'refresh_token.reuse_detected', 'grant.revoked']);
const RECENT_COMMANDS = 4096;
const MAX_GROUP = 64;
const MAX_SEGMENT_FINDINGS = 20;

interface GroupEvent {
  readonly position: number;
  readonly streamId: string;
  readonly version: number;
  readonly type: string;
  readonly data: string | null;
}

interface OpenSegment {
  readonly from: number;
  readonly to: number;
  readonly digest: SegmentDigest;
  readonly check?: AnchorPayload;
  readonly label: string;
}

function entityOf(streamId: string): string {
  return streamId.slice(streamId.indexOf(':') + 1);
}

/** Runs the global pass (see the module comment). */
export async function globalPass(options: GlobalPassOptions): Promise<GlobalPassResult> {
  const { db, period } = options;
  const maxNotices = options.maxNotices ?? 100;
  const pending = [...options.segments].sort((a, b) => a.from - b.from || a.to - b.to);
  const open: OpenSegment[] = [];
  let created: CreatedSegment | null = null;
  let anchorsChecked = 0;
  let events = 0;
  let pruned = 0;
  /** Events and pruned events so far: what an anchor's `events` counts. */
  let covered = 0;
  let eventsInPeriod = 0;
  const byType: Record<string, number> = {};
  const notices: Notice[] = [];
  let noticesTotal = 0;

  let group: { commandId: string; events: GroupEvent[] } | null = null;
  const recent = new RecentCommands(RECENT_COMMANDS);

  const finalize = (segment: OpenSegment) => {
    const { digest, locator, firsts } = segment.digest.finish();
    if (!segment.check) {
      created = { digest, locator: { step: segment.digest.step, digests: locator }, events: covered };
      return;
    }
    anchorsChecked++;
    const anchor = segment.check;
    if (anchor.events !== covered) {
      options.onFinding({
        kind: 'anchor.events',
        streamId: LOG,
        position: anchor.position,
        reason: `${segment.label}: it counted ${anchor.events} events up to its position, the log now has ${covered} (pruned ones included)`,
      });
    }
    if (digest === anchor.digest) return;
    options.onFinding({
      kind: 'anchor.digest',
      streamId: LOG,
      position: anchor.position,
      reason: `${segment.label}: events ${segment.from + 1}–${segment.to} no longer reproduce the signed digest (changed, removed, inserted or reordered)`,
    });
    const signed = Buffer.from(anchor.locator.digests, 'base64url');
    const ours = Buffer.from(locator, 'base64url');
    const step = segment.digest.step;
    if (anchor.locator.step !== step || signed.length !== ours.length) return;
    let reported = 0;
    for (let i = 0; i * 16 < ours.length && reported < MAX_SEGMENT_FINDINGS; i++) {
      if (signed.subarray(i * 16, i * 16 + 16).equals(ours.subarray(i * 16, i * 16 + 16))) continue;
      reported++;
      const a = segment.from + i * step + 1;
      const b = Math.min(segment.from + (i + 1) * step, segment.to);
      const where = a === b ? `position ${a}` : `positions ${a}–${b}`;
      const first = firsts[i];
      options.onFinding(
        first
          ? {
              kind: 'anchor.segment',
              streamId: first.streamId,
              position: first.position,
              version: first.version,
              reason:
                a === b
                  ? `${segment.label}: position ${a} no longer holds the event that was anchored there (now ${first.streamId} version ${first.version})`
                  : `${segment.label}: ${where} differ from what was anchored (first event there now: ${first.streamId} version ${first.version} at ${first.position})`,
            }
          : {
              kind: 'anchor.segment',
              streamId: LOG,
              position: a,
              reason: `${segment.label}: no event left at ${where}, where the anchor covered event(s)`,
            },
      );
    }
  };

  const openUpTo = async (position: number) => {
    while (pending.length > 0 && pending[0]!.from < position) {
      const task = pending.shift()!;
      const opened = await task.open();
      if (!opened) continue;
      if ('create' in opened) {
        open.push({ from: task.from, to: task.to, digest: new SegmentDigest(task.from, task.to, opened.create.seed), label: 'new anchor' });
      } else {
        const anchor = opened.check;
        open.push({
          from: task.from,
          to: task.to,
          digest: new SegmentDigest(task.from, task.to, anchor.previous?.digest ?? null),
          check: anchor,
          label: opened.label,
        });
      }
    }
  };

  const finalizeBefore = (position: number) => {
    for (let i = 0; i < open.length; ) {
      if (open[i]!.to < position) finalize(open.splice(i, 1)[0]!);
      else i++;
    }
  };

  const closeGroup = async () => {
    const g = group;
    group = null;
    if (!g) return;
    recent.add(g.commandId, g.events[g.events.length - 1]!.position);
    if (options.invariants) await checkCommand(db, g.events, options.onFinding);
  };

  /** One event, live or pruned, for the anchors. */
  const cover = async (position: number, hash: string, streamId: string, version: number) => {
    await openUpTo(position);
    finalizeBefore(position);
    covered++;
    for (const segment of open) {
      if (position > segment.from) segment.digest.add(position, hash, streamId, version);
    }
  };

  // The pruned events, merged into global order (one batch in memory).
  const prunedBatches = prunedGlobalBatches(db, { upTo: options.upTo, batchSize: options.batchSize });
  let prunedBatch: PrunedRow[] = [];
  let prunedIndex = 0;
  let prunedDone = false;
  const coverPrunedBefore = async (position: number) => {
    for (;;) {
      if (prunedIndex >= prunedBatch.length) {
        if (prunedDone) return;
        const next = await prunedBatches.next();
        if (next.done) {
          prunedDone = true;
          return;
        }
        prunedBatch = next.value;
        prunedIndex = 0;
        continue;
      }
      const row = prunedBatch[prunedIndex]!;
      if (row[P.position] >= position) return;
      prunedIndex++;
      pruned++;
      await cover(row[P.position], row[P.hash], row[P.streamId], row[P.version]);
    }
  };

  for await (const rows of globalOrderBatches(db, { upTo: options.upTo, batchSize: options.batchSize })) {
    for (const row of rows) {
      const position = row[G.position];
      await coverPrunedBefore(position);
      events++;
      await cover(position, row[G.hash], row[G.streamId], row[G.version]);
      summarise(row);
      const commandId = commandIdOf(row[G.metadata]);
      const event: GroupEvent = {
        position,
        streamId: row[G.streamId],
        version: row[G.version],
        type: row[G.type],
        data: row[G.data],
      };
      if (group && commandId === group.commandId && group.events.length < MAX_GROUP) {
        group.events.push(event);
        continue;
      }
      await closeGroup();
      if (commandId === undefined) continue;
      const candidates = recent.candidates(commandId);
      const earlier = candidates.length === 0 ? undefined : await confirmedEarlier(db, candidates, commandId);
      if (earlier !== undefined) {
        options.onFinding({
          kind: 'order.command_split',
          streamId: event.streamId,
          position,
          version: event.version,
          reason: `an event of command ${commandId} is at position ${position}, apart from the command's other events (up to position ${earlier}): rows were moved in global order`,
        });
      }
      group = { commandId, events: [event] };
    }
    options.onProgress(rows.length);
  }
  await closeGroup();
  await coverPrunedBefore(Number.POSITIVE_INFINITY);
  await openUpTo(Number.POSITIVE_INFINITY);
  finalizeBefore(Number.POSITIVE_INFINITY);

  return { events, pruned, eventsInPeriod, byType, notices, noticesTotal, created, anchorsChecked };

  function summarise(row: GlobalRow): void {
    const at = row[G.occurredAt];
    if ((period.since !== undefined && at < period.since) || (period.until !== undefined && at > period.until)) return;
    eventsInPeriod++;
    const type = row[G.type];
    byType[type] = (byType[type] ?? 0) + 1;
    if (!NOTICE_TYPES.has(type)) return;
    noticesTotal++;
    if (notices.length >= maxNotices) return;
    let detail = '';
    if (type === 'grant.revoked') {
      try {
        detail = `reason ${String((JSON.parse(row[G.data] ?? '') as { reason?: unknown }).reason)}`;
      } catch {
        detail = 'reason unreadable';
      }
    }
    notices.push({ type, streamId: row[G.streamId], position: row[G.position], at, detail });
  }
}

const COMMAND_ID_PREFIX = '{"commandId":"';

/**
 * `metadata.commandId`. The engine stores metadata as canonical JSON, whose first key is
 * `commandId`; that text is read without parsing the whole document (the pass reads every
 * event). Anything else — another key first, an escape in the id, not JSON at all (which
 * the chain check reports) — goes through `JSON.parse`.
 */
export function commandIdOf(metadata: string): string | undefined {
  if (metadata.startsWith(COMMAND_ID_PREFIX)) {
    const end = metadata.indexOf('"', COMMAND_ID_PREFIX.length);
    const id = end < 0 ? undefined : metadata.slice(COMMAND_ID_PREFIX.length, end);
    if (id !== undefined && !id.includes('\\') && (metadata[end + 1] === ',' || metadata[end + 1] === '}')) return id;
  }
  try {
    const commandId = (JSON.parse(metadata) as { commandId?: unknown } | null)?.commandId;
    return typeof commandId === 'string' ? commandId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where a command seen again was last seen: the first candidate of {@link RecentCommands}
 * whose row really has this command id (a hash collision is not a finding).
 */
async function confirmedEarlier(db: Kysely<any>, candidates: readonly number[], commandId: string): Promise<number | undefined> {
  for (const position of candidates) {
    const row = await db.selectFrom('events').select('metadata').where('global_position', '=', position).executeTakeFirst();
    if (row && commandIdOf(row.metadata as string) === commandId) return position;
  }
  return undefined;
}

/** The grant of a flow, from its `flow.started` event. */
async function grantOfFlow(db: Kysely<any>, flowStream: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('events')
    .select('data')
    .where('stream_id', '=', flowStream)
    .where('stream_version', '=', 1)
    .executeTakeFirst();
  if (!row) return undefined;
  try {
    const grantId = (JSON.parse(row.data as string) as { grantId?: unknown }).grantId;
    return typeof grantId === 'string' ? grantId : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a grant was revoked, expired or caught reuse before `position`. */
async function grantDeadBefore(db: Kysely<any>, grantStream: string, position: number): Promise<boolean> {
  const row = await db
    .selectFrom('events')
    .select('global_position')
    .where('stream_id', '=', grantStream)
    .where('type', 'in', ['grant.revoked', 'grant.expired', 'refresh_token.reuse_detected'])
    .where('global_position', '<', position)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** The rules one command's events must follow together. */
async function checkCommand(db: Kysely<any>, events: readonly GroupEvent[], emit: (finding: Finding) => void): Promise<void> {
  const at = (e: GroupEvent) => ({ streamId: e.streamId, position: e.position, version: e.version });
  for (const e of events) {
    switch (e.type) {
      case 'code.redeemed': {
        const flowId = entityOf(e.streamId);
        const grant = events.some((g) => g.type === 'grant.created' && flowOfGrantCreated(g) === flowId);
        if (!grant) {
          emit({ ...at(e), kind: 'invariant.redemption_without_grant', reason: 'code.redeemed without the grant.created of this flow in the same command' });
        }
        break;
      }
      case 'grant.created': {
        const flowId = flowOfGrantCreated(e);
        const redeemed = events.some((r) => r.type === 'code.redeemed' && r.streamId === `flow:${flowId}`);
        if (!redeemed) {
          emit({
            ...at(e),
            kind: 'invariant.grant_without_redemption',
            reason: `grant.created for flow ${String(flowId)} without that flow's code.redeemed in the same command`,
          });
        }
        break;
      }
      case 'code.reuse_detected': {
        const grantId = await grantOfFlow(db, e.streamId);
        if (grantId === undefined) break;
        const grantStream = `grant:${grantId}`;
        if (events.some((r) => r.type === 'grant.revoked' && r.streamId === grantStream)) break;
        if (await grantDeadBefore(db, grantStream, e.position)) break;
        const exists = await db.selectFrom('events').select('global_position').where('stream_id', '=', grantStream).limit(1).executeTakeFirst();
        if (!exists) break;
        emit({
          ...at(e),
          kind: 'invariant.code_reuse_without_revocation',
          reason: `code.reuse_detected, but ${grantStream} was live and not revoked in the same command`,
        });
        break;
      }
      case 'refresh_token.reuse_detected':
        if (!events.some((r) => r.type === 'grant.revoked' && r.streamId === e.streamId)) {
          emit({ ...at(e), kind: 'invariant.refresh_reuse_without_revocation', reason: 'refresh_token.reuse_detected without grant.revoked in the same command' });
        }
        break;
    }
  }
}

function flowOfGrantCreated(e: GroupEvent): string | undefined {
  if (e.type !== 'grant.created') return undefined;
  try {
    const flowId = (JSON.parse(e.data ?? '') as { flowId?: unknown }).flowId;
    return typeof flowId === 'string' ? flowId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A code (by hash) redeemed in more than one flow: the database groups every
 * `code.redeemed` by its `codeHash` (redemptions twice in one flow are the stream pass's).
 */
export async function crossFlowRedemptions(db: Kysely<any>, dialect: DialectName, upTo: number, limit = 100): Promise<Finding[]> {
  const hashExpr =
    dialect === 'sqlite'
      ? sql`CASE WHEN json_valid(data) THEN json_extract(data, '$.codeHash') END`
      : sql`substring(data from '"codeHash":"([^"]*)"')`;
  const dupes = await sql<{ code_hash: string }>`SELECT code_hash FROM (
      SELECT ${hashExpr} AS code_hash, stream_id FROM events WHERE type = 'code.redeemed' AND global_position <= ${upTo}
    ) r WHERE code_hash IS NOT NULL GROUP BY code_hash HAVING count(DISTINCT stream_id) > 1 LIMIT ${limit}`.execute(db);
  const findings: Finding[] = [];
  for (const { code_hash } of dupes.rows) {
    const rows = await sql<{ global_position: number; stream_id: string; stream_version: number }>`SELECT global_position, stream_id, stream_version
      FROM events WHERE type = 'code.redeemed' AND global_position <= ${upTo} AND ${hashExpr} = ${code_hash}
      ORDER BY global_position`.execute(db);
    const first = rows.rows[0]!;
    for (const r of rows.rows.slice(1)) {
      if (r.stream_id === first.stream_id) continue;
      findings.push({
        kind: 'invariant.code_redeemed_twice',
        streamId: r.stream_id,
        position: Number(r.global_position),
        version: Number(r.stream_version),
        reason: `code ${code_hash.slice(0, 10)}… was already redeemed in ${first.stream_id} at position ${Number(first.global_position)}`,
      });
    }
  }
  return findings;
}

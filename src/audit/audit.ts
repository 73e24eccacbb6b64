/**
 * `runAudit(store, options)`: everything `flowgate audit` checks, in constant memory over
 * the log (docs/audit.md).
 *
 * 1. **Stream pass** (src/audit/stream-pass.ts): hash chains, version/position order,
 *    machine re-fold with legality and drift, per-stream invariants, chain heads; worker
 *    threads over ranges of streams for a SQLite file.
 * 2. **Global pass** (src/audit/global-pass.ts): anchors' digests and locators, the
 *    command rules that tie streams together, command adjacency, the period's summary.
 * 3. **Codes redeemed in two flows**, grouped by the database.
 * 4. **Anchor heads and counts** of the newest anchor in the database and in the file.
 * 5. **Projection diff** (src/audit/projection-diff.ts), in a heap-limited worker thread
 *    when the stream pass has workers.
 * 6. The `security_events` summary for the period.
 * 7. With `anchor`, when nothing was found: a new signed anchor, stored and returned.
 *
 * Anchors cover pruned events too, as recorded in `pruned_events` (src/audit/pruned.ts):
 * their positions and hashes in the digests and counts, their streams' heads in the heads;
 * the report says what was pruned since the newest anchor (information, not a finding).
 *
 * Everything reads `global_position <= upTo`, the end of the log when the audit starts.
 *
 * @module
 */
import type { JSONWebKeySet } from 'jose';
import { availableParallelism } from 'node:os';
import type { SigningKey } from '../keys/access-token-signer.js';
import { PROJECTIONS } from '../projections/index.js';
import { SecurityEvents } from '../security/security-events.js';
import type { EventStore } from '../store/event-store.js';
import type { Projection } from '../store/types.js';
import {
  AnchorVerificationError,
  HEADS_INLINE_MAX,
  anchorJwksOf,
  isStored,
  listStoredAnchors,
  readAnchorFile,
  signAnchor,
  storeAnchor,
  storedAnchorJws,
  verifyAnchor,
  type AnchorPayload,
} from './anchors.js';
import { FindingCollector } from './findings.js';
import { crossFlowRedemptions, globalPass, type Notice, type SegmentTask } from './global-pass.js';
import { LtHash16 } from './lthash.js';
import { projectionDiff, projectionDiffInWorker, type ProjectionDiffResult } from './projection-diff.js';
import { countEvents, maxPosition, maxPrunedPosition } from './queries.js';
import { prunedHeads, pruningSummary, type PruningSummary } from './pruned.js';
import { HEADS_LABEL, type HeadResult, type HeadTarget } from './stream-auditor.js';
import { mergeHeads, streamPass } from './stream-pass.js';
import { LOG, SILENT, type AuditChecks, type AuditProgress, type Finding, type FindingsSummary } from './types.js';

/** How to audit. */
export interface AuditOptions {
  readonly checks?: AuditChecks;
  /** The period the summary covers (ms since the epoch); the checks cover the whole log. */
  readonly since?: number;
  readonly until?: number;
  /** A file of anchors kept outside the database, verified together with the stored ones. */
  readonly anchorsFile?: string;
  /** Sign, store and return a new anchor (only when the audit finds nothing). */
  readonly anchor?: { readonly signingKey: () => Promise<SigningKey> };
  /** The anchor keys to verify with; default: the anchor keys in the store's keyring table. */
  readonly jwks?: JSONWebKeySet;
  /**
   * Worker threads for the stream pass (SQLite files only); default: the CPUs, up to 4, from 20,000 events on.
   * With any, the projection diff runs in a worker thread of its own too (flowgate's projections).
   */
  readonly workers?: number;
  /** Rows per query; default 2000. */
  readonly batchSize?: number;
  /** Where the projection rebuild goes; default: memory below 100,000 events, a temporary file above. */
  readonly scratch?: 'memory' | 'file';
  /** The projections to rebuild; default: flowgate's. */
  readonly projections?: readonly Projection[];
  readonly progress?: AuditProgress;
  /** Findings listed in full (all are counted); default 1000. */
  readonly maxListed?: number;
  /** The clock (anchor `issuedAt`, default period end). */
  readonly now?: () => number;
}

/** A new anchor. */
export interface CreatedAnchor {
  readonly id: number;
  readonly jws: string;
  readonly payload: AnchorPayload;
}

/** What an audit found. */
export interface AuditReport {
  readonly database: { readonly dialect: string; readonly location: string };
  /** The end of the log audited. */
  readonly upTo: number;
  readonly events: number;
  readonly streams: number;
  /** What the retention path removed (covered by the anchors through `pruned_events`). */
  readonly pruned: PruningSummary & { readonly digested: number };
  readonly checks: Required<AuditChecks> & { readonly anchors: number };
  readonly refolded: { readonly streams: number; readonly notRefolded: number };
  readonly workers: number;
  readonly findings: FindingsSummary;
  readonly period: {
    readonly since: number | null;
    readonly until: number | null;
    readonly events: number;
    readonly byType: Readonly<Record<string, number>>;
    readonly notices: readonly Notice[];
    readonly noticesTotal: number;
    readonly securityEvents: Readonly<Record<string, number>>;
  };
  readonly projections: ProjectionDiffResult | null;
  readonly anchor: { readonly created: CreatedAnchor } | { readonly refused: string } | null;
  readonly durationsMs: Readonly<Record<string, number>>;
}

interface VerifiedAnchor {
  readonly jws: string;
  readonly payload: AnchorPayload;
  readonly label: string;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Audits the log; see the module comment. */
export async function runAudit(store: EventStore, options: AuditOptions = {}): Promise<AuditReport> {
  const db = store.db;
  const dialect = store.dialect;
  const progress = options.progress ?? SILENT;
  const now = options.now ?? Date.now;
  const checks: Required<AuditChecks> = {
    chain: options.checks?.chain ?? true,
    machine: options.checks?.machine ?? true,
    invariants: options.checks?.invariants ?? true,
    projections: options.checks?.projections ?? true,
  };
  const batchSize = options.batchSize ?? 2000;
  const findings = new FindingCollector(options.maxListed ?? 1000);
  const add = (finding: Finding) => findings.add(finding);
  const durations: Record<string, number> = {};
  const timed = async <T>(name: string, step: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await step();
    } finally {
      durations[name] = Math.round(performance.now() - t);
    }
  };

  // Anchors: the keys, the stored anchors (light rows) and those of the file.
  const jwks = options.jwks ?? (await anchorJwksOf(db, now()));
  const stored = await listStoredAnchors(db);
  const fromFile: VerifiedAnchor[] = [];
  if (options.anchorsFile !== undefined) {
    for (const { jws, line } of await readAnchorFile(options.anchorsFile)) {
      const label = `anchor in ${options.anchorsFile} line ${line}`;
      try {
        const payload = await verifyAnchor(jws, jwks);
        const anchor = { jws, payload, label: `anchor at position ${payload.position} (${options.anchorsFile} line ${line})` };
        if (!(await isStored(db, anchor))) {
          add({
            kind: 'anchor.missing',
            streamId: LOG,
            position: payload.position,
            reason: `${anchor.label}, issued ${iso(payload.issuedAt)}, is not in the database: anchor rows were deleted`,
          });
        }
        fromFile.push(anchor);
      } catch (error) {
        if (!(error instanceof AnchorVerificationError)) throw error;
        add({ kind: 'anchor.signature', streamId: LOG, position: 0, reason: `${label}: ${error.message}` });
      }
    }
  }

  const logEnd = Math.max(await maxPosition(db), await maxPrunedPosition(db));
  const upTo = Math.max(logEnd, ...stored.map((a) => a.position), ...fromFile.map((a) => a.payload.position));
  const total = await countEvents(db, upTo);

  // The newest valid stored anchor: the one a new anchor continues, and whose heads are checked.
  let latestStored: VerifiedAnchor | undefined;
  for (let i = stored.length - 1; i >= 0 && !latestStored; i--) {
    const row = stored[i]!;
    const jws = await storedAnchorJws(db, row.id);
    if (jws === undefined) continue;
    try {
      const payload = await verifyAnchor(jws, jwks);
      latestStored = { jws, payload, label: `anchor at position ${payload.position} (issued ${iso(payload.issuedAt)})` };
    } catch (error) {
      if (!(error instanceof AnchorVerificationError)) throw error;
    }
  }
  const latestFile = fromFile.reduce<VerifiedAnchor | undefined>(
    (best, a) => (!best || a.payload.position >= best.payload.position ? a : best),
    undefined,
  );
  const verifyTargets: VerifiedAnchor[] = [];
  if (latestStored) verifyTargets.push(latestStored);
  if (latestFile && latestFile.jws !== latestStored?.jws) verifyTargets.push(latestFile);
  const targets: HeadTarget[] = verifyTargets.map((a) => ({
    label: a.label,
    position: a.payload.position,
    ...(a.payload.heads ? { expected: a.payload.heads } : {}),
  }));
  if (options.anchor) targets.push({ label: 'new anchor', position: upTo, collectUpTo: HEADS_INLINE_MAX });

  // 1. Streams.
  const streamChecks = { chain: checks.chain, machine: checks.machine, invariants: checks.invariants };
  const sqliteFile = dialect.name === 'sqlite' && dialect.location !== ':memory:' ? dialect.location : undefined;
  const workers = options.workers ?? (sqliteFile && total >= 20_000 ? Math.min(availableParallelism(), 4) : 0);
  progress.phase('chain + machine', total);
  const streamPassResult = await timed('streams', () =>
    streamPass({
      db,
      upTo,
      total,
      checks: streamChecks,
      targets,
      batchSize,
      ...(sqliteFile ? { sqliteFile } : {}),
      workers,
      onFinding: add,
      onProgress: (count) => progress.advance(count),
    }),
  );
  // The heads of pruned streams, which the anchors cover too.
  const streams = {
    ...streamPassResult,
    heads: mergeHeads([streamPassResult.heads, await timed('pruned', () => prunedHeads(db, { upTo, batchSize, targets, onFinding: add }))], targets),
  };

  // 2. Global order: anchors, commands, summary.
  const known = new Map<number, Set<string>>();
  const remember = (payload: AnchorPayload) => {
    const set = known.get(payload.position) ?? new Set<string>();
    set.add(payload.digest);
    known.set(payload.position, set);
  };
  const checkLink = (anchor: VerifiedAnchor) => {
    const previous = anchor.payload.previous;
    if (previous && !known.get(previous.position)?.has(previous.digest)) {
      add({
        kind: 'anchor.chain',
        streamId: LOG,
        position: anchor.payload.position,
        reason: `${anchor.label} continues an anchor at position ${previous.position} that is in neither the database nor the anchors file (deleted?)`,
      });
    }
    remember(anchor.payload);
  };
  const segments: SegmentTask[] = [];
  for (const row of stored) {
    segments.push({
      from: row.previousPosition ?? 0,
      to: row.position,
      async open() {
        const jws = await storedAnchorJws(db, row.id);
        if (jws === undefined) return null;
        let payload: AnchorPayload;
        try {
          payload = await verifyAnchor(jws, jwks);
        } catch (error) {
          if (!(error instanceof AnchorVerificationError)) throw error;
          add({ kind: 'anchor.signature', streamId: LOG, position: row.position, reason: `stored anchor ${row.id} at position ${row.position}: ${error.message}` });
          return null;
        }
        const anchor = { jws, payload, label: `anchor at position ${payload.position} (issued ${iso(payload.issuedAt)})` };
        if (payload.position !== row.position || (payload.previous?.position ?? null) !== row.previousPosition) {
          add({ kind: 'anchor.signature', streamId: LOG, position: row.position, reason: `stored anchor ${row.id}: its row does not match what it signs` });
          return null;
        }
        checkLink(anchor);
        return { check: payload, label: anchor.label };
      },
    });
  }
  for (const anchor of fromFile) {
    if (stored.some((s) => s.position === anchor.payload.position) && (await isStored(db, anchor))) continue;
    segments.push({
      from: anchor.payload.previous?.position ?? 0,
      to: anchor.payload.position,
      async open() {
        checkLink(anchor);
        return { check: anchor.payload, label: anchor.label };
      },
    });
  }
  if (options.anchor) {
    const previous = latestStored?.payload;
    segments.push({
      from: previous?.position ?? 0,
      to: upTo,
      async open() {
        return { create: { seed: previous?.digest ?? null } };
      },
    });
  }
  progress.phase('global order', total);
  const global = await timed('global', () =>
    globalPass({
      db,
      upTo,
      batchSize,
      invariants: checks.invariants,
      period: { ...(options.since !== undefined ? { since: options.since } : {}), ...(options.until !== undefined ? { until: options.until } : {}) },
      segments,
      onFinding: add,
      onProgress: (count) => progress.advance(count),
    }),
  );

  // 3. A code redeemed in two flows.
  if (checks.invariants) {
    for (const finding of await timed('codes', () => crossFlowRedemptions(db, dialect.name, upTo))) add(finding);
  }

  // 4. Heads of the newest anchors.
  verifyTargets.forEach((anchor, i) => checkHeads(anchor, streams.heads[i]!, add));

  // 5. Projections.
  let projections: ProjectionDiffResult | null = null;
  if (checks.projections) {
    progress.phase('rebuild projections', total);
    const chosen = options.projections ?? (store.projections.length > 0 ? store.projections : PROJECTIONS);
    const common = {
      upTo,
      scratch: options.scratch ?? (total < 100_000 ? 'memory' : 'file'),
      batchSize,
      onFinding: add,
      onProgress: (count: number) => progress.advance(count),
      onPhase: (name: string, expected: number) => progress.phase(name, expected),
    } as const;
    // With worker threads on a SQLite file, the diff runs in one too (bounded heap), when
    // the projections are flowgate's own (a worker imports them by name).
    const inWorker = sqliteFile !== undefined && workers > 0 && chosen.every((p) => PROJECTIONS.includes(p));
    projections = await timed('projections', () =>
      inWorker
        ? projectionDiffInWorker(sqliteFile, chosen.map((p) => p.name), common)
        : projectionDiff({ db, dialect: dialect.name, projections: chosen, ...common }),
    );
  }
  progress.end();

  // 6. Security events of the period.
  const securityEvents = await new SecurityEvents(db, now).summary({
    ...(options.since !== undefined ? { since: options.since } : {}),
    ...(options.until !== undefined ? { until: options.until } : {}),
  });

  // What was pruned, since the newest anchor in particular.
  const pruned = { ...(await pruningSummary(db, latestStored?.payload ?? null)), digested: global.pruned };

  // 7. A new anchor.
  let anchor: AuditReport['anchor'] = null;
  if (options.anchor) {
    if (findings.total > 0) {
      anchor = { refused: `the audit found ${findings.total} problem${findings.total === 1 ? '' : 's'}; an anchor would sign a log that does not verify` };
    } else if (!global.created) {
      anchor = { refused: 'the new anchor segment was not hashed' };
    } else {
      const heads = streams.heads[streams.heads.length - 1]!;
      const hash = new LtHash16(heads.lanes, heads.count);
      const key = await options.anchor.signingKey();
      const signed = await signAnchor(key, {
        v: 1,
        position: upTo,
        events: global.created.events,
        streams: heads.count,
        headsDigest: hash.digest(HEADS_LABEL),
        ...(heads.collected ? { heads: Object.fromEntries(heads.collected.map(([s, version, h]) => [s, { version, hash: h }])) } : {}),
        digest: global.created.digest,
        previous: latestStored ? { position: latestStored.payload.position, digest: latestStored.payload.digest } : null,
        locator: global.created.locator,
        issuedAt: now(),
      });
      const id = await storeAnchor(db, signed);
      anchor = { created: { id, ...signed } };
    }
  }

  return {
    database: { dialect: dialect.name, location: dialect.location },
    upTo,
    events: global.events,
    streams: streams.stats.streams,
    pruned,
    checks: { ...checks, anchors: global.anchorsChecked },
    refolded: { streams: streams.stats.refolded, notRefolded: streams.stats.notRefolded },
    workers: streams.workers,
    findings: findings.summary(),
    period: {
      since: options.since ?? null,
      until: options.until ?? null,
      events: global.eventsInPeriod,
      byType: global.byType,
      notices: global.notices,
      noticesTotal: global.noticesTotal,
      securityEvents,
    },
    projections,
    anchor,
    durationsMs: durations,
  };
}

/** Compares the heads the stream pass saw with an anchor's. */
function checkHeads(anchor: VerifiedAnchor, heads: HeadResult, add: (finding: Finding) => void): void {
  const p = anchor.payload;
  if (p.heads) {
    const seen = new Set(heads.seen);
    for (const [streamId, head] of Object.entries(p.heads)) {
      if (seen.has(streamId)) continue;
      add({
        kind: 'anchor.heads',
        streamId,
        position: p.position,
        reason: `${anchor.label}: the stream was anchored at version ${head.version}, the log has no event of it up to that position (the stream was removed)`,
      });
    }
  }
  if (heads.count !== p.streams) {
    add({
      kind: 'anchor.heads',
      streamId: LOG,
      position: p.position,
      reason: `${anchor.label}: it covers ${p.streams} streams, the log has ${heads.count} up to that position`,
    });
  }
  const digest = new LtHash16(heads.lanes, heads.count).digest(HEADS_LABEL);
  if (digest !== p.headsDigest && !p.heads) {
    add({
      kind: 'anchor.heads',
      streamId: LOG,
      position: p.position,
      reason: `${anchor.label}: the chain heads of the streams up to that position differ from the signed ones`,
    });
  }
}

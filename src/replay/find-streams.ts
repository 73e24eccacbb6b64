/**
 * `flowgate flows`: finds streams to replay (docs/replay.md, "Finding streams"). Candidates
 * come from the read views (`transactions`, `grants`, `clients`: indexed by client and by
 * pseudonymous subject reference); their state, first and last event times and event
 * counts come from the log itself, so what is listed is what `flowgate replay` shows.
 *
 * @module
 */
import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { Vault } from '../crypto/vault.js';
import { PersonalOpener, type PersonalValue } from './fields.js';

/** Stream categories. */
export type StreamKind = 'flow' | 'grant' | 'client';

/** What to look for. */
export interface StreamFilter {
  readonly kinds?: readonly StreamKind[];
  readonly clientId?: string;
  /** The pseudonymous subject reference (`subjectRefOf`), never the subject itself. */
  readonly subjectRef?: string;
  /** Streams with an event at or after this time (ms). */
  readonly since?: number;
  /** Streams with an event before this time (ms). */
  readonly until?: number;
  /** The machine state now: exact (`live.idle`) or a parent (`live`). */
  readonly state?: string;
  /** At most this many, the most recently active first; default 100. */
  readonly limit?: number;
}

/** One stream found. */
export interface FoundStream {
  readonly streamId: string;
  readonly kind: StreamKind;
  readonly state: string;
  readonly clientId: string;
  readonly subjectRef: string | null;
  /** The subject, opened (or erased) when there is one. */
  readonly subject: PersonalValue | null;
  readonly events: number;
  readonly firstAt: number;
  readonly lastAt: number;
}

interface Candidate {
  readonly streamId: string;
  readonly kind: StreamKind;
  readonly clientId: string;
  readonly subjectRef: string | null;
  /** The flow holding the subject (for flows: itself). */
  readonly flowId: string | null;
}

const GRANT_STATUS_OF: Record<string, string> = { live: 'active', revoked: 'revoked', expired: 'expired', reuse_detected: 'revoked' };

/**
 * Whether the stream `<category>:<id column>` has an event at or after `since`: asked of
 * the log itself, since the views' own times do not move on every event (a grant's
 * revocation or a client's deletion leaves `last_used_at` alone).
 */
function activeSince(category: StreamKind, idColumn: string, since: number): Expression<SqlBool> {
  return sql<SqlBool>`exists (select 1 from events e where e.stream_id = ${`${category}:`} || ${sql.ref(idColumn)} and e.occurred_at >= ${since})`;
}

function stateMatches(state: string, wanted: string | undefined): boolean {
  return wanted === undefined || state === wanted || state.startsWith(`${wanted}.`);
}

async function candidates(db: Kysely<any>, filter: StreamFilter, perKind: number): Promise<Candidate[]> {
  const kinds = filter.kinds ?? ['flow', 'grant', 'client'];
  const out: Candidate[] = [];
  if (kinds.includes('flow')) {
    let q = db.selectFrom('transactions').select(['flow_id', 'client_id', 'subject_ref']).orderBy('updated_at', 'desc').limit(perKind);
    if (filter.clientId !== undefined) q = q.where('client_id', '=', filter.clientId);
    if (filter.subjectRef !== undefined) q = q.where('subject_ref', '=', filter.subjectRef);
    if (filter.since !== undefined) q = q.where('updated_at', '>=', filter.since);
    if (filter.until !== undefined) q = q.where('created_at', '<', filter.until);
    if (filter.state !== undefined) q = q.where((eb) => eb.or([eb('state', '=', filter.state!), eb('state', 'like', `${filter.state}.%`)]));
    for (const r of await q.execute()) {
      out.push({ streamId: `flow:${r.flow_id}`, kind: 'flow', clientId: r.client_id, subjectRef: r.subject_ref ?? null, flowId: r.flow_id });
    }
  }
  const grantStatus = filter.state === undefined ? undefined : GRANT_STATUS_OF[filter.state.split('.')[0]!];
  if (kinds.includes('grant') && (filter.state === undefined || grantStatus !== undefined)) {
    let q = db.selectFrom('grants').select(['grant_id', 'flow_id', 'client_id', 'subject_ref']).orderBy('created_at', 'desc').limit(perKind);
    if (filter.clientId !== undefined) q = q.where('client_id', '=', filter.clientId);
    if (filter.subjectRef !== undefined) q = q.where('subject_ref', '=', filter.subjectRef);
    if (filter.since !== undefined) q = q.where(activeSince('grant', 'grants.grant_id', filter.since));
    if (filter.until !== undefined) q = q.where('created_at', '<', filter.until);
    if (grantStatus !== undefined) q = q.where('status', '=', grantStatus);
    for (const r of await q.execute()) {
      out.push({ streamId: `grant:${r.grant_id}`, kind: 'grant', clientId: r.client_id, subjectRef: r.subject_ref, flowId: r.flow_id });
    }
  }
  if (kinds.includes('client') && filter.subjectRef === undefined) {
    let q = db.selectFrom('clients').select(['client_id']).orderBy('last_used_at', 'desc').limit(perKind);
    if (filter.clientId !== undefined) q = q.where('client_id', '=', filter.clientId);
    if (filter.since !== undefined) q = q.where(activeSince('client', 'clients.client_id', filter.since));
    if (filter.until !== undefined) q = q.where('registered_at', '<', filter.until);
    if (filter.state !== undefined) q = q.where('status', '=', filter.state.split('.')[0]!);
    for (const r of await q.execute()) {
      out.push({ streamId: `client:${r.client_id}`, kind: 'client', clientId: r.client_id, subjectRef: null, flowId: null });
    }
  }
  return out;
}

interface StreamFacts {
  readonly events: number;
  readonly firstAt: number;
  readonly lastAt: number;
  readonly state: string;
}

/** Counts, first and last times and current state (the last event's recorded `to`) of some streams. */
async function factsOf(db: Kysely<any>, streamIds: readonly string[]): Promise<Map<string, StreamFacts>> {
  const facts = new Map<string, StreamFacts>();
  for (let i = 0; i < streamIds.length; i += 500) {
    const ids = streamIds.slice(i, i + 500);
    const heads = db
      .selectFrom('events')
      .select(['stream_id', (eb) => eb.fn.max('stream_version').as('v'), (eb) => eb.fn.count('stream_id').as('n'), (eb) => eb.fn.min('occurred_at').as('first')])
      .where('stream_id', 'in', ids)
      .groupBy('stream_id')
      .as('h');
    const rows = await db
      .selectFrom('events as e')
      .innerJoin(heads, (join) => join.onRef('e.stream_id', '=', 'h.stream_id').onRef('e.stream_version', '=', 'h.v'))
      .select(['e.stream_id', 'e.metadata', 'e.occurred_at', 'h.n', 'h.first'])
      .execute();
    for (const r of rows) {
      const machine = (JSON.parse(r.metadata) as { machine?: { to?: unknown } }).machine;
      facts.set(r.stream_id, {
        events: Number(r.n),
        firstAt: Number(r.first),
        lastAt: Number(r.occurred_at),
        state: typeof machine?.to === 'string' ? machine.to : 'unknown',
      });
    }
  }
  return facts;
}

/** The subjects of some flows, opened with their subject keys (erased once forgotten). */
async function subjectsOf(db: Kysely<any>, vault: Vault | undefined, flowIds: readonly string[]): Promise<Map<string, PersonalValue>> {
  const subjects = new Map<string, PersonalValue>();
  const opener = vault ? new PersonalOpener(vault, db) : undefined;
  for (let i = 0; i < flowIds.length; i += 500) {
    const rows = await db
      .selectFrom('events')
      .select(['stream_id', 'data'])
      .where('type', '=', 'upstream.tokens_received')
      .where(
        'stream_id',
        'in',
        flowIds.slice(i, i + 500).map((id) => `flow:${id}`),
      )
      .execute();
    for (const r of rows) {
      const data = JSON.parse(r.data) as { subjectRef: string; subjectSealed: string };
      const value: PersonalValue = opener ? await opener.open(data.subjectRef, 'subject', data.subjectSealed, false) : { status: 'sealed' };
      subjects.set((r.stream_id as string).slice('flow:'.length), value);
    }
  }
  return subjects;
}

/** Finds streams; see {@link StreamFilter}. */
export async function findStreams(db: Kysely<any>, filter: StreamFilter, vault?: Vault): Promise<FoundStream[]> {
  const limit = filter.limit ?? 100;
  const found = await candidates(db, filter, Math.max(limit * 4, 1000));
  const facts = await factsOf(
    db,
    found.map((c) => c.streamId),
  );
  const listed = found
    .flatMap((c) => {
      const f = facts.get(c.streamId);
      if (!f) return [];
      if (filter.since !== undefined && f.lastAt < filter.since) return [];
      if (filter.until !== undefined && f.firstAt >= filter.until) return [];
      if (!stateMatches(f.state, filter.state)) return [];
      return [{ ...c, ...f }];
    })
    .sort((a, b) => b.lastAt - a.lastAt || a.streamId.localeCompare(b.streamId))
    .slice(0, limit);
  const flowIds = [...new Set(listed.filter((s) => s.subjectRef !== null && s.flowId !== null).map((s) => s.flowId!))];
  const subjects = await subjectsOf(db, vault, flowIds);
  return listed.map((s) => ({
    streamId: s.streamId,
    kind: s.kind,
    state: s.state,
    clientId: s.clientId,
    subjectRef: s.subjectRef,
    subject: s.flowId !== null && s.subjectRef !== null ? (subjects.get(s.flowId) ?? null) : null,
    events: s.events,
    firstAt: s.firstAt,
    lastAt: s.lastAt,
  }));
}

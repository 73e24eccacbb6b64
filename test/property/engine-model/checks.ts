/**
 * The checks run after every command of the engine model test:
 *
 * 1. the read views equal the model (flow states, code statuses, grant statuses and
 *    reasons, jti statuses, refresh-token statuses), read with plain SQL, not through the
 *    projections' readers;
 * 2. rebuilding every projection from the log (`rebuildAll`) gives the live tables back
 *    row for row (security-invariants item 44);
 * 3. no event's raw `data` or `metadata` column, and no read-view row, contains any
 *    plaintext secret of the run (item 40);
 * 4. the hash chain verifies (`verifyChain()` is empty).
 *
 * At the end of a run, every stream also replays legally with no drift between the states
 * recorded in the metadata and the replayed ones (items 44, 45).
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { rebuildAll, replayEvents } from '../../../src/engine/replay.js';
import { SCOPES, type Model } from './model.js';
import { allSecrets, type Real } from './real.js';

/** The read views the engine maintains (src/projections/). */
export const PROJECTION_TABLES = [
  'clients',
  'transactions',
  'client_codes',
  'upstream_token_sets',
  'grants',
  'jti_mappings',
  'refresh_tokens',
] as const;

type Row = Record<string, unknown>;
export type TablesSnapshot = Record<string, Row[]>;

/** A failed check, with the run's trace so far. */
export class CheckFailure extends Error {
  constructor(check: string, detail: string, r: Real) {
    super(`${check}: ${detail}\n  after: ${r.trace.slice(-12).join('\n         ')}`);
    this.name = 'CheckFailure';
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

/** Every row of every projection table, in a stable order. */
export async function snapshotTables(r: Real): Promise<TablesSnapshot> {
  const db = r.t.store.store.db;
  const snapshot: TablesSnapshot = {};
  for (const table of PROJECTION_TABLES) {
    const rows = (await db.selectFrom(table).selectAll().execute()) as Row[];
    const normalized = rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
    snapshot[table] = normalized
      .map((row) => [JSON.stringify(row), row] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, row]) => row);
  }
  return snapshot;
}

function byKey(rows: readonly Row[], key: string, pick: (row: Row) => unknown): Record<string, unknown> {
  return Object.fromEntries(rows.map((row) => [String(row[key]), pick(row)]));
}

function compare(r: Real, what: string, actual: Record<string, unknown>, expected: Record<string, unknown>): void {
  if (isDeepStrictEqual(actual, expected)) return;
  const keys = [...new Set([...Object.keys(actual), ...Object.keys(expected)])].sort();
  const diffs = keys
    .filter((k) => !isDeepStrictEqual(actual[k], expected[k]))
    .map((k) => `${k.slice(0, 12)}…: read view ${JSON.stringify(actual[k]) ?? '(none)'}, model ${JSON.stringify(expected[k]) ?? '(none)'}`);
  throw new CheckFailure(`read view ${what} differs from the model`, diffs.join('; '), r);
}

/** Check 1: the read views equal the model. */
export function checkReadViews(m: Model, r: Real, live: TablesSnapshot): void {
  compare(
    r,
    'transactions',
    byKey(live.transactions!, 'flow_id', (row) => row.state),
    Object.fromEntries(m.flows.map((f) => [f.flowId, f.state])),
  );
  compare(
    r,
    'client_codes',
    byKey(live.client_codes!, 'code_hash', (row) => ({ flow: row.flow_id, status: row.status })),
    Object.fromEntries(m.flows.filter((f) => f.code !== null).map((f) => [sha256(f.code!), { flow: f.flowId, status: f.codeStatus }])),
  );
  compare(
    r,
    'grants',
    byKey(live.grants!, 'grant_id', (row) => ({
      status: row.status,
      reason: row.revoked_reason,
      lastUsedAt: Number(row.last_used_at),
      absoluteExpiresAt: Number(row.absolute_expires_at),
    })),
    Object.fromEntries(
      [...m.grants.values()].map((g) => [
        g.grantId,
        { status: g.status, reason: g.reason, lastUsedAt: g.lastUsedAt, absoluteExpiresAt: g.absoluteExpiresAt },
      ]),
    ),
  );
  compare(
    r,
    'jti_mappings',
    byKey(live.jti_mappings!, 'jti', (row) => ({
      grant: row.grant_id,
      status: row.status,
      scopes: JSON.parse(String(row.scopes)),
      expiresAt: Number(row.expires_at),
    })),
    Object.fromEntries([...m.jtis.values()].map((j) => [j.jti, { grant: j.grantId, status: j.status, scopes: j.scopes, expiresAt: j.expiresAt }])),
  );
  compare(
    r,
    'refresh_tokens',
    byKey(live.refresh_tokens!, 'token_hash', (row) => ({ grant: row.grant_id, status: row.status, scopes: JSON.parse(String(row.scopes)) })),
    // A rotated refresh token keeps the grant's scope, whatever the refresh narrowed (item 33).
    Object.fromEntries([...m.refreshTokens.values()].map((t) => [sha256(t.token), { grant: t.grantId, status: t.status, scopes: SCOPES }])),
  );
}

/** Check 2: a rebuild of every projection from the log equals the live tables, row for row. */
export async function checkRebuild(r: Real, live: TablesSnapshot): Promise<void> {
  await rebuildAll(r.t.store.store);
  const rebuilt = await snapshotTables(r);
  for (const table of PROJECTION_TABLES) {
    const a = live[table]!;
    const b = rebuilt[table]!;
    if (isDeepStrictEqual(a, b)) continue;
    const onlyLive = a.filter((row) => !b.some((x) => isDeepStrictEqual(x, row)));
    const onlyRebuilt = b.filter((row) => !a.some((x) => isDeepStrictEqual(x, row)));
    throw new CheckFailure(
      `rebuilding ${table} from the log changed it`,
      `live only: ${JSON.stringify(onlyLive)}; rebuilt only: ${JSON.stringify(onlyRebuilt)}`,
      r,
    );
  }
}

/**
 * Check 3: no plaintext secret in any event's data or metadata, nor in any read-view row.
 * Events already scanned are scanned again only for secrets that appeared since.
 */
export async function checkNoPlaintextSecrets(r: Real, live: TablesSnapshot): Promise<void> {
  const secrets = allSecrets(r);
  const events = await r.t.store.store.db
    .selectFrom('events')
    .select(['global_position', 'stream_id', 'type', 'data', 'metadata'])
    .orderBy('global_position')
    .execute();
  const { position, secrets: known } = r.scanned;
  for (const e of events) {
    const fresh = Number(e.global_position) > position;
    for (const column of ['data', 'metadata'] as const) {
      const text = String(e[column]);
      for (let i = fresh ? 0 : known; i < secrets.length; i++) {
        const [secret, label] = secrets[i]!;
        if (text.includes(secret)) {
          throw new CheckFailure('plaintext secret in the log', `${label} in ${column} of ${e.type} (position ${e.global_position})`, r);
        }
      }
    }
  }
  r.scanned.position = events.length > 0 ? Number(events[events.length - 1]!.global_position) : 0;
  r.scanned.secrets = secrets.length;
  for (const table of PROJECTION_TABLES) {
    for (const row of live[table]!) {
      const text = JSON.stringify(row);
      for (const [secret, label] of secrets) {
        if (text.includes(secret)) throw new CheckFailure('plaintext secret in a read view', `${label} in a row of ${table}`, r);
      }
    }
  }
}

/** Check 4: the hash chain verifies. */
export async function checkChain(r: Real): Promise<void> {
  const breaks = await r.t.store.store.verifyChain();
  if (breaks.length > 0) throw new CheckFailure('the hash chain does not verify', JSON.stringify(breaks.slice(0, 3)), r);
}

/**
 * Checks 1–4, run after every command. The rebuild is skipped only when it cannot tell
 * anything new: the log has not grown and the live tables are exactly those of the last
 * rebuild check (the rebuild is a function of the log, which it already matched).
 */
export async function checkAfterCommand(m: Model, r: Real): Promise<void> {
  r.commandsRun++;
  const t0 = performance.now();
  const live = await snapshotTables(r);
  checkReadViews(m, r, live);
  const t1 = performance.now();
  const head = await logHead(r);
  if (head !== r.checked.head || !isDeepStrictEqual(live, r.checked.tables)) {
    await checkRebuild(r, live);
    r.checked.head = head;
    r.checked.tables = live;
    r.coverage.bump('checks: rebuilds compared');
  }
  const t2 = performance.now();
  await checkNoPlaintextSecrets(r, live);
  const t3 = performance.now();
  if (r.commandsRun % r.chainEvery === 0) await checkChain(r);
  const t4 = performance.now();
  r.coverage.bump('~ms snapshot', t1 - t0);
  r.coverage.bump('~ms rebuild', t2 - t1);
  r.coverage.bump('~ms secrets', t3 - t2);
  r.coverage.bump('~ms chain', t4 - t3);
}

async function logHead(r: Real): Promise<number> {
  const row = await r.t.store.store.db
    .selectFrom('events')
    .select((eb) => eb.fn.max('global_position').as('head'))
    .executeTakeFirst();
  return Number(row?.head ?? 0);
}

/** End of a run: the chain verifies and every stream replays legally, as recorded. */
export async function checkEndOfRun(r: Real): Promise<void> {
  await checkChain(r);
  r.scanned.position = 0;
  r.scanned.secrets = 0;
  await checkNoPlaintextSecrets(r, await snapshotTables(r));
  const byStream = new Map<string, Parameters<typeof replayEvents>[1][number][]>();
  for await (const event of r.t.store.store.readAll()) {
    const list = byStream.get(event.streamId) ?? [];
    list.push(event);
    byStream.set(event.streamId, list);
  }
  for (const [streamId, events] of byStream) {
    const replay = replayEvents(streamId, events);
    const bad = replay.steps.find((s) => !s.legal || s.drift);
    if (bad) {
      throw new CheckFailure(
        'replay of a stream disagrees with the log',
        `${streamId} v${bad.event.streamVersion} ${bad.event.type}: replayed ${bad.before} → ${bad.after}, recorded ${bad.recorded.from} → ${bad.recorded.to}`,
        r,
      );
    }
  }
}

/**
 * `npm run bench:store`: the event store next to raw baselines doing identical work.
 *
 * - append, one transaction per event: flowgate's `append` vs the same SQL and the same
 *   hashing on better-sqlite3 prepared statements (SQLite FULL and NORMAL) or plain `pg`;
 * - append + an inline projection (one upsert per event), same comparison;
 * - replay (`readAll`) vs a raw batched read that parses each row's JSON;
 * - rebuild of a projection vs a raw delete + read + upsert in one transaction.
 *
 * Medians of 5 alternating runs after a warm-up. Target: SQLite FULL append ≥ 0.7× raw.
 * PostgreSQL runs when FLOWGATE_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test) answers.
 */
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parseConfig } from '../src/config/load.js';
import { deriveEventId, newCommandId } from '../src/events/ids.js';
import type { EventStore } from '../src/store/event-store.js';
import { genesisHash } from '../src/store/hash-chain.js';
import { openStore } from '../src/store/open-store.js';
import { sealEvent } from '../src/store/seal-event.js';
import type { NewEvent, Projection } from '../src/store/types.js';
import { compare, printHeader, writeResults, type Row } from './lib/measure.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const STREAMS = 200;
const PG_URL = process.env.FLOWGATE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const COLUMNS = 'event_id, stream_id, stream_version, type, schema_version, data, metadata, occurred_at, payload_hash, prev_hash, hash';
const INSERT_SQL = `insert into events (${COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing returning global_position, event_id`;
const HEAD_SQL = 'select stream_version, hash from events where stream_id = ? order by stream_version desc limit 1';
const UPSERT_SQL =
  'insert into bench_counts (stream_id, events, last_type) values (?, 1, ?) on conflict (stream_id) do update set events = bench_counts.events + 1, last_type = excluded.last_type';
const CREATE_COUNTS = 'create table if not exists bench_counts (stream_id text primary key, events integer not null, last_type text not null)';

let tick = Date.UTC(2026, 10, 29);
function event(commandId: string, index: number): NewEvent {
  return {
    eventId: deriveEventId(commandId, index),
    type: 'code.issued',
    data: {
      codeHash: 'k2mR7cQ0s1m6l4zWkz6yq0u3F8pQ2oX9vJc1T5eH3nA',
      clientId: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
      redirectUri: 'http://127.0.0.1:53682/callback',
      scopes: ['mcp:tools'],
      expiresAt: tick + 300_000,
    },
    metadata: { commandId, machine: { id: 'authorization-flow', version: '1', from: 'upstream_tokens_received', to: 'code_issued' } },
    occurredAt: tick++,
  };
}

const countsProjection: Projection = {
  name: 'bench_counts',
  handles: ['code.issued'],
  tables: ['bench_counts'],
  async apply(trx, e) {
    await trx
      .insertInto('bench_counts')
      .values({ stream_id: e.streamId, events: 1, last_type: e.type })
      .onConflict((oc) => oc.column('stream_id').doUpdateSet({ events: sql`bench_counts.events + 1`, last_type: e.type }))
      .execute();
  },
};

/** A fresh store of one kind, with the benchmark's projection table. */
interface Fresh {
  store: EventStore;
  dispose(): Promise<void>;
  path?: string;
  schema?: string;
}

async function freshSqlite(synchronous: 'FULL' | 'NORMAL', withProjection: boolean): Promise<Fresh> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-'));
  const path = join(dir, 'bench.db');
  const store = await openStore(parseConfig({ values: { store: { sqlitePath: path, synchronous } } }));
  await sql.raw(CREATE_COUNTS).execute(store.db);
  if (withProjection) store.registerProjection(countsProjection);
  return { store, path, dispose: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); } };
}

async function freshPostgres(withProjection: boolean): Promise<Fresh> {
  const schema = `fg_bench_${Math.random().toString(36).slice(2, 10)}`;
  const store = await openStore(parseConfig({ values: { store: { databaseUrl: PG_URL, postgresSchema: schema } } }));
  await sql.raw(CREATE_COUNTS).execute(store.db);
  if (withProjection) store.registerProjection(countsProjection);
  return {
    store,
    schema,
    dispose: async () => {
      await sql`drop schema ${sql.id(schema)} cascade`.execute(store.db);
      await store.close();
    },
  };
}

async function storeAppends(fresh: () => Promise<Fresh>, count: number): Promise<number> {
  const f = await fresh();
  try {
    const versions = new Map<string, number>();
    for (let i = 0; i < count; i++) {
      const streamId = `flow:${i % STREAMS}`;
      const v = versions.get(streamId) ?? 0;
      await f.store.append(streamId, v, [event(newCommandId(), 0)]);
      versions.set(streamId, v + 1);
    }
    return count;
  } finally {
    await f.dispose();
  }
}

async function rawSqliteAppends(synchronous: 'FULL' | 'NORMAL', withProjection: boolean, count: number): Promise<number> {
  const f = await freshSqlite(synchronous, false);
  await f.store.close();
  const db = new Database(f.path!);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  try {
    const begin = db.prepare('begin immediate');
    const commit = db.prepare('commit');
    const head = db.prepare(HEAD_SQL);
    const insert = db.prepare(INSERT_SQL);
    const upsert = db.prepare(UPSERT_SQL);
    for (let i = 0; i < count; i++) {
      const streamId = `flow:${i % STREAMS}`;
      begin.run();
      const h = head.get(streamId) as { stream_version: number; hash: string } | undefined;
      const row = sealEvent(streamId, (h?.stream_version ?? 0) + 1, h?.hash ?? genesisHash(streamId), event(newCommandId(), 0));
      const inserted = insert.all(
        row.event_id, row.stream_id, row.stream_version, row.type, row.schema_version, row.data, row.metadata,
        row.occurred_at, row.payload_hash, row.prev_hash, row.hash,
      );
      if (inserted.length !== 1) throw new Error('raw insert conflicted');
      if (withProjection) upsert.run(streamId, row.type);
      commit.run();
    }
    return count;
  } finally {
    db.close();
    await f.dispose().catch(() => {});
  }
}

function pgPlaceholders(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

async function rawPostgresAppends(withProjection: boolean, count: number): Promise<number> {
  const f = await freshPostgres(false);
  const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${f.schema}` });
  await client.connect();
  try {
    const insert = pgPlaceholders(INSERT_SQL);
    const head = pgPlaceholders(HEAD_SQL);
    const upsert = pgPlaceholders(UPSERT_SQL);
    for (let i = 0; i < count; i++) {
      const streamId = `flow:${i % STREAMS}`;
      await client.query('begin');
      await client.query(`select pg_advisory_xact_lock(hashtext('flowgate/append:' || current_schema()))`);
      const h = (await client.query({ text: head, values: [streamId], name: 'head' })).rows[0] as
        | { stream_version: number; hash: string }
        | undefined;
      const row = sealEvent(streamId, (h?.stream_version ?? 0) + 1, h?.hash ?? genesisHash(streamId), event(newCommandId(), 0));
      const inserted = await client.query({
        name: 'insert',
        text: insert,
        values: [row.event_id, row.stream_id, row.stream_version, row.type, row.schema_version, row.data, row.metadata,
          row.occurred_at, row.payload_hash, row.prev_hash, row.hash],
      });
      if (inserted.rows.length !== 1) throw new Error('raw insert conflicted');
      if (withProjection) await client.query({ name: 'upsert', text: upsert, values: [streamId, row.type] });
      await client.query('commit');
    }
    return count;
  } finally {
    await client.end();
    await f.dispose();
  }
}

/** A store holding `count` events (50 per append), with the projection registered. */
async function seeded(fresh: () => Promise<Fresh>, count: number): Promise<Fresh> {
  const f = await fresh();
  for (let i = 0; i < count / 50; i++) {
    const commandId = newCommandId();
    await f.store.append(`flow:${i}`, 0, Array.from({ length: 50 }, (_, k) => event(commandId, k)));
  }
  return f;
}

async function storeReplay(f: Fresh): Promise<number> {
  let n = 0;
  for await (const _e of f.store.readAll({ batchSize: 1000 })) n++;
  return n;
}

async function rawReplay(f: Fresh): Promise<number> {
  let n = 0;
  let position = 0;
  if (f.path) {
    const db = new Database(f.path, { readonly: true });
    const stmt = db.prepare('select * from events where global_position > ? order by global_position limit 1000');
    for (;;) {
      const rows = stmt.all(position) as Array<{ global_position: number; data: string; metadata: string }>;
      for (const r of rows) {
        JSON.parse(r.data);
        JSON.parse(r.metadata);
        n++;
      }
      if (rows.length < 1000) break;
      position = rows[rows.length - 1]!.global_position;
    }
    db.close();
    return n;
  }
  const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${f.schema}` });
  await client.connect();
  for (;;) {
    const { rows } = await client.query({
      name: 'page',
      text: 'select * from events where global_position > $1 order by global_position limit 1000',
      values: [position],
    });
    for (const r of rows) {
      JSON.parse(r.data);
      JSON.parse(r.metadata);
      n++;
    }
    if (rows.length < 1000) break;
    position = Number(rows[rows.length - 1].global_position);
  }
  await client.end();
  return n;
}

async function storeRebuild(f: Fresh): Promise<number> {
  return (await f.store.rebuild('bench_counts')).events;
}

async function rawRebuild(f: Fresh): Promise<number> {
  let n = 0;
  let position = 0;
  if (f.path) {
    const db = new Database(f.path);
    db.pragma('busy_timeout = 5000');
    const page = db.prepare(
      "select * from events where global_position > ? and type in ('code.issued') order by global_position limit 1000",
    );
    const upsert = db.prepare(UPSERT_SQL);
    db.prepare('begin immediate').run();
    db.prepare('delete from bench_counts').run();
    for (;;) {
      const rows = page.all(position) as Array<{ global_position: number; stream_id: string; type: string; data: string; metadata: string }>;
      for (const r of rows) {
        JSON.parse(r.data);
        JSON.parse(r.metadata);
        upsert.run(r.stream_id, r.type);
        n++;
      }
      if (rows.length < 1000) break;
      position = rows[rows.length - 1]!.global_position;
    }
    db.prepare('commit').run();
    db.close();
    return n;
  }
  const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${f.schema}` });
  await client.connect();
  await client.query('begin');
  await client.query('delete from bench_counts');
  const upsert = pgPlaceholders(UPSERT_SQL);
  for (;;) {
    const { rows } = await client.query({
      name: 'page',
      text: "select * from events where global_position > $1 and type in ('code.issued') order by global_position limit 1000",
      values: [position],
    });
    for (const r of rows) {
      JSON.parse(r.data);
      JSON.parse(r.metadata);
      await client.query({ name: 'upsert', text: upsert, values: [r.stream_id, r.type] });
      n++;
    }
    if (rows.length < 1000) break;
    position = Number(rows[rows.length - 1].global_position);
  }
  await client.query('commit');
  await client.end();
  return n;
}

async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

const rows: Array<Row | undefined> = [];
printHeader(`event store, medians of ${RUNS} runs (one transaction per append)`);
for (const sync of ['FULL', 'NORMAL'] as const) {
  const n = sync === 'FULL' ? 1500 : 4000;
  rows.push(
    await compare(
      `SQLite ${sync}: append`,
      { name: 'EventStore.append', run: () => storeAppends(() => freshSqlite(sync, false), n) },
      { name: 'better-sqlite3 prepared statements', run: () => rawSqliteAppends(sync, false, n) },
      RUNS,
      sync === 'FULL' ? 0.7 : undefined,
    ),
  );
  rows.push(
    await compare(
      `SQLite ${sync}: append + projection`,
      { name: 'EventStore.append + projection', run: () => storeAppends(() => freshSqlite(sync, true), n) },
      { name: 'better-sqlite3 prepared statements', run: () => rawSqliteAppends(sync, true, n) },
      RUNS,
    ),
  );
}
const withPg = await postgresAvailable();
if (withPg) {
  rows.push(
    await compare(
      'PostgreSQL: append',
      { name: 'EventStore.append', run: () => storeAppends(() => freshPostgres(false), 1000) },
      { name: 'pg client, named statements', run: () => rawPostgresAppends(false, 1000) },
      RUNS,
    ),
  );
  rows.push(
    await compare(
      'PostgreSQL: append + projection',
      { name: 'EventStore.append + projection', run: () => storeAppends(() => freshPostgres(true), 1000) },
      { name: 'pg client, named statements', run: () => rawPostgresAppends(true, 1000) },
      RUNS,
    ),
  );
} else {
  process.stdout.write(`PostgreSQL at ${PG_URL} does not answer: PostgreSQL rows skipped\n`);
}

const REPLAY_EVENTS = 50_000;
for (const kind of withPg ? (['SQLite', 'PostgreSQL'] as const) : (['SQLite'] as const)) {
  const f = await seeded(() => (kind === 'SQLite' ? freshSqlite('NORMAL', true) : freshPostgres(true)), REPLAY_EVENTS);
  try {
    rows.push(
      await compare(
        `${kind}: replay ${REPLAY_EVENTS / 1000}k events`,
        { name: 'EventStore.readAll', run: () => storeReplay(f) },
        { name: 'raw batched read + JSON.parse', run: () => rawReplay(f) },
        RUNS,
      ),
    );
    rows.push(
      await compare(
        `${kind}: rebuild projection, ${REPLAY_EVENTS / 1000}k events`,
        { name: 'EventStore.rebuild', run: () => storeRebuild(f) },
        { name: 'raw read + parse + upsert, one tx', run: () => rawRebuild(f) },
        RUNS,
      ),
    );
  } finally {
    await f.dispose();
  }
}
writeResults('store', rows.filter((r): r is Row => r !== undefined), { runs: RUNS });

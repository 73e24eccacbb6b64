/** Bulk SQL that fills the log fast (rows need not chain: these tests read, not verify). */
import { sql } from 'kysely';
import type { EventStore } from '../../src/store/event-store.js';

const DATA = JSON.stringify({ clientId: 'c-0123456789', redirectUri: 'http://127.0.0.1:53682/callback', scopes: ['mcp:tools'], note: 'x'.repeat(40) });
const META = JSON.stringify({ commandId: '00000000-0000-4000-8000-000000000000', machine: { id: 'authorization-flow', version: '1' } });
const HASH = 'a'.repeat(64);

/** Inserts `count` events, five per stream, with one SQL statement. */
export async function seedEvents(store: EventStore, count: number): Promise<void> {
  if (store.dialect.name === 'sqlite') {
    await sql`WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x + 1 < ${count})
      INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata, occurred_at, payload_hash, prev_hash, hash)
      SELECT 'seed-' || x, 'flow:seed-' || (x / 5), (x % 5) + 1, 'seed.happened', 1, ${DATA}, ${META}, 1700000000000 + x, ${HASH}, ${HASH}, ${HASH} FROM c`.execute(
      store.db,
    );
  } else {
    await sql`INSERT INTO events (event_id, stream_id, stream_version, type, schema_version, data, metadata, occurred_at, payload_hash, prev_hash, hash)
      SELECT 'seed-' || x, 'flow:seed-' || (x / 5), (x % 5) + 1, 'seed.happened', 1, ${DATA}, ${META}, 1700000000000 + x, ${HASH}, ${HASH}, ${HASH}
      FROM generate_series(0, ${count - 1}) AS x`.execute(store.db);
  }
}

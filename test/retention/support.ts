/** Raw SQL around the append-only triggers, restoring them afterwards (unlike a dropped trigger, the log stays guarded). */
import { sql, type RawBuilder } from 'kysely';
import type { EventStore } from '../../src/store/event-store.js';

/** Runs `statement` on `events` with the UPDATE guard lifted for that one statement. */
export async function tamperEvents(store: EventStore, statement: RawBuilder<unknown>): Promise<void> {
  const db = store.db;
  if (store.dialect.name === 'sqlite') {
    const trigger = await sql<{ sql: string }>`SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'events_no_update'`.execute(db);
    await sql`DROP TRIGGER events_no_update`.execute(db);
    try {
      await statement.execute(db);
    } finally {
      await sql.raw(trigger.rows[0]!.sql).execute(db);
    }
  } else {
    await db.connection().execute(async (conn) => {
      await sql`ALTER TABLE events DISABLE TRIGGER USER`.execute(conn);
      try {
        await statement.execute(conn);
      } finally {
        await sql`ALTER TABLE events ENABLE TRIGGER USER`.execute(conn);
      }
    });
  }
}

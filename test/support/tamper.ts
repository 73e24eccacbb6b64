/** Raw SQL that goes around flowgate, the way an attacker with database access would. */
import { sql } from 'kysely';
import type { EventStore } from '../../src/store/event-store.js';

/** Runs `statement` with the append-only triggers out of the way. */
export async function tamper(store: EventStore, statement: ReturnType<typeof sql>): Promise<void> {
  const db = store.db;
  if (store.dialect.name === 'sqlite') {
    await sql`DROP TRIGGER IF EXISTS events_no_update`.execute(db);
    await sql`DROP TRIGGER IF EXISTS events_no_delete`.execute(db);
    await statement.execute(db);
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

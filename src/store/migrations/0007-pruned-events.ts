/**
 * The record of pruned events (docs/store.md, "Retention"; docs/audit.md, "Signed anchors"):
 * for every event the one sanctioned deletion removes, its global position, stream, version
 * and hash, written in the same transaction as the deletion (src/store/retention.ts). The
 * events' payloads are gone (archived), but a signed anchor digests (position, hash) of
 * every event up to its position and the heads of every stream, so with these rows what
 * remains after a prune still reproduces the anchors made before it, and anchors made
 * after it cover the pruned positions the same way. Append-only like the event log:
 * triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).
 *
 * @module
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../dialect.js';

const APPEND_ONLY = 'flowgate: pruned_events is append-only';

async function createTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('pruned_events')
    .addColumn('global_position', 'bigint', (c) => c.primaryKey())
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('stream_version', 'integer', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('pruned_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('pruned_events_stream_version_unique', ['stream_id', 'stream_version'])
    .execute();
  await db.schema.createIndex('pruned_events_pruned_at').on('pruned_events').column('pruned_at').execute();
}

async function createSqliteTriggers(db: Kysely<any>): Promise<void> {
  await sql`CREATE TRIGGER pruned_events_no_update BEFORE UPDATE ON pruned_events
    BEGIN SELECT RAISE(ABORT, ${sql.lit(APPEND_ONLY)}); END`.execute(db);
  await sql`CREATE TRIGGER pruned_events_no_delete BEFORE DELETE ON pruned_events
    BEGIN SELECT RAISE(ABORT, ${sql.lit(APPEND_ONLY)}); END`.execute(db);
}

async function createPostgresTriggers(db: Kysely<any>): Promise<void> {
  await sql`CREATE FUNCTION flowgate_pruned_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION ${sql.lit(APPEND_ONLY)} USING ERRCODE = 'FG001';
    END $$`.execute(db);
  await sql`CREATE TRIGGER pruned_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON pruned_events
    FOR EACH STATEMENT EXECUTE FUNCTION flowgate_pruned_events_guard()`.execute(db);
}

/** Migration 0007 for the given dialect. */
export function prunedEventsMigration(dialect: DialectName): Migration {
  return {
    async up(db) {
      await createTable(db);
      if (dialect === 'sqlite') await createSqliteTriggers(db);
      else await createPostgresTriggers(db);
    },
  };
}

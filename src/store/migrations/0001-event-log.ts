/**
 * The event log, its append-only triggers and the retention checkpoint table
 * (docs/store.md).
 *
 * @module
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../dialect.js';

const APPEND_ONLY = 'flowgate: the events table is append-only';

async function createTables(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('events')
    .addColumn('global_position', dialect === 'sqlite' ? 'integer' : 'bigint', (c) =>
      dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey().generatedAlwaysAsIdentity(),
    )
    .addColumn('event_id', 'text', (c) => c.notNull().unique())
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('stream_version', 'integer', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('schema_version', 'integer', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('payload_hash', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addUniqueConstraint('events_stream_version_unique', ['stream_id', 'stream_version'])
    .execute();
  await db.schema.createIndex('events_type_position').on('events').columns(['type', 'global_position']).execute();
  await db.schema.createIndex('events_occurred_at').on('events').column('occurred_at').execute();

  await db.schema
    .createTable('stream_checkpoints')
    .addColumn('stream_id', 'text', (c) => c.primaryKey())
    .addColumn('through_version', 'integer', (c) => c.notNull())
    .addColumn('through_hash', 'text', (c) => c.notNull())
    .addColumn('archive_digest', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

async function createSqliteTriggers(db: Kysely<any>): Promise<void> {
  await sql`CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, ${sql.lit(APPEND_ONLY)}); END`.execute(db);
  // The one sanctioned deletion: rows a retention checkpoint already covers.
  await sql`CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    WHEN NOT EXISTS (SELECT 1 FROM stream_checkpoints c
                     WHERE c.stream_id = OLD.stream_id AND c.through_version >= OLD.stream_version)
    BEGIN SELECT RAISE(ABORT, ${sql.lit(APPEND_ONLY)}); END`.execute(db);
  await sql`CREATE TRIGGER stream_checkpoints_no_update BEFORE UPDATE ON stream_checkpoints
    BEGIN SELECT RAISE(ABORT, 'flowgate: stream_checkpoints is append-only'); END`.execute(db);
  await sql`CREATE TRIGGER stream_checkpoints_no_delete BEFORE DELETE ON stream_checkpoints
    BEGIN SELECT RAISE(ABORT, 'flowgate: stream_checkpoints is append-only'); END`.execute(db);
}

async function createPostgresTriggers(db: Kysely<any>): Promise<void> {
  await sql`CREATE FUNCTION flowgate_events_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND EXISTS (
        SELECT 1 FROM stream_checkpoints c
        WHERE c.stream_id = OLD.stream_id AND c.through_version >= OLD.stream_version) THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION ${sql.lit(APPEND_ONLY)} USING ERRCODE = 'FG001';
    END $$`.execute(db);
  await sql`CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION flowgate_events_guard()`.execute(db);
  await sql`CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION flowgate_events_guard()`.execute(db);
  await sql`CREATE FUNCTION flowgate_checkpoints_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'flowgate: stream_checkpoints is append-only' USING ERRCODE = 'FG001';
    END $$`.execute(db);
  await sql`CREATE TRIGGER stream_checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON stream_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION flowgate_checkpoints_guard()`.execute(db);
}

/** Migration 0001 for the given dialect. */
export function eventLogMigration(dialect: DialectName): Migration {
  return {
    async up(db) {
      await createTables(db, dialect);
      if (dialect === 'sqlite') await createSqliteTriggers(db);
      else await createPostgresTriggers(db);
    },
  };
}

/**
 * The signed audit anchors (src/audit/anchors.ts, docs/audit.md): one row per anchor, its
 * position, the position of the anchor it continues, its digest and key, and the compact
 * JWS itself. Append-only like the event log: triggers refuse UPDATE and DELETE (and
 * TRUNCATE on PostgreSQL), so removing an anchor takes dropping a trigger first, which the
 * chain of anchors and anchors kept outside the database reveal.
 *
 * @module
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../dialect.js';

const APPEND_ONLY = 'flowgate: audit_anchors is append-only';

async function createTable(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('audit_anchors')
    .addColumn('anchor_id', dialect === 'sqlite' ? 'integer' : 'bigint', (c) =>
      dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey().generatedAlwaysAsIdentity(),
    )
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addColumn('previous_position', 'bigint')
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('kid', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'bigint', (c) => c.notNull())
    .addColumn('jws', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_anchors_position').on('audit_anchors').columns(['position', 'anchor_id']).execute();
}

async function createSqliteTriggers(db: Kysely<any>): Promise<void> {
  await sql`CREATE TRIGGER audit_anchors_no_update BEFORE UPDATE ON audit_anchors
    BEGIN SELECT RAISE(ABORT, ${sql.lit(APPEND_ONLY)}); END`.execute(db);
  await sql`CREATE TRIGGER audit_anchors_no_delete BEFORE DELETE ON audit_anchors
    BEGIN SELECT RAISE(ABORT, ${sql.lit(APPEND_ONLY)}); END`.execute(db);
}

async function createPostgresTriggers(db: Kysely<any>): Promise<void> {
  await sql`CREATE FUNCTION flowgate_audit_anchors_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION ${sql.lit(APPEND_ONLY)} USING ERRCODE = 'FG001';
    END $$`.execute(db);
  await sql`CREATE TRIGGER audit_anchors_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_anchors
    FOR EACH STATEMENT EXECUTE FUNCTION flowgate_audit_anchors_guard()`.execute(db);
}

/** Migration 0006 for the given dialect. */
export function auditAnchorsMigration(dialect: DialectName): Migration {
  return {
    async up(db) {
      await createTable(db, dialect);
      if (dialect === 'sqlite') await createSqliteTriggers(db);
      else await createPostgresTriggers(db);
    },
  };
}

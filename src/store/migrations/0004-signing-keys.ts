/**
 * The keyring's table (src/keys/keyring.ts): every signing key flowgate ever made, its
 * public JWK, its private JWK sealed with the master key, and its life cycle
 * (`next` → `active` → `retired`).
 *
 * The database, not process memory, keeps the keyring consistent across instances:
 *
 * - partial unique indexes allow at most one `active` and one `next` key per purpose, so two
 *   instances racing to create the first keys or to rotate cannot both win;
 * - anchor keys (they sign the audit anchors) are always active and can be neither changed
 *   nor deleted: a check constraint and triggers refuse it, whatever the code does.
 *
 * @module
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../dialect.js';

const ANCHOR_PERMANENT = 'flowgate: anchor keys are permanent (never changed, never deleted)';

async function createTable(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    // Public JWK as JSON text; null for cookie keys (an HMAC secret has no public part).
    .addColumn('public_jwk', 'text')
    // `Vault.sealWithMaster('keyring', …)` of the private JWK; null once the key is removed.
    .addColumn('private_sealed', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('activated_at', 'bigint')
    .addColumn('retired_at', 'bigint')
    // When the last token (or cookie) signed with the key expires; set on retirement.
    .addColumn('not_after', 'bigint')
    .addColumn('removed_at', 'bigint')
    .addCheckConstraint('signing_keys_purpose', sql`purpose IN ('access_token', 'cookie', 'anchor')`)
    .addCheckConstraint('signing_keys_state', sql`state IN ('next', 'active', 'retired')`)
    .addCheckConstraint('signing_keys_anchor_active', sql`purpose <> 'anchor' OR state = 'active'`)
    .execute();
  await db.schema
    .createIndex('signing_keys_one_active')
    .unique()
    .on('signing_keys')
    .column('purpose')
    .where(sql.ref('state'), '=', 'active')
    .execute();
  await db.schema
    .createIndex('signing_keys_one_next')
    .unique()
    .on('signing_keys')
    .column('purpose')
    .where(sql.ref('state'), '=', 'next')
    .execute();
}

async function createSqliteTriggers(db: Kysely<any>): Promise<void> {
  await sql`CREATE TRIGGER signing_keys_anchor_no_update BEFORE UPDATE ON signing_keys
    WHEN OLD.purpose = 'anchor'
    BEGIN SELECT RAISE(ABORT, ${sql.lit(ANCHOR_PERMANENT)}); END`.execute(db);
  await sql`CREATE TRIGGER signing_keys_anchor_no_delete BEFORE DELETE ON signing_keys
    WHEN OLD.purpose = 'anchor'
    BEGIN SELECT RAISE(ABORT, ${sql.lit(ANCHOR_PERMANENT)}); END`.execute(db);
}

async function createPostgresTriggers(db: Kysely<any>): Promise<void> {
  await sql`CREATE FUNCTION flowgate_signing_keys_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.purpose = 'anchor' THEN
        RAISE EXCEPTION ${sql.lit(ANCHOR_PERMANENT)};
      END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END $$`.execute(db);
  await sql`CREATE TRIGGER signing_keys_anchor_permanent BEFORE UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION flowgate_signing_keys_guard()`.execute(db);
}

/** Migration 0004 for the given dialect. */
export function signingKeysMigration(dialect: DialectName): Migration {
  return {
    async up(db) {
      await createTable(db);
      if (dialect === 'sqlite') await createSqliteTriggers(db);
      else await createPostgresTriggers(db);
    },
  };
}

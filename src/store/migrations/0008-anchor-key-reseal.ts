/**
 * Lets `flowgate keys rewrap` re-seal the anchor key (src/keys/master-key-rewrap.ts).
 * Migration 0004 made anchor rows immutable outright; this narrows the trigger to what
 * "permanent" means: an anchor row still cannot be deleted, and no column may change
 * except `private_sealed`, which may be replaced by another non-null value (the same
 * private key sealed with a new master key). The database cannot tell a re-sealed value
 * from a forged one; the master key does: the keyring trusts a key only once its sealed
 * private part opens with the master key and matches the row (src/keys/key-material.ts),
 * so a forged value makes the anchor key unusable, never replaceable.
 *
 * @module
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../dialect.js';

const ANCHOR_PERMANENT = 'flowgate: anchor keys are permanent (never changed, never deleted)';

async function sqliteUp(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER signing_keys_anchor_no_update`.execute(db);
  await sql`CREATE TRIGGER signing_keys_anchor_no_update BEFORE UPDATE ON signing_keys
    WHEN OLD.purpose = 'anchor' AND (
      NEW.kid IS NOT OLD.kid OR NEW.purpose IS NOT OLD.purpose OR NEW.alg IS NOT OLD.alg
      OR NEW.state IS NOT OLD.state OR NEW.public_jwk IS NOT OLD.public_jwk
      OR NEW.created_at IS NOT OLD.created_at OR NEW.activated_at IS NOT OLD.activated_at
      OR NEW.retired_at IS NOT OLD.retired_at OR NEW.not_after IS NOT OLD.not_after
      OR NEW.removed_at IS NOT OLD.removed_at OR NEW.private_sealed IS NULL)
    BEGIN SELECT RAISE(ABORT, ${sql.lit(ANCHOR_PERMANENT)}); END`.execute(db);
}

async function postgresUp(db: Kysely<any>): Promise<void> {
  await sql`CREATE OR REPLACE FUNCTION flowgate_signing_keys_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.purpose = 'anchor' THEN
        IF TG_OP = 'DELETE'
          OR (NEW.kid, NEW.purpose, NEW.alg, NEW.state, NEW.public_jwk, NEW.created_at, NEW.activated_at,
              NEW.retired_at, NEW.not_after, NEW.removed_at)
             IS DISTINCT FROM
             (OLD.kid, OLD.purpose, OLD.alg, OLD.state, OLD.public_jwk, OLD.created_at, OLD.activated_at,
              OLD.retired_at, OLD.not_after, OLD.removed_at)
          OR NEW.private_sealed IS NULL THEN
          RAISE EXCEPTION ${sql.lit(ANCHOR_PERMANENT)};
        END IF;
      END IF;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END $$`.execute(db);
}

/** Migration 0008 for the given dialect. */
export function anchorKeyResealMigration(dialect: DialectName): Migration {
  return {
    async up(db) {
      if (dialect === 'sqlite') await sqliteUp(db);
      else await postgresUp(db);
    },
  };
}

/**
 * The data-key table of envelope encryption (src/crypto/vault.ts). It lives outside the
 * event log on purpose: destroying a key must be possible while the log stays append-only.
 *
 * @module
 */
import type { Migration } from 'kysely';

/** Migration 0002. */
export function dataKeysMigration(): Migration {
  return {
    async up(db) {
      await db.schema
        .createTable('data_keys')
        .addColumn('key_id', 'text', (c) => c.primaryKey())
        .addColumn('wrapped_key', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('destroyed_at', 'bigint')
        .execute();
    },
  };
}

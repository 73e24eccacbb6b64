/**
 * The `security_events` table: rejections that change no state (bad PKCE, CSRF failures,
 * browser-binding mismatches, failed client authentication, rate limits), aggregated per
 * kind, client and minute so a flood of bad requests cannot become a flood of writes.
 *
 * @module
 */
import type { Migration } from 'kysely';

/** Migration 0005. */
export function securityEventsMigration(): Migration {
  return {
    async up(db) {
      await db.schema
        .createTable('security_events')
        .addColumn('minute', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('first_at', 'bigint', (c) => c.notNull())
        .addColumn('last_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('security_events_pk', ['minute', 'kind', 'client_id'])
        .execute();
    },
  };
}

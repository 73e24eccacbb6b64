/**
 * The read views of the engine (src/projections/): fastmcp's models, keyed by hashes
 * where fastmcp keys by secrets, plus the grant and revocation state flowgate adds
 * (docs/models.md).
 *
 * @module
 */
import type { Migration } from 'kysely';

/** Migration 0003. */
export function projectionsMigration(): Migration {
  return {
    async up(db) {
      await db.schema
        .createTable('clients')
        .addColumn('client_id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text')
        .addColumn('allowed_patterns', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('registered_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint', (c) => c.notNull())
        .addColumn('unused_ttl_ms', 'bigint')
        .execute();

      await db.schema
        .createTable('transactions')
        .addColumn('flow_id', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('code_challenge', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('client_state_sealed', 'text')
        .addColumn('browser_hash', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('consent_basis', 'text')
        .addColumn('upstream_state_hash', 'text')
        .addColumn('state_expires_at', 'bigint')
        .addColumn('proxy_verifier_sealed', 'text')
        .addColumn('nonce_hash', 'text')
        .addColumn('subject_ref', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('transactions_upstream_state')
        .on('transactions')
        .column('upstream_state_hash')
        .execute();
      await db.schema.createIndex('transactions_state_expiry').on('transactions').columns(['state', 'expires_at']).execute();
      await db.schema.createIndex('transactions_client').on('transactions').columns(['client_id', 'created_at']).execute();

      await db.schema
        .createTable('client_codes')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('flow_id', 'text', (c) => c.notNull())
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('code_challenge', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('redeemed_at', 'bigint')
        .execute();
      await db.schema.createIndex('client_codes_flow').on('client_codes').column('flow_id').execute();

      await db.schema
        .createTable('upstream_token_sets')
        .addColumn('grant_id', 'text', (c) => c.primaryKey())
        .addColumn('flow_id', 'text', (c) => c.notNull())
        .addColumn('token_set_sealed', 'text', (c) => c.notNull())
        .addColumn('upstream_expires_at', 'bigint')
        .addColumn('refreshable', 'integer', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('grants')
        .addColumn('grant_id', 'text', (c) => c.primaryKey())
        .addColumn('flow_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('subject_ref', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('revoked_reason', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('absolute_expires_at', 'bigint', (c) => c.notNull())
        .addColumn('idle_ttl_ms', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('grants_subject').on('grants').column('subject_ref').execute();
      await db.schema.createIndex('grants_client').on('grants').column('client_id').execute();
      await db.schema.createIndex('grants_status').on('grants').columns(['status', 'absolute_expires_at']).execute();

      await db.schema
        .createTable('jti_mappings')
        .addColumn('jti', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('jti_mappings_grant').on('jti_mappings').column('grant_id').execute();

      await db.schema
        .createTable('refresh_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addColumn('rotated_at', 'bigint')
        .addColumn('successor_hash', 'text')
        .execute();
      await db.schema.createIndex('refresh_tokens_grant').on('refresh_tokens').column('grant_id').execute();
    },
  };
}

/**
 * `refresh_tokens`: fastmcp's RefreshTokenMetadata, keyed by the SHA-256 of the token
 * (never the token): the family it belongs to, its scopes and whether it is active,
 * rotated (with its successor) or revoked.
 *
 * @module
 */
import type { Kysely } from 'kysely';
import type { GrantCreated, RefreshTokenRotated } from '../../machines/token-grant.js';
import type { Projection, ProjectionTransaction } from '../store/types.js';
import { insertRow, updateRows } from './statements.js';
import { listColumn, parseList, payload, streamEntityId } from './support.js';

/** A refresh token's metadata. */
export interface RefreshTokenRecord {
  readonly tokenHash: string;
  readonly grantId: string;
  readonly scopes: readonly string[];
  readonly status: 'active' | 'rotated' | 'revoked';
  readonly issuedAt: number;
  readonly rotatedAt: number | null;
  readonly successorHash: string | null;
}

/** A new live refresh token of `grantId`, keyed by its hash. */
function insertActive(trx: ProjectionTransaction, tokenHash: string, grantId: string, scopes: readonly string[], at: number) {
  return insertRow(trx, 'refresh_tokens', {
    token_hash: tokenHash,
    grant_id: grantId,
    scopes: listColumn(scopes),
    status: 'active',
    issued_at: at,
    rotated_at: null,
    successor_hash: null,
  });
}

/** The `refresh_tokens` projection. */
export const refreshTokensProjection: Projection = {
  name: 'refresh_tokens',
  handles: ['grant.created', 'refresh_token.rotated', 'grant.revoked', 'grant.expired'],
  tables: ['refresh_tokens'],
  async apply(trx, event) {
    const grantId = streamEntityId(event);
    switch (event.type) {
      case 'grant.created': {
        const e = payload<GrantCreated>(event);
        if (!e.refreshTokenHash) return;
        await insertActive(trx, e.refreshTokenHash, grantId, e.scopes, event.occurredAt);
        return;
      }
      case 'refresh_token.rotated': {
        const e = payload<RefreshTokenRotated>(event);
        await updateRows(
          trx,
          'refresh_tokens',
          { status: 'rotated', rotated_at: event.occurredAt, successor_hash: e.newHash },
          { token_hash: e.presentedHash, status: 'active' },
        );
        await insertActive(trx, e.newHash, grantId, e.scopes, event.occurredAt);
        return;
      }
      case 'grant.revoked':
      case 'grant.expired':
        await updateRows(trx, 'refresh_tokens', { status: 'revoked' }, { grant_id: grantId });
        return;
    }
  },
};

/** The refresh token whose SHA-256 is `tokenHash`, or undefined. */
export async function findRefreshToken(db: Kysely<any>, tokenHash: string): Promise<RefreshTokenRecord | undefined> {
  const row = await db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  if (!row) return undefined;
  return {
    tokenHash: row.token_hash,
    grantId: row.grant_id,
    scopes: parseList(row.scopes),
    status: row.status,
    issuedAt: Number(row.issued_at),
    rotatedAt: row.rotated_at === null ? null : Number(row.rotated_at),
    successorHash: row.successor_hash,
  };
}

/**
 * `jti_mappings`: fastmcp's JTIMapping — every access token's `jti`, mapped to its grant,
 * with its own revocation state. The resource side checks it on every request, so a
 * revocation takes effect at once.
 *
 * @module
 */
import type { Kysely } from 'kysely';
import type { AccessTokenIssued, AccessTokenRevoked } from '../../machines/token-grant.js';
import type { Projection } from '../store/types.js';
import { insertRow, updateRows } from './statements.js';
import { listColumn, parseList, payload, streamEntityId } from './support.js';

/** An access token's mapping. */
export interface JtiMappingRecord {
  readonly jti: string;
  readonly grantId: string;
  readonly scopes: readonly string[];
  readonly status: 'active' | 'revoked';
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** The `jti_mappings` projection. */
export const jtiMappingsProjection: Projection = {
  name: 'jti_mappings',
  handles: ['access_token.issued', 'access_token.revoked', 'grant.revoked', 'grant.expired'],
  tables: ['jti_mappings'],
  async apply(trx, event) {
    const grantId = streamEntityId(event);
    switch (event.type) {
      case 'access_token.issued': {
        const e = payload<AccessTokenIssued>(event);
        await insertRow(trx, 'jti_mappings', {
          jti: e.jti,
          grant_id: grantId,
          scopes: listColumn(e.scopes),
          status: 'active',
          issued_at: event.occurredAt,
          expires_at: e.expiresAt,
        });
        return;
      }
      case 'access_token.revoked':
        await updateRows(
          trx,
          'jti_mappings',
          { status: 'revoked' },
          { jti: payload<AccessTokenRevoked>(event).jti, grant_id: grantId },
        );
        return;
      case 'grant.revoked':
      case 'grant.expired':
        await updateRows(trx, 'jti_mappings', { status: 'revoked' }, { grant_id: grantId });
        return;
    }
  },
};

/** The mapping of `jti`, or undefined. */
export async function findJti(db: Kysely<any>, jti: string): Promise<JtiMappingRecord | undefined> {
  const row = await db.selectFrom('jti_mappings').selectAll().where('jti', '=', jti).executeTakeFirst();
  if (!row) return undefined;
  return {
    jti: row.jti,
    grantId: row.grant_id,
    scopes: parseList(row.scopes),
    status: row.status,
    issuedAt: Number(row.issued_at),
    expiresAt: Number(row.expires_at),
  };
}

/**
 * `upstream_token_sets`: fastmcp's UpstreamTokenSet, one per grant — the upstream tokens as
 * ciphertext only (sealed with the grant's data key), their expiry and whether they can be
 * refreshed.
 *
 * @module
 */
import type { Kysely } from 'kysely';
import type { UpstreamTokensReceived } from '../../machines/authorization-flow.js';
import type { UpstreamRefreshed } from '../../machines/token-grant.js';
import type { Projection } from '../store/types.js';
import { insertRow, updateRows } from './statements.js';
import { listColumn, parseList, payload, streamEntityId } from './support.js';

/** A grant's sealed upstream token set. */
export interface UpstreamTokenSetRecord {
  readonly grantId: string;
  readonly flowId: string;
  readonly tokenSetSealed: string;
  readonly upstreamExpiresAt: number | null;
  readonly refreshable: boolean;
  readonly scopes: readonly string[];
  readonly updatedAt: number;
}

/** The `upstream_token_sets` projection. */
export const upstreamTokenSetsProjection: Projection = {
  name: 'upstream_token_sets',
  handles: ['upstream.tokens_received', 'upstream.refreshed'],
  tables: ['upstream_token_sets'],
  async apply(trx, event) {
    if (event.type === 'upstream.tokens_received') {
      const e = payload<UpstreamTokensReceived>(event);
      await insertRow(trx, 'upstream_token_sets', {
        grant_id: e.grantId,
        flow_id: streamEntityId(event),
        token_set_sealed: e.tokenSetSealed,
        upstream_expires_at: e.upstreamExpiresAt,
        refreshable: e.upstreamRefreshable ? 1 : 0,
        scopes: listColumn(e.grantedScopes),
        updated_at: event.occurredAt,
      });
      return;
    }
    const e = payload<UpstreamRefreshed>(event);
    await updateRows(
      trx,
      'upstream_token_sets',
      {
        token_set_sealed: e.tokenSetSealed,
        upstream_expires_at: e.upstreamExpiresAt,
        refreshable: e.upstreamRefreshable ? 1 : 0,
        updated_at: event.occurredAt,
      },
      { grant_id: streamEntityId(event) },
    );
  },
};

/** The sealed upstream tokens of `grantId`, or undefined. */
export async function findUpstreamTokenSet(
  db: Kysely<any>,
  grantId: string,
): Promise<UpstreamTokenSetRecord | undefined> {
  const row = await db.selectFrom('upstream_token_sets').selectAll().where('grant_id', '=', grantId).executeTakeFirst();
  if (!row) return undefined;
  return {
    grantId: row.grant_id,
    flowId: row.flow_id,
    tokenSetSealed: row.token_set_sealed,
    upstreamExpiresAt: row.upstream_expires_at === null ? null : Number(row.upstream_expires_at),
    refreshable: Number(row.refreshable) === 1,
    scopes: parseList(row.scopes),
    updatedAt: Number(row.updated_at),
  };
}

/**
 * `grants`: one row per token family — its client, the pseudonymous subject reference,
 * scopes, resource, deadlines and whether it is still active. Operators list and revoke
 * grants through it; the resource side checks it through `jti_mappings`.
 *
 * @module
 */
import type { Kysely } from 'kysely';
import type { GrantCreated, GrantExpired, GrantRevoked } from '../../machines/token-grant.js';
import type { Projection } from '../store/types.js';
import { insertRow, updateRows } from './statements.js';
import { listColumn, parseList, payload, streamEntityId } from './support.js';

/** A grant as the read view holds it. */
export interface GrantRecord {
  readonly grantId: string;
  readonly flowId: string;
  readonly clientId: string;
  readonly subjectRef: string;
  readonly scopes: readonly string[];
  readonly resource: string;
  readonly status: 'active' | 'revoked' | 'expired';
  readonly revokedReason: string | null;
  readonly createdAt: number;
  readonly absoluteExpiresAt: number;
  readonly idleTtlMs: number;
  readonly lastUsedAt: number;
}

/** The `grants` projection. */
export const grantsProjection: Projection = {
  name: 'grants',
  handles: ['grant.created', 'refresh_token.rotated', 'grant.revoked', 'grant.expired'],
  tables: ['grants'],
  async apply(trx, event) {
    const grantId = streamEntityId(event);
    switch (event.type) {
      case 'grant.created': {
        const e = payload<GrantCreated>(event);
        await insertRow(trx, 'grants', {
          grant_id: grantId,
          flow_id: e.flowId,
          client_id: e.clientId,
          subject_ref: e.subjectRef,
          scopes: listColumn(e.scopes),
          resource: e.resource,
          status: 'active',
          revoked_reason: null,
          created_at: event.occurredAt,
          absolute_expires_at: e.absoluteExpiresAt,
          idle_ttl_ms: e.idleTtlMs,
          last_used_at: event.occurredAt,
        });
        return;
      }
      case 'refresh_token.rotated':
        await updateRows(trx, 'grants', { last_used_at: event.occurredAt }, { grant_id: grantId });
        return;
      case 'grant.revoked':
        await updateRows(trx, 'grants', { status: 'revoked', revoked_reason: payload<GrantRevoked>(event).reason }, { grant_id: grantId });
        return;
      case 'grant.expired':
        await updateRows(
          trx,
          'grants',
          { status: 'expired', revoked_reason: `expired_${payload<GrantExpired>(event).reason}` },
          { grant_id: grantId },
        );
        return;
    }
  },
};

function toRecord(row: Record<string, any>): GrantRecord {
  return {
    grantId: row.grant_id,
    flowId: row.flow_id,
    clientId: row.client_id,
    subjectRef: row.subject_ref,
    scopes: parseList(row.scopes),
    resource: row.resource,
    status: row.status,
    revokedReason: row.revoked_reason,
    createdAt: Number(row.created_at),
    absoluteExpiresAt: Number(row.absolute_expires_at),
    idleTtlMs: Number(row.idle_ttl_ms),
    lastUsedAt: Number(row.last_used_at),
  };
}

/** The grant `grantId`, or undefined. */
export async function findGrant(db: Kysely<any>, grantId: string): Promise<GrantRecord | undefined> {
  const row = await db.selectFrom('grants').selectAll().where('grant_id', '=', grantId).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/** Grants of a client or a subject reference, newest first. */
export async function listGrants(
  db: Kysely<any>,
  filter: { clientId?: string; subjectRef?: string; status?: GrantRecord['status']; limit?: number },
): Promise<GrantRecord[]> {
  let query = db.selectFrom('grants').selectAll().orderBy('created_at', 'desc').limit(filter.limit ?? 1000);
  if (filter.clientId) query = query.where('client_id', '=', filter.clientId);
  if (filter.subjectRef) query = query.where('subject_ref', '=', filter.subjectRef);
  if (filter.status) query = query.where('status', '=', filter.status);
  return (await query.execute()).map(toRecord);
}

/** Active grants past their absolute or idle deadline at `now`. */
export async function findOverdueGrants(
  db: Kysely<any>,
  now: number,
  limit: number,
): Promise<Array<{ grantId: string; reason: 'absolute' | 'idle' }>> {
  const rows = await db
    .selectFrom('grants')
    .select(['grant_id', 'absolute_expires_at', 'last_used_at', 'idle_ttl_ms'])
    .where('status', '=', 'active')
    .where((eb) =>
      eb.or([eb('absolute_expires_at', '<=', now), eb(eb('last_used_at', '+', eb.ref('idle_ttl_ms')), '<=', now)]),
    )
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    grantId: r.grant_id as string,
    reason: Number(r.absolute_expires_at) <= now ? 'absolute' : 'idle',
  }));
}

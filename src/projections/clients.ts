/**
 * `clients`: fastmcp's ProxyDCRClient — every registered client, its metadata, the hash
 * of its secret (never the secret) and its status.
 *
 * @module
 */
import type { Kysely } from 'kysely';
import type {
  ClientKind,
  ClientMetadata,
  ClientMetadataRefreshed,
  ClientRegistered,
} from '../../machines/client-registration.js';
import type { Projection } from '../store/types.js';
import { insertRow, updateRows } from './statements.js';
import { listColumn, payload, streamEntityId } from './support.js';

/** A client as flowgate knows it. */
export interface ClientRecord {
  readonly clientId: string;
  readonly kind: ClientKind;
  readonly metadata: ClientMetadata;
  readonly secretHash: string | null;
  readonly allowedPatterns: readonly string[];
  readonly status: 'active' | 'expired' | 'deleted';
  readonly registeredAt: number;
  readonly lastUsedAt: number;
  readonly unusedTtlMs: number | null;
}

/** The `clients` projection. */
export const clientsProjection: Projection = {
  name: 'clients',
  handles: ['client.registered', 'client.metadata_refreshed', 'client.used', 'client.expired', 'client.deleted'],
  tables: ['clients'],
  async apply(trx, event) {
    const clientId = streamEntityId(event);
    switch (event.type) {
      case 'client.registered': {
        const e = payload<ClientRegistered>(event);
        await insertRow(trx, 'clients', {
          client_id: clientId,
          kind: e.kind,
          metadata: JSON.stringify(e.metadata),
          secret_hash: e.secretHash,
          allowed_patterns: listColumn(e.allowedPatterns),
          status: 'active',
          registered_at: event.occurredAt,
          last_used_at: event.occurredAt,
          unused_ttl_ms: e.unusedTtlMs,
        });
        return;
      }
      case 'client.metadata_refreshed': {
        const e = payload<ClientMetadataRefreshed>(event);
        await updateRows(
          trx,
          'clients',
          { metadata: JSON.stringify(e.metadata), secret_hash: e.secretHash, last_used_at: event.occurredAt },
          { client_id: clientId },
        );
        return;
      }
      case 'client.used':
        await updateRows(trx, 'clients', { last_used_at: event.occurredAt }, { client_id: clientId });
        return;
      case 'client.expired':
        await updateRows(trx, 'clients', { status: 'expired' }, { client_id: clientId });
        return;
      case 'client.deleted':
        await updateRows(trx, 'clients', { status: 'deleted' }, { client_id: clientId });
        return;
    }
  },
};

function toRecord(row: Record<string, any>): ClientRecord {
  return {
    clientId: row.client_id,
    kind: row.kind,
    metadata: JSON.parse(row.metadata),
    secretHash: row.secret_hash,
    allowedPatterns: JSON.parse(row.allowed_patterns),
    status: row.status,
    registeredAt: Number(row.registered_at),
    lastUsedAt: Number(row.last_used_at),
    unusedTtlMs: row.unused_ttl_ms === null ? null : Number(row.unused_ttl_ms),
  };
}

/** The client `clientId`, whatever its status, or undefined. */
export async function findClient(db: Kysely<any>, clientId: string): Promise<ClientRecord | undefined> {
  const row = await db.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/** Clients, newest first. */
export async function listClients(
  db: Kysely<any>,
  options: { status?: ClientRecord['status']; limit?: number } = {},
): Promise<ClientRecord[]> {
  let query = db.selectFrom('clients').selectAll().orderBy('registered_at', 'desc').limit(options.limit ?? 1000);
  if (options.status) query = query.where('status', '=', options.status);
  return (await query.execute()).map(toRecord);
}

/** Active clients whose unused period ran out at `now`. */
export async function findUnusedClients(db: Kysely<any>, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('clients')
    .select('client_id')
    .where('status', '=', 'active')
    .where('unused_ttl_ms', 'is not', null)
    .where((eb) => eb(eb('last_used_at', '+', eb.ref('unused_ttl_ms')), '<=', now))
    .limit(limit)
    .execute();
  return rows.map((r) => r.client_id as string);
}

/**
 * What the read views hold for a pruned stream, and its removal (docs/privacy.md,
 * "Retention"). Every projection table is listed here with the stream category its rows
 * belong to and the column naming the stream's entity, or as kept on purpose; a test
 * (test/retention/projection-coverage.unit.test.ts) fails when a projection's table is in
 * neither list, so a new read view cannot keep rows of pruned streams unnoticed.
 *
 * @module
 */
import type { Transaction } from 'kysely';
import { grantKeyId } from '../../crypto/vault.js';
import type { StoredEvent } from '../../store/types.js';

/** Projection tables whose rows belong to pruned flows or grants: table → category → key column. */
export const PRUNED_ROWS: Readonly<Record<string, Readonly<Partial<Record<'flow' | 'grant', string>>>>> = {
  transactions: { flow: 'flow_id' },
  client_codes: { flow: 'flow_id' },
  upstream_token_sets: { flow: 'flow_id', grant: 'grant_id' },
  grants: { grant: 'grant_id' },
  jti_mappings: { grant: 'grant_id' },
  refresh_tokens: { grant: 'grant_id' },
};

/** Projection tables retention leaves alone, and why. */
export const KEPT_TABLES: Readonly<Record<string, string>> = {
  clients: 'client streams are never pruned (flows and grants refer to them)',
};

const entityId = (streamId: string) => streamId.slice(streamId.indexOf(':') + 1);

/**
 * Deletes the projection rows of the removed streams and destroys the data keys of their
 * grants (`grant:<id>`: the sealed client state, proxy verifier and upstream tokens in the
 * archive then stay sealed for good). Subject keys are left alone: a subject may have other
 * flows; `flowgate forget` destroys them.
 */
export async function removeProjectedRows(
  trx: Transaction<any>,
  removed: ReadonlyMap<string, readonly StoredEvent[]>,
  now: number,
): Promise<void> {
  const ids: Record<'flow' | 'grant', string[]> = { flow: [], grant: [] };
  const grantKeys = new Set<string>();
  for (const [streamId, events] of removed) {
    const category = streamId.slice(0, streamId.indexOf(':'));
    if (category !== 'flow' && category !== 'grant') continue;
    ids[category].push(entityId(streamId));
    const first = events[0]?.data as { grantId?: unknown } | undefined;
    if (category === 'flow' && typeof first?.grantId === 'string') grantKeys.add(grantKeyId(first.grantId));
    if (category === 'grant') grantKeys.add(grantKeyId(entityId(streamId)));
  }
  for (const [table, columns] of Object.entries(PRUNED_ROWS)) {
    for (const category of ['flow', 'grant'] as const) {
      const column = columns[category];
      if (column && ids[category].length > 0) await trx.deleteFrom(table).where(column, 'in', ids[category]).execute();
    }
  }
  if (grantKeys.size > 0) {
    await trx
      .updateTable('data_keys')
      .set({ wrapped_key: null, destroyed_at: now })
      .where('key_id', 'in', [...grantKeys])
      .where('destroyed_at', 'is', null)
      .execute();
  }
}

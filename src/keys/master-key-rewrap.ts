/**
 * Master-key rotation (`flowgate keys rewrap`, docs/operations.md "Rotating the master
 * key"): every live data key (`data_keys`) is re-wrapped and every signing key's private
 * part (`signing_keys`) re-sealed with a new master key, in one transaction.
 *
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { PostgresAdapter, sql, type Kysely, type Transaction } from 'kysely';
import { dataKeyWrapPurpose, Vault } from '../crypto/vault.js';
import { FlowgateError } from '../errors/flowgate-error.js';
import { KEYRING_SEAL_PURPOSE, openPrivateJwk } from './key-material.js';
import { keyInfoOf, type SigningKeysTable } from './types.js';

/** What happened to the rows of one table. */
export interface RewrapCounts {
  /** Rows now wrapped (sealed) with the new master key that were under the current one. */
  readonly rewrapped: number;
  /** Rows that were already under the new master key (an earlier, interrupted rotation, or an instance that had the new key), left as they were. */
  readonly alreadyNew: number;
  /** Destroyed data keys and removed signing keys: nothing to wrap, left as they are. */
  readonly skipped: number;
}

/** What {@link rewrapMasterKey} did, per table. */
export interface RewrapResult {
  readonly dataKeys: RewrapCounts;
  readonly signingKeys: RewrapCounts;
}

/** The rotation was refused or failed; nothing was changed. */
export class MasterKeyRewrapError extends FlowgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MASTER_KEY_REWRAP', message, options);
  }
}

interface Pending {
  readonly table: 'data_keys' | 'signing_keys';
  readonly id: string;
  /** What the row must open to with the new key. */
  readonly plaintext: string;
}

async function tryOpen(vault: Vault, purpose: string, sealed: string): Promise<string | undefined> {
  try {
    return await vault.openWithMaster(purpose, sealed);
  } catch {
    return undefined;
  }
}

/**
 * Re-wraps every live data key and re-seals every signing key's private part from master
 * key `oldKey` to `newKey`, all or nothing:
 *
 * - one transaction; on PostgreSQL both tables are locked against writers for its length
 *   (readers go on), on SQLite the transaction holds the database's single write lock;
 * - a row already under `newKey` is left alone (so an interrupted or repeated rotation can
 *   be run again); a row that opens with neither key refuses the whole rotation, naming it;
 *   a signing key must also be bound to its row (kid, purpose, algorithm, public key), so a
 *   row the old master key never vouched for is not laundered into one the new key vouches for;
 * - destroyed data keys and removed signing keys stay as they are (nothing to wrap);
 * - before commit every row is read back and must open with `newKey` to exactly what it
 *   held before, or everything is rolled back.
 *
 * Refuses `newKey` equal to `oldKey`. Throws {@link MasterKeyRewrapError}; on any error the
 * tables are unchanged. Running instances still holding `oldKey` cannot open the re-wrapped
 * keys (after their caches expire) and seal new keys with `oldKey`: stop them first, or run
 * the rotation again afterwards to pick up what they wrote.
 */
export async function rewrapMasterKey(
  db: Kysely<any>,
  oldKey: Uint8Array,
  newKey: Uint8Array,
): Promise<RewrapResult> {
  if (oldKey.length === newKey.length && timingSafeEqual(oldKey, newKey)) {
    throw new MasterKeyRewrapError('the new master key is the current one; generate another with `flowgate keys generate-master`');
  }
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return db.transaction().execute(async (trx) => {
    // EXCLUSIVE: no other transaction writes either table until commit; plain reads go on.
    if (postgres) await sql`LOCK TABLE data_keys, signing_keys IN EXCLUSIVE MODE`.execute(trx);
    const before = new Vault(trx, oldKey);
    const after = new Vault(trx, newKey);
    const pending: Pending[] = [];

    const data = { rewrapped: 0, alreadyNew: 0, skipped: 0 };
    const dataRows = await trx.selectFrom('data_keys').select(['key_id', 'wrapped_key', 'destroyed_at']).orderBy('key_id').execute();
    for (const row of dataRows) {
      const id = row.key_id as string;
      const wrapped = row.wrapped_key as string | null;
      if (row.destroyed_at !== null || wrapped === null) {
        data.skipped += 1;
        continue;
      }
      const purpose = dataKeyWrapPurpose(id);
      const plaintext = await tryOpen(before, purpose, wrapped);
      if (plaintext === undefined) {
        if ((await tryOpen(after, purpose, wrapped)) === undefined) {
          throw new MasterKeyRewrapError(`data key ${id} does not open with the current master key (nor with the new one); nothing was changed`);
        }
        data.alreadyNew += 1;
        continue;
      }
      await updateOne(trx, 'data_keys', 'key_id', 'wrapped_key', id, wrapped, await after.sealWithMaster(purpose, plaintext));
      pending.push({ table: 'data_keys', id, plaintext });
      data.rewrapped += 1;
    }

    const signing = { rewrapped: 0, alreadyNew: 0, skipped: 0 };
    const keyRows = (await trx.selectFrom('signing_keys').selectAll().orderBy('kid').execute()) as SigningKeysTable[];
    for (const row of keyRows) {
      const sealed = row.private_sealed;
      if (sealed === null) {
        signing.skipped += 1;
        continue;
      }
      const plaintext = await tryOpen(before, KEYRING_SEAL_PURPOSE, sealed);
      const vault = plaintext === undefined ? after : before;
      try {
        await openPrivateJwk(vault, keyInfoOf(row), sealed);
      } catch (error) {
        throw new MasterKeyRewrapError(
          `the private key of signing key ${row.kid} does not open with the current master key (nor with the new one), or is not bound to its row; nothing was changed`,
          { cause: error },
        );
      }
      if (plaintext === undefined) {
        signing.alreadyNew += 1;
        continue;
      }
      await updateOne(trx, 'signing_keys', 'kid', 'private_sealed', row.kid, sealed, await after.sealWithMaster(KEYRING_SEAL_PURPOSE, plaintext));
      pending.push({ table: 'signing_keys', id: row.kid, plaintext });
      signing.rewrapped += 1;
    }

    await verify(trx, after, pending);
    return { dataKeys: data, signingKeys: signing };
  });
}

/** Replaces `column` of one row, if it still holds `from`; anything else is a concurrent change. */
async function updateOne(
  trx: Transaction<any>,
  table: 'data_keys' | 'signing_keys',
  idColumn: string,
  column: string,
  id: string,
  from: string,
  to: string,
): Promise<void> {
  const result = await trx.updateTable(table).set({ [column]: to }).where(idColumn, '=', id).where(column, '=', from).executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) {
    throw new MasterKeyRewrapError(`${table} row ${id} changed during the rotation; nothing was changed, run it again`);
  }
}

/** Reads every written row back and checks it opens with the new key to what it held. */
async function verify(trx: Transaction<any>, after: Vault, pending: readonly Pending[]): Promise<void> {
  const stored = new Map<string, string | null>();
  for (const row of await trx.selectFrom('data_keys').select(['key_id', 'wrapped_key']).execute()) {
    stored.set(`data_keys/${String(row.key_id)}`, row.wrapped_key as string | null);
  }
  const signingRows = (await trx.selectFrom('signing_keys').selectAll().execute()) as SigningKeysTable[];
  for (const row of signingRows) stored.set(`signing_keys/${row.kid}`, row.private_sealed);
  for (const item of pending) {
    const sealed = stored.get(`${item.table}/${item.id}`);
    const purpose = item.table === 'data_keys' ? dataKeyWrapPurpose(item.id) : KEYRING_SEAL_PURPOSE;
    const opened = sealed ? await tryOpen(after, purpose, sealed) : undefined;
    if (opened !== item.plaintext) {
      throw new MasterKeyRewrapError(`${item.table} row ${item.id} does not open with the new master key after re-wrapping; nothing was changed`);
    }
  }
  for (const row of signingRows) {
    if (row.private_sealed === null || !pending.some((p) => p.table === 'signing_keys' && p.id === row.kid)) continue;
    await openPrivateJwk(after, keyInfoOf(row), row.private_sealed).catch((error: unknown) => {
      throw new MasterKeyRewrapError(`signing key ${row.kid} does not open with the new master key after re-sealing; nothing was changed`, { cause: error });
    });
  }
}

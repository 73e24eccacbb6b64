/**
 * The `signing_keys` queries. Every state change is a conditional update (`WHERE kid = ?
 * AND state = ?`) whose row count the caller checks, and every insert relies on the
 * table's partial unique indexes (one `active` and one `next` key per purpose): the database
 * decides races between instances, never process memory.
 *
 * @module
 */
import type { Kysely, Transaction } from 'kysely';
import type { NewKeyMaterial } from './key-material.js';
import { KEY_PURPOSES, keyInfoOf, type KeyInfo, type KeyPurpose, type KeyState, type SigningKeysTable } from './types.js';

/** A database handle or an open transaction. */
export type Executor = Kysely<any> | Transaction<any>;

const TABLE = 'signing_keys';

/** Every key, oldest first (keys made together: access token, cookie, anchor). */
export async function selectAllKeys(db: Executor): Promise<KeyInfo[]> {
  const rows = (await db.selectFrom(TABLE).selectAll().execute()) as SigningKeysTable[];
  return rows
    .map(keyInfoOf)
    .sort(
      (a, b) =>
        a.createdAt - b.createdAt ||
        KEY_PURPOSES.indexOf(a.purpose) - KEY_PURPOSES.indexOf(b.purpose) ||
        a.kid.localeCompare(b.kid),
    );
}

/** One key, or undefined. */
export async function selectKey(db: Executor, kid: string): Promise<KeyInfo | undefined> {
  const row = (await db.selectFrom(TABLE).selectAll().where('kid', '=', kid).executeTakeFirst()) as SigningKeysTable | undefined;
  return row ? keyInfoOf(row) : undefined;
}

/** The key of `purpose` in `state` (`active` or `next`, of which there is at most one). */
export async function selectKeyInState(db: Executor, purpose: KeyPurpose, state: 'active' | 'next'): Promise<KeyInfo | undefined> {
  const row = (await db
    .selectFrom(TABLE)
    .selectAll()
    .where('purpose', '=', purpose)
    .where('state', '=', state)
    .executeTakeFirst()) as SigningKeysTable | undefined;
  return row ? keyInfoOf(row) : undefined;
}

/**
 * Inserts a key in `state` (`active` or `next`). Returns false when the purpose already has
 * a key in that state (a concurrent instance won): the unique index refuses the row and
 * `ON CONFLICT DO NOTHING` turns that into "not inserted".
 */
export async function insertKey(db: Executor, key: NewKeyMaterial, state: 'active' | 'next', now: number): Promise<boolean> {
  const inserted = await db
    .insertInto(TABLE)
    .values({
      kid: key.kid,
      purpose: key.purpose,
      alg: key.alg,
      state,
      public_jwk: key.publicJwk,
      private_sealed: key.privateSealed,
      created_at: now,
      activated_at: state === 'active' ? now : null,
      retired_at: null,
      not_after: null,
      removed_at: null,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('kid')
    .execute();
  return inserted.length === 1;
}

/** `next` → `active`, if `kid` is still `next`. */
export async function activateKey(db: Executor, kid: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable(TABLE)
    .set({ state: 'active', activated_at: now })
    .where('kid', '=', kid)
    .where('state', '=', 'next')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** `from` → `retired` with the given `not_after`, if `kid` is still in state `from`. */
export async function retireKey(db: Executor, kid: string, from: KeyState, now: number, notAfter: number): Promise<boolean> {
  const result = await db
    .updateTable(TABLE)
    .set({ state: 'retired', retired_at: now, not_after: notAfter })
    .where('kid', '=', kid)
    .where('state', '=', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Brings a retired key's `not_after` forward to `notAfter` (never later than it was). */
export async function shortenNotAfter(db: Executor, kid: string, notAfter: number): Promise<boolean> {
  const result = await db
    .updateTable(TABLE)
    .set({ not_after: notAfter })
    .where('kid', '=', kid)
    .where('state', '=', 'retired')
    .where('not_after', '>', notAfter)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Erases the private part of every retired access-token and cookie key whose `not_after`
 * is at or before `now`; returns their kids. Anchor keys are never touched (and the table's
 * triggers would refuse it).
 */
export async function erasePrivateParts(db: Executor, now: number): Promise<string[]> {
  const rows = await db
    .updateTable(TABLE)
    .set({ private_sealed: null, removed_at: now })
    .where('state', '=', 'retired')
    .where('purpose', 'in', ['access_token', 'cookie'])
    .where('not_after', '<=', now)
    .where('removed_at', 'is', null)
    .returning('kid')
    .execute();
  return rows.map((r) => r.kid as string).sort();
}

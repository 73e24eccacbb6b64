/**
 * Changes to the keyring: the first keys, rotation, retirement and pruning. Each change is
 * one transaction of conditional updates and inserts whose outcome the database decides, so
 * any number of instances can race and the keyring still ends with exactly one active key
 * per purpose (and at most one `next`). A racer that loses gets {@link KeyringConflictError}
 * and changed nothing. Keys are generated before the transaction opens, so a transaction
 * never waits on cryptography.
 *
 * @module
 */
import type { Kysely } from 'kysely';
import type { Vault } from '../crypto/vault.js';
import { KeyringConflictError, KeyringRefusedError, UnknownKeyError } from './errors.js';
import { generateKeyMaterial, type NewKeyMaterial } from './key-material.js';
import {
  activateKey,
  erasePrivateParts,
  insertKey,
  retireKey,
  selectKey,
  selectKeyInState,
  shortenNotAfter,
  type Executor,
} from './key-table.js';
import { KEY_PURPOSES, type KeyInfo, type KeyPurpose, type SignatureAlg } from './types.js';

/** What the keyring's changes need. */
export interface RotationContext {
  readonly db: Kysely<any>;
  readonly vault: Vault;
  readonly now: () => number;
  readonly accessTokenAlg: SignatureAlg;
  readonly anchorAlg: SignatureAlg;
  /** How long after its retirement a key of `purpose` must still verify what it signed. */
  retiredLifetimeMs(purpose: KeyPurpose): number;
}

/** What {@link rotate} did: staged a `next` key, or promoted it. */
export type RotationResult =
  | { readonly action: 'staged'; readonly purpose: KeyPurpose; readonly next: KeyInfo }
  | {
      readonly action: 'promoted';
      readonly purpose: KeyPurpose;
      readonly active: KeyInfo;
      /** The key that was active before, now retired; null if there was none. */
      readonly retired: KeyInfo | null;
    };

/** What {@link retire} did. */
export interface RetireResult {
  /** The key after the call. */
  readonly key: KeyInfo;
  /** False when the key was already retired (and, with `immediate`, already untrusted). */
  readonly changed: boolean;
  /** The key that became active because the retired one was active; null otherwise. */
  readonly replacement: KeyInfo | null;
}

function newKey(ctx: RotationContext, purpose: KeyPurpose): Promise<NewKeyMaterial> {
  return generateKeyMaterial(ctx.vault, purpose, purpose === 'anchor' ? ctx.anchorAlg : ctx.accessTokenAlg);
}

async function reread(db: Executor, kid: string): Promise<KeyInfo> {
  const key = await selectKey(db, kid);
  if (!key) throw new UnknownKeyError(kid);
  return key;
}

/**
 * Creates an active key for every purpose that has none (the first open of a store).
 * Concurrent creators agree: the unique index keeps the first committed key per purpose
 * and the others' inserts do nothing. Returns the keys this call created.
 */
export async function ensureInitialKeys(ctx: RotationContext): Promise<KeyInfo[]> {
  const present = await ctx.db.selectFrom('signing_keys').select('purpose').where('state', '=', 'active').execute();
  const have = new Set(present.map((r) => r.purpose as KeyPurpose));
  const missing = KEY_PURPOSES.filter((p) => !have.has(p));
  if (missing.length === 0) return [];
  const materials = await Promise.all(missing.map((purpose) => newKey(ctx, purpose)));
  const now = ctx.now();
  return ctx.db.transaction().execute(async (trx) => {
    const created: KeyInfo[] = [];
    for (const material of materials) {
      if (await insertKey(trx, material, 'active', now)) created.push(await reread(trx, material.kid));
    }
    return created;
  });
}

function refuseAnchor(what: string): never {
  throw new KeyringRefusedError(
    `anchor keys are never ${what}: they sign the audit anchors, and every anchor ever signed must stay verifiable`,
  );
}

/**
 * One step of staged rotation for `purpose` (RFC 7517 key sets let verifiers learn a key
 * before it signs):
 *
 * - no `next` key: creates one; it is published (JWKS) and trusted, but does not sign yet;
 * - a `next` key: promotes it to `active`, and retires the old active key with
 *   `not_after` = now + the purpose's lifetime, after which nothing it signed is still valid.
 *
 * Anchor keys never rotate ({@link KeyringRefusedError}).
 */
export async function rotate(ctx: RotationContext, purpose: KeyPurpose): Promise<RotationResult> {
  if (purpose === 'anchor') refuseAnchor('rotated');
  const [next, active] = await Promise.all([
    selectKeyInState(ctx.db, purpose, 'next'),
    selectKeyInState(ctx.db, purpose, 'active'),
  ]);
  if (!next) {
    const material = await newKey(ctx, purpose);
    const now = ctx.now();
    return ctx.db.transaction().execute(async (trx) => {
      if (!(await insertKey(trx, material, 'next', now))) throw new KeyringConflictError(purpose);
      return { action: 'staged', purpose, next: await reread(trx, material.kid) } as const;
    });
  }
  const now = ctx.now();
  return ctx.db.transaction().execute(async (trx) => {
    // Retire first: the unique index allows one active key per purpose at every statement.
    if (active && !(await retireKey(trx, active.kid, 'active', now, now + ctx.retiredLifetimeMs(purpose)))) {
      throw new KeyringConflictError(purpose);
    }
    if (!(await activateKey(trx, next.kid, now))) throw new KeyringConflictError(purpose);
    return {
      action: 'promoted',
      purpose,
      active: await reread(trx, next.kid),
      retired: active ? await reread(trx, active.kid) : null,
    } as const;
  });
}

/**
 * Retires key `kid`.
 *
 * - A `next` key never signed: it is retired with `not_after` = now (unpublished at once).
 * - An `active` key is replaced in the same transaction by the `next` key, or by a new key
 *   when there is none, so the purpose always keeps one active key.
 * - `immediate` (a compromised key): `not_after` = now, so every token it signed is refused
 *   from now on (by other instances within their refresh interval); also applies to a key
 *   already retired.
 *
 * Anchor keys are never retired ({@link KeyringRefusedError}); an unknown kid is an
 * {@link UnknownKeyError}.
 */
export async function retire(ctx: RotationContext, kid: string, options: { readonly immediate?: boolean } = {}): Promise<RetireResult> {
  const key = await selectKey(ctx.db, kid);
  if (!key) throw new UnknownKeyError(kid);
  if (key.purpose === 'anchor') refuseAnchor('retired');
  const { purpose } = key;

  if (key.state === 'retired') {
    const changed = options.immediate === true && (await shortenNotAfter(ctx.db, kid, ctx.now()));
    return { key: await reread(ctx.db, kid), changed, replacement: null };
  }

  if (key.state === 'next') {
    const now = ctx.now();
    return ctx.db.transaction().execute(async (trx) => {
      if (!(await retireKey(trx, kid, 'next', now, now))) throw new KeyringConflictError(purpose);
      return { key: await reread(trx, kid), changed: true, replacement: null };
    });
  }

  const next = await selectKeyInState(ctx.db, purpose, 'next');
  const fresh = next ? undefined : await newKey(ctx, purpose);
  const now = ctx.now();
  const notAfter = options.immediate ? now : now + ctx.retiredLifetimeMs(purpose);
  return ctx.db.transaction().execute(async (trx) => {
    if (!(await retireKey(trx, kid, 'active', now, notAfter))) throw new KeyringConflictError(purpose);
    const replaced = next ? await activateKey(trx, next.kid, now) : await insertKey(trx, fresh!, 'active', now);
    if (!replaced) throw new KeyringConflictError(purpose);
    return { key: await reread(trx, kid), changed: true, replacement: await reread(trx, next?.kid ?? fresh!.kid) };
  });
}

/**
 * Removes retired access-token and cookie keys whose `not_after` has passed: their private
 * part is erased (they can never sign again) while the row, with its public JWK and dates,
 * stays as the record of which key signed when. Removed keys are never published and never
 * verify. Anchor keys are never removed. Returns the removed kids.
 */
export async function prune(ctx: RotationContext): Promise<string[]> {
  return erasePrivateParts(ctx.db, ctx.now());
}

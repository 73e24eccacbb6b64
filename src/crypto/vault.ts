/**
 * Envelope encryption (docs/privacy.md): every grant and every subject has its own data
 * key, wrapped by the master key and kept in the `data_keys` table, outside the event log.
 * Values are sealed as compact JWE (`dir`, `A256GCM`; src/crypto/jwe-dir.ts) whose protected header names
 * the key and the purpose, so a ciphertext copied to another grant or field does not open.
 * Destroying a key ("crypto-shredding") erases everything it protected while the log, which
 * hashes the ciphertext, still verifies.
 *
 * Unwrapped keys are cached briefly; a new data key can be written in the same transaction
 * as the events that use it ({@link Vault.prepareKey}).
 *
 * A key id names a key *slot* with generations: generation 1 is the row `keyId` itself,
 * later ones `keyId#2`, `keyId#3` … A destroyed key stays destroyed (its row keeps its
 * `destroyed_at`); when the slot is needed again (a forgotten user signs in anew),
 * {@link Vault.prepareKey} starts the next generation. Values are sealed with the current
 * generation and name it in their header, so they open with exactly the key that sealed
 * them, and read as erased once that generation was destroyed.
 *
 * @module
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { FlowgateError } from '../errors/flowgate-error.js';
import { ConcurrencyError } from '../store/errors.js';
import { decodeJweHeader, decryptCompactDir, encryptCompactDir } from './jwe-dir.js';

/** What a sealed value is for; part of the authenticated header. */
export type SealPurpose =
  | 'client_state'
  | 'proxy_verifier'
  | 'upstream_tokens'
  | 'subject'
  | 'claims'
  | 'keyring';

/** The result of opening a sealed value: its text, or the fact that its key was destroyed. */
export type Opened = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: 'erased' };

/** A sealed value did not open: wrong key, wrong purpose, or tampered. */
export class SealError extends FlowgateError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SEAL', message, options);
  }
}

/** A data key created in memory, to be written in the transaction that first uses it. */
export interface PendingKey {
  readonly keyId: string;
  /** Inserts the wrapped key; a concurrent creator of the same key id makes it a conflict to retry. */
  write(trx: Transaction<any>): Promise<void>;
  /** Forgets the key when its transaction did not commit. */
  discard(): void;
}

const MASTER_KID = 'master:v1';
const CACHE_TTL_MS = 30_000;
const CACHE_MAX = 1000;

/** The id of a grant's data key. */
export function grantKeyId(grantId: string): string {
  return `grant:${grantId}`;
}

/** The id of a subject's data key. */
export function subjectKeyId(subjectRef: string): string {
  return `subject:${subjectRef}`;
}

/**
 * The purpose a data key row `rowId` is wrapped for, with {@link Vault.sealWithMaster}: the
 * wrapped key opens only as that row's key (src/keys/master-key-rewrap.ts re-wraps with it).
 */
export function dataKeyWrapPurpose(rowId: string): string {
  return `data_key:${rowId}`;
}

/** The row id of generation `generation` of key slot `keyId` (see the module comment). */
function generationId(keyId: string, generation: number): string {
  return generation === 1 ? keyId : `${keyId}#${generation}`;
}

/** The generation of `rowId` in slot `keyId`, or undefined when the row is not of that slot. */
function generationOf(keyId: string, rowId: string): number | undefined {
  if (rowId === keyId) return 1;
  if (!rowId.startsWith(`${keyId}#`)) return undefined;
  const suffix = rowId.slice(keyId.length + 1);
  return /^[1-9][0-9]*$/.test(suffix) && Number(suffix) >= 2 ? Number(suffix) : undefined;
}

function seal(key: Uint8Array, kid: string, purpose: string, plaintext: string): string {
  return encryptCompactDir(key, { kid, fgp: purpose }, plaintext);
}

function open(key: Uint8Array, kid: string, purpose: string, sealed: string): string {
  let header: Record<string, unknown>;
  try {
    header = decodeJweHeader(sealed);
  } catch (error) {
    throw new SealError('not a sealed value', { cause: error });
  }
  if (header.kid !== kid || header.fgp !== purpose) {
    throw new SealError(`sealed for ${String(header.kid)}/${String(header.fgp)}, not ${kid}/${purpose}`);
  }
  try {
    return decryptCompactDir(key, sealed);
  } catch (error) {
    throw new SealError('the sealed value does not open with its key', { cause: error });
  }
}

/** The key row a sealed value names in its header. */
function sealedRowId(sealed: string): string {
  let header: Record<string, unknown>;
  try {
    header = decodeJweHeader(sealed);
  } catch (error) {
    throw new SealError('not a sealed value', { cause: error });
  }
  if (typeof header.kid !== 'string') throw new SealError('a sealed value without a key id');
  return header.kid;
}

interface CachedKey {
  readonly raw: Uint8Array;
  readonly until: number;
}

/** Data keys: created on demand, cached briefly, destroyable. */
export class Vault {
  readonly #cache = new Map<string, CachedKey>();
  /** Key slot → the row id of its current generation, for the cache lifetime. */
  readonly #current = new Map<string, { readonly rowId: string; readonly until: number }>();
  readonly #master: Uint8Array;

  constructor(
    private readonly db: Kysely<any>,
    masterKey: Uint8Array,
    private readonly now: () => number = Date.now,
  ) {
    this.#master = masterKey;
  }

  #cached(keyId: string): CachedKey | undefined {
    const hit = this.#cache.get(keyId);
    if (hit && hit.until > this.now()) return hit;
    if (hit) this.#cache.delete(keyId);
    return undefined;
  }

  #remember(keyId: string, raw: Uint8Array): CachedKey {
    const entry = { raw, until: this.now() + CACHE_TTL_MS };
    if (this.#cache.size >= CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(keyId, entry);
    return entry;
  }

  #wrap(keyId: string, raw: Uint8Array): string {
    return seal(this.#master, MASTER_KID, dataKeyWrapPurpose(keyId), Buffer.from(raw).toString('base64url'));
  }

  async #load(keyId: string): Promise<CachedKey | undefined> {
    const cached = this.#cached(keyId);
    if (cached) return cached;
    const row = await this.db
      .selectFrom('data_keys')
      .select(['wrapped_key', 'destroyed_at'])
      .where('key_id', '=', keyId)
      .executeTakeFirst();
    if (!row || row.destroyed_at !== null || !row.wrapped_key) return undefined;
    const unwrapped = open(this.#master, MASTER_KID, dataKeyWrapPurpose(keyId), row.wrapped_key);
    return this.#remember(keyId, new Uint8Array(Buffer.from(unwrapped, 'base64url')));
  }

  /** The generations of slot `keyId` in the table, newest first. */
  async #generations(keyId: string): Promise<Array<{ rowId: string; generation: number; live: boolean }>> {
    // A range on the primary key, not LIKE: ids may hold `_`, a LIKE wildcard.
    const rows = await this.db
      .selectFrom('data_keys')
      .select(['key_id', 'wrapped_key', 'destroyed_at'])
      .where((eb) => eb.or([eb('key_id', '=', keyId), eb.and([eb('key_id', '>', `${keyId}#`), eb('key_id', '<', `${keyId}$`)])]))
      .execute();
    return rows
      .map((r) => ({ rowId: r.key_id as string, generation: generationOf(keyId, r.key_id as string), live: r.destroyed_at === null && r.wrapped_key !== null }))
      .filter((r): r is { rowId: string; generation: number; live: boolean } => r.generation !== undefined)
      .sort((a, b) => b.generation - a.generation);
  }

  /** The row id of the current generation of slot `keyId` (generation 1 when there is none yet). */
  async #currentRow(keyId: string): Promise<{ rowId: string; generation: number; exists: boolean }> {
    const hit = this.#current.get(keyId);
    if (hit && hit.until > this.now()) return { rowId: hit.rowId, generation: generationOf(keyId, hit.rowId)!, exists: true };
    const newest = (await this.#generations(keyId))[0];
    if (!newest) return { rowId: keyId, generation: 1, exists: false };
    this.#current.set(keyId, { rowId: newest.rowId, until: this.now() + CACHE_TTL_MS });
    return { rowId: newest.rowId, generation: newest.generation, exists: true };
  }

  /**
   * Makes sure data key `keyId` has a live generation. When it does not (no key yet, or
   * the current one was destroyed), a new generation is created in memory and returned as
   * a {@link PendingKey} that the caller writes in the same transaction as the first
   * events sealed with it; otherwise undefined.
   */
  async prepareKey(keyId: string): Promise<PendingKey | undefined> {
    const current = await this.#currentRow(keyId);
    if (current.exists && (await this.#load(current.rowId))) return undefined;
    const rowId = current.exists ? generationId(keyId, current.generation + 1) : keyId;
    const raw = new Uint8Array(randomBytes(32));
    const wrapped = this.#wrap(rowId, raw);
    this.#remember(rowId, raw);
    this.#current.set(keyId, { rowId, until: this.now() + CACHE_TTL_MS });
    const forget = () => {
      this.#cache.delete(rowId);
      this.#current.delete(keyId);
    };
    return {
      keyId,
      write: async (trx) => {
        const inserted = await trx
          .insertInto('data_keys')
          .values({ key_id: rowId, wrapped_key: wrapped, created_at: this.now(), destroyed_at: null })
          .onConflict((oc) => oc.column('key_id').doNothing())
          .returning('key_id')
          .execute();
        if (inserted.length === 0) {
          forget();
          throw new ConcurrencyError(`key:${rowId}`, 0, 1);
        }
      },
      discard: forget,
    };
  }

  /** Creates data key `keyId` now, in its own write, unless it exists (concurrent creators agree on one). */
  async ensureKey(keyId: string): Promise<void> {
    if (await this.#load(keyId)) return;
    const raw = new Uint8Array(randomBytes(32));
    await this.db
      .insertInto('data_keys')
      .values({ key_id: keyId, wrapped_key: this.#wrap(keyId, raw), created_at: this.now(), destroyed_at: null })
      .onConflict((oc) => oc.column('key_id').doNothing())
      .execute();
  }

  /** Seals `plaintext` with the current generation of data key `keyId` (which must exist, or be pending) for `purpose`. */
  async seal(keyId: string, purpose: SealPurpose, plaintext: string): Promise<string> {
    const { rowId } = await this.#currentRow(keyId);
    const key = await this.#load(rowId);
    if (!key) throw new SealError(`data key ${keyId} does not exist or was destroyed`);
    return seal(key.raw, rowId, purpose, plaintext);
  }

  /**
   * Opens a value sealed with (a generation of) data key `keyId`; `{ ok: false, reason:
   * 'erased' }` when the generation that sealed it was destroyed (or is not in this store).
   */
  async open(keyId: string, purpose: SealPurpose, sealed: string): Promise<Opened> {
    const rowId = sealedRowId(sealed);
    if (generationOf(keyId, rowId) === undefined) {
      throw new SealError(`sealed for ${rowId}, not ${keyId}`);
    }
    const key = await this.#load(rowId);
    if (!key) return { ok: false, reason: 'erased' };
    return { ok: true, value: open(key.raw, rowId, purpose, sealed) };
  }

  /**
   * HMAC-SHA256 of `text` under data key `keyId` (created when missing), base64url. Used
   * for pseudonymous lookup keys such as the subject reference.
   */
  async hmac(keyId: string, text: string): Promise<string> {
    let key = await this.#load(keyId);
    if (!key) {
      await this.ensureKey(keyId);
      key = await this.#load(keyId);
    }
    if (!key) throw new SealError(`data key ${keyId} was destroyed`);
    return createHmac('sha256', key.raw).update(text).digest('base64url');
  }

  /**
   * Destroys data key `keyId`, every live generation of it: everything sealed with it is
   * unreadable from now on, in this process at once and in other instances within the
   * cache lifetime (30 s). False when nothing was live.
   */
  async destroy(keyId: string): Promise<boolean> {
    const live = (await this.#generations(keyId)).filter((g) => g.live).map((g) => g.rowId);
    this.#current.delete(keyId);
    for (const id of [...this.#cache.keys()]) if (generationOf(keyId, id) !== undefined) this.#cache.delete(id);
    if (live.length === 0) return false;
    const result = await this.db
      .updateTable('data_keys')
      .set({ wrapped_key: null, destroyed_at: this.now() })
      .where('key_id', 'in', live)
      .where('destroyed_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Seals a value with the master key itself (for the keyring's private keys). */
  async sealWithMaster(purpose: string, plaintext: string): Promise<string> {
    return seal(this.#master, MASTER_KID, purpose, plaintext);
  }

  /** Opens a value sealed by {@link sealWithMaster}. */
  async openWithMaster(purpose: string, sealed: string): Promise<string> {
    return open(this.#master, MASTER_KID, purpose, sealed);
  }
}

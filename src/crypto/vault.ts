/**
 * Envelope encryption (docs/privacy.md): every grant and every subject has its own data
 * key, wrapped by the master key and kept in the `data_keys` table, outside the event log.
 * Values are sealed as compact JWE (`dir`, `A256GCM`, via jose) whose protected header names
 * the key and the purpose, so a ciphertext copied to another grant or field does not open.
 * Destroying a key ("crypto-shredding") erases everything it protected while the log, which
 * hashes the ciphertext, still verifies.
 *
 * @module
 */
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { createHmac, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { FlowgateError } from '../errors/flowgate-error.js';

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

async function seal(key: Uint8Array, kid: string, purpose: string, plaintext: string): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid, fgp: purpose })
    .encrypt(key);
}

async function open(key: Uint8Array, kid: string, purpose: string, sealed: string): Promise<string> {
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(sealed) as Record<string, unknown>;
  } catch (error) {
    throw new SealError('not a sealed value', { cause: error });
  }
  if (header.kid !== kid || header.fgp !== purpose) {
    throw new SealError(`sealed for ${String(header.kid)}/${String(header.fgp)}, not ${kid}/${purpose}`);
  }
  try {
    const { plaintext } = await compactDecrypt(sealed, key);
    return new TextDecoder().decode(plaintext);
  } catch (error) {
    throw new SealError('the sealed value does not open with its key', { cause: error });
  }
}

/** Data keys: created on demand, cached briefly, destroyable. */
export class Vault {
  readonly #cache = new Map<string, { key: Uint8Array; until: number }>();

  constructor(
    private readonly db: Kysely<any>,
    private readonly masterKey: Uint8Array,
    private readonly now: () => number = Date.now,
  ) {}

  /** The data key `keyId`, created if it does not exist yet (concurrent creators agree on one). */
  async ensureKey(keyId: string): Promise<void> {
    if (this.#cached(keyId)) return;
    const key = new Uint8Array(randomBytes(32));
    const wrapped = await seal(this.masterKey, MASTER_KID, `data_key:${keyId}`, Buffer.from(key).toString('base64url'));
    await this.db
      .insertInto('data_keys')
      .values({ key_id: keyId, wrapped_key: wrapped, created_at: this.now(), destroyed_at: null })
      .onConflict((oc) => oc.column('key_id').doNothing())
      .execute();
  }

  #cached(keyId: string): Uint8Array | undefined {
    const hit = this.#cache.get(keyId);
    if (hit && hit.until > this.now()) return hit.key;
    if (hit) this.#cache.delete(keyId);
    return undefined;
  }

  async #key(keyId: string): Promise<Uint8Array | undefined> {
    const cached = this.#cached(keyId);
    if (cached) return cached;
    const row = await this.db
      .selectFrom('data_keys')
      .select(['wrapped_key', 'destroyed_at'])
      .where('key_id', '=', keyId)
      .executeTakeFirst();
    if (!row || row.destroyed_at !== null || !row.wrapped_key) return undefined;
    const key = new Uint8Array(Buffer.from(await open(this.masterKey, MASTER_KID, `data_key:${keyId}`, row.wrapped_key), 'base64url'));
    if (this.#cache.size >= CACHE_MAX) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(keyId, { key, until: this.now() + CACHE_TTL_MS });
    return key;
  }

  /** Seals `plaintext` with data key `keyId` (which must exist) for `purpose`. */
  async seal(keyId: string, purpose: SealPurpose, plaintext: string): Promise<string> {
    const key = await this.#key(keyId);
    if (!key) throw new SealError(`data key ${keyId} does not exist or was destroyed`);
    return seal(key, keyId, purpose, plaintext);
  }

  /** Opens a sealed value; `{ ok: false, reason: 'erased' }` when its key was destroyed. */
  async open(keyId: string, purpose: SealPurpose, sealed: string): Promise<Opened> {
    const key = await this.#key(keyId);
    if (!key) return { ok: false, reason: 'erased' };
    return { ok: true, value: await open(key, keyId, purpose, sealed) };
  }

  /**
   * Destroys data key `keyId`: everything sealed with it is unreadable from now on, in
   * this process at once and in other instances within the cache lifetime (30 s).
   */
  async destroy(keyId: string): Promise<boolean> {
    this.#cache.delete(keyId);
    const result = await this.db
      .updateTable('data_keys')
      .set({ wrapped_key: null, destroyed_at: this.now() })
      .where('key_id', '=', keyId)
      .where('destroyed_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * HMAC-SHA256 of `text` under data key `keyId` (created when missing), base64url. Used
   * for pseudonymous lookup keys such as the subject reference.
   */
  async hmac(keyId: string, text: string): Promise<string> {
    let key = await this.#key(keyId);
    if (!key) {
      await this.ensureKey(keyId);
      key = await this.#key(keyId);
    }
    if (!key) throw new SealError(`data key ${keyId} was destroyed`);
    return createHmac('sha256', key).update(text).digest('base64url');
  }

  /** Seals a value with the master key itself (for the keyring's private keys). */
  sealWithMaster(purpose: string, plaintext: string): Promise<string> {
    return seal(this.masterKey, MASTER_KID, purpose, plaintext);
  }

  /** Opens a value sealed by {@link sealWithMaster}. */
  openWithMaster(purpose: string, sealed: string): Promise<string> {
    return open(this.masterKey, MASTER_KID, purpose, sealed);
  }
}

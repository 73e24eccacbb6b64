/**
 * The keyring: flowgate's signing keys, kept in the store (`signing_keys`, migration 0004)
 * so every instance on one database signs and verifies with the same keys.
 *
 * **Keys.** Each key has a purpose: `access_token` (ES256 by default, or EdDSA), `cookie`
 * (an HMAC secret, never published) and `anchor` (signs the audit anchors; never rotated,
 * never removed). The private part is sealed with the master key
 * (`Vault.sealWithMaster('keyring', …)`) together with the key's kid, purpose and algorithm,
 * so it cannot be moved to another row. Opening the keyring creates an active key for every
 * purpose that has none.
 *
 * **Life cycle.** `next` (published in the JWKS and trusted, not signing) → `active`
 * (signing) → `retired` (verifying until `not_after`, when the last token it signed
 * expires: retirement time + token lifetime + clock skew + one refresh interval, because an
 * instance that has not yet seen the retirement may sign with the key for that long).
 * `rotate` stages a `next` key, and the next `rotate` promotes it.
 *
 * **Authenticity.** Only the master key vouches for a key: a public JWK is trusted (for
 * verification, in the JWKS) only once the row's sealed private part has opened with the
 * master key, names this row's kid, purpose and algorithm, and matches the public JWK. A
 * row inserted by someone with write access to the database but without the master key is
 * never trusted nor published.
 *
 * **Removal.** `prune` erases the private part of retired access-token and cookie keys
 * whose `not_after` has passed and marks them removed; the row keeps the public JWK and the
 * dates, as the record of which key signed when. Removed keys are never published and
 * never verify (a token naming one is refused). Anchor keys are never removed: the code
 * refuses, and so do the table's triggers.
 *
 * **Several instances.** Races (first open, rotation) are settled by the database: unique
 * indexes allow one `active` and one `next` key per purpose, and every state change is a
 * conditional update in a transaction. Each instance caches the table and re-reads it every
 * `refreshIntervalMs` (default 5 s), and at once when a token names a kid it does not know.
 *
 * @module
 */
import { base64url, importJWK, type CryptoKey, type JSONWebKeySet } from 'jose';
import type { Kysely } from 'kysely';
import type { Vault } from '../crypto/vault.js';
import { KeyringAccessTokenSigner, type SigningKey } from './access-token-signer.js';
import { AccessTokenVerifier, type VerificationKeyLookup } from './access-token-verifier.js';
import { cookieKeysFrom, type CookieKeys } from './cookie-key.js';
import { KeyMaterialError, NoActiveKeyError } from './errors.js';
import { KeyCache, type KeySnapshot } from './key-cache.js';
import { openPrivateJwk } from './key-material.js';
import { selectAllKeys } from './key-table.js';
import { accessTokenJwks, anchorJwks } from './jwks.js';
import {
  ensureInitialKeys,
  prune,
  retire,
  rotate,
  type RetireResult,
  type RotationContext,
  type RotationResult,
} from './rotation.js';
import { isTrustedAt, type KeyInfo, type KeyPurpose, type SignatureAlg } from './types.js';

/** How a keyring behaves. Durations in milliseconds. */
export interface KeyringOptions {
  /** Lifetime of access tokens: how long a retired access-token key must still verify. */
  readonly accessTokenTtlMs: number;
  /** The clock (ms since the epoch); default `Date.now`. */
  readonly clock?: () => number;
  /** Algorithm of new access-token keys; default ES256. Existing keys keep theirs. */
  readonly accessTokenAlg?: SignatureAlg;
  /** Algorithm of the anchor key, chosen when it is created; default ES256. */
  readonly anchorAlg?: SignatureAlg;
  /** Tolerance for `exp`/`iat` when verifying, also added to `not_after`; default 60 s. */
  readonly clockSkewMs?: number;
  /** Longest lifetime of a signed cookie: how long a retired cookie key must still verify; default 1 day. */
  readonly cookieMaxAgeMs?: number;
  /** How often the cached keys are re-read; default 5 s. */
  readonly refreshIntervalMs?: number;
  /** After a re-read for an unknown kid found nothing, how long until the next such re-read; default 1 s. */
  readonly unknownKidRetryMs?: number;
}

/** The defaults of {@link KeyringOptions}. */
export const KEYRING_DEFAULTS = Object.freeze({
  accessTokenAlg: 'ES256' as SignatureAlg,
  anchorAlg: 'ES256' as SignatureAlg,
  clockSkewMs: 60_000,
  cookieMaxAgeMs: 86_400_000,
  refreshIntervalMs: 5_000,
  unknownKidRetryMs: 1_000,
});

type ResolvedOptions = Required<KeyringOptions>;

/** What {@link Keyring.prune} removed. */
export interface PruneResult {
  readonly removed: readonly string[];
}

/** Memoises the promise of `make()` under `kid`, forgetting it if it fails. */
function memo<T>(map: Map<string, Promise<T>>, kid: string, make: () => Promise<T>): Promise<T> {
  let value = map.get(kid);
  if (!value) {
    value = make();
    map.set(kid, value);
    value.catch(() => {
      if (map.get(kid) === value) map.delete(kid);
    });
  }
  return value;
}

/**
 * flowgate's signing keys.
 *
 * @example
 * ```ts
 * const keyring = await Keyring.open(store.db, vault, { accessTokenTtlMs: 3_600_000 });
 * const signer = keyring.accessTokenSigner('https://auth.example.com');
 * const verifier = keyring.accessTokenVerifier({ issuer: 'https://auth.example.com' });
 * const jwks = await keyring.jwks(); // GET /.well-known/jwks.json
 * ```
 */
export class Keyring {
  readonly options: Readonly<ResolvedOptions>;
  readonly #db: Kysely<any>;
  readonly #vault: Vault;
  readonly #cache: KeyCache;
  readonly #rotation: RotationContext;
  readonly #privateKeys = new Map<string, Promise<CryptoKey>>();
  readonly #publicKeys = new Map<string, Promise<CryptoKey>>();
  readonly #cookieSecrets = new Map<string, Promise<Uint8Array>>();

  private constructor(db: Kysely<any>, vault: Vault, options: KeyringOptions) {
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
    this.options = Object.freeze({ ...KEYRING_DEFAULTS, clock: Date.now, ...given } as ResolvedOptions);
    this.#db = db;
    this.#vault = vault;
    const o = this.options;
    this.#cache = new KeyCache(db, {
      now: o.clock,
      refreshIntervalMs: o.refreshIntervalMs,
      missRetryMs: o.unknownKidRetryMs,
      onLoad: (snapshot) => this.#forgetGone(snapshot),
    });
    this.#rotation = {
      db,
      vault,
      now: o.clock,
      accessTokenAlg: o.accessTokenAlg,
      anchorAlg: o.anchorAlg,
      retiredLifetimeMs: (purpose) =>
        (purpose === 'cookie' ? o.cookieMaxAgeMs : o.accessTokenTtlMs) + o.clockSkewMs + o.refreshIntervalMs,
    };
  }

  /**
   * Opens the keyring on the store's database, creating the first key of every purpose
   * that has none, and checks that the active access-token key opens with this master key.
   */
  static async open(db: Kysely<any>, vault: Vault, options: KeyringOptions): Promise<Keyring> {
    const keyring = new Keyring(db, vault, options);
    await ensureInitialKeys(keyring.#rotation);
    await keyring.#cache.reload();
    await keyring.activeAccessTokenKey();
    return keyring;
  }

  #now(): number {
    return this.options.clock();
  }

  /** Drops opened material of keys that were removed or are gone from the table. */
  #forgetGone(snapshot: KeySnapshot): void {
    for (const map of [this.#privateKeys, this.#publicKeys, this.#cookieSecrets] as Map<string, unknown>[]) {
      for (const kid of map.keys()) {
        const key = snapshot.keys.get(kid);
        if (!key || key.removedAt !== null) map.delete(kid);
      }
    }
  }

  async #openPrivate(key: KeyInfo, snapshot: KeySnapshot) {
    const sealed = snapshot.sealed.get(key.kid);
    if (!sealed) throw new KeyMaterialError(key.kid, 'was removed');
    return openPrivateJwk(this.#vault, key, sealed);
  }

  /** The active key of `purpose` and the snapshot it came from, re-reading once if there is none. */
  async #active(purpose: KeyPurpose): Promise<{ key: KeyInfo; snapshot: KeySnapshot }> {
    const find = (snapshot: KeySnapshot) =>
      [...snapshot.keys.values()].find((k) => k.purpose === purpose && k.state === 'active');
    let snapshot = await this.#cache.snapshot();
    let key = find(snapshot);
    if (!key) {
      snapshot = await this.#cache.reload();
      key = find(snapshot);
    }
    if (!key) throw new NoActiveKeyError(purpose);
    return { key, snapshot };
  }

  async #signingKey(purpose: 'access_token' | 'anchor'): Promise<SigningKey> {
    const { key, snapshot } = await this.#active(purpose);
    const alg = key.alg as SignatureAlg;
    const privateKey = await memo(this.#privateKeys, key.kid, async () =>
      (await importJWK(await this.#openPrivate(key, snapshot), alg)) as CryptoKey,
    );
    return { kid: key.kid, alg, privateKey };
  }

  /** @internal The key the access-token signer signs with. */
  activeAccessTokenKey(): Promise<SigningKey> {
    return this.#signingKey('access_token');
  }

  /** The anchor key's private part, for signing audit anchors. */
  anchorSigningKey(): Promise<SigningKey> {
    return this.#signingKey('anchor');
  }

  /**
   * The public key of `key`, once the master key has vouched for it: the sealed private part
   * opens, was sealed for this kid, purpose and algorithm, and matches the row's public JWK.
   * Memoised per kid; a key that fails is not remembered, so it is checked again next time.
   */
  #authenticPublicKey(key: KeyInfo, snapshot: KeySnapshot): Promise<CryptoKey> {
    const publicJwk = key.publicJwk;
    if (publicJwk === null) return Promise.reject(new KeyMaterialError(key.kid, 'has no public key'));
    return memo(this.#publicKeys, key.kid, async () => {
      await this.#openPrivate(key, snapshot);
      return (await importJWK(publicJwk, key.alg)) as CryptoKey;
    });
  }

  /** Whether the master key vouches for `key` (see {@link Keyring.#authenticPublicKey}). */
  async #isAuthentic(key: KeyInfo, snapshot: KeySnapshot): Promise<boolean> {
    return this.#authenticPublicKey(key, snapshot).then(
      () => true,
      () => false,
    );
  }

  /** @internal The public key for an access token's `kid`, or why it is not trusted. */
  async accessTokenVerificationKey(kid: string): Promise<VerificationKeyLookup> {
    const key = await this.#cache.find(kid);
    if (!key) return { ok: false, reason: 'unknown_key' };
    if (key.purpose !== 'access_token' || key.publicJwk === null) return { ok: false, reason: 'wrong_key_purpose', key };
    if (!isTrustedAt(key, this.#now())) return { ok: false, reason: 'key_retired', key };
    let publicKey: CryptoKey;
    try {
      publicKey = await this.#authenticPublicKey(key, await this.#cache.snapshot());
    } catch {
      return { ok: false, reason: 'unauthenticated_key', key };
    }
    return { ok: true, key, publicKey };
  }

  /** The keys of `snapshot` the master key vouches for (see {@link Keyring.#authenticPublicKey}). */
  async #authenticKeys(snapshot: KeySnapshot): Promise<KeyInfo[]> {
    const keys = [...snapshot.keys.values()].filter((key) => key.purpose !== 'cookie' && isTrustedAt(key, this.#now()));
    const vouched = await Promise.all(keys.map((key) => this.#isAuthentic(key, snapshot)));
    return keys.filter((_, index) => vouched[index]);
  }

  /** An {@link AccessTokenSigner} that puts `issuer` in `iss`. */
  accessTokenSigner(issuer: string): KeyringAccessTokenSigner {
    return new KeyringAccessTokenSigner(this, issuer);
  }

  /** A verifier of access tokens issued by `issuer`; the clock skew defaults to the keyring's. */
  accessTokenVerifier(options: { readonly issuer: string; readonly clockSkewMs?: number }): AccessTokenVerifier {
    return new AccessTokenVerifier(this, {
      issuer: options.issuer,
      clockSkewMs: options.clockSkewMs ?? this.options.clockSkewMs,
      now: this.options.clock,
    });
  }

  /**
   * The access-token JWKS (`/.well-known/jwks.json`): next, active and still-trusted retired
   * keys that the master key vouches for.
   */
  async jwks(): Promise<JSONWebKeySet> {
    return accessTokenJwks(await this.#authenticKeys(await this.#cache.snapshot()), this.#now());
  }

  /** The anchor keys' public parts the master key vouches for, published apart from the access-token JWKS. */
  async anchorJwks(): Promise<JSONWebKeySet> {
    return anchorJwks(await this.#authenticKeys(await this.#cache.snapshot()), this.#now());
  }

  /** The cookie HMAC keys: the active one, plus every one a cookie may still be signed with. */
  async cookieKey(): Promise<CookieKeys> {
    let snapshot = await this.#cache.snapshot();
    const secretOf = (key: KeyInfo) =>
      memo(this.#cookieSecrets, key.kid, async () => {
        const jwk = await this.#openPrivate(key, snapshot);
        if (typeof jwk.k !== 'string') throw new KeyMaterialError(key.kid, 'is not an HMAC secret');
        return base64url.decode(jwk.k);
      });
    let keys = await cookieKeysFrom(snapshot.keys.values(), this.#now(), secretOf);
    if (!keys) {
      snapshot = await this.#cache.reload();
      keys = await cookieKeysFrom(snapshot.keys.values(), this.#now(), secretOf);
    }
    if (!keys) throw new NoActiveKeyError('cookie');
    return keys;
  }

  /** Every key, oldest first, read from the database (not the cache). */
  list(): Promise<KeyInfo[]> {
    return selectAllKeys(this.#db);
  }

  /** One step of staged rotation for `purpose` (see {@link rotate}); refused for anchor keys. */
  rotate(purpose: KeyPurpose = 'access_token'): Promise<RotationResult> {
    return this.#change(rotate(this.#rotation, purpose));
  }

  /** Retires key `kid` (see {@link retire}); `immediate` stops trusting it now. */
  retire(kid: string, options: { readonly immediate?: boolean } = {}): Promise<RetireResult> {
    return this.#change(retire(this.#rotation, kid, options));
  }

  /** Removes retired keys past their `not_after` (see {@link prune}). */
  async prune(): Promise<PruneResult> {
    return { removed: await this.#change(prune(this.#rotation)) };
  }

  /** Waits for a change, then re-reads the keys (also after a failure: another instance may have changed them). */
  async #change<T>(change: Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await change;
    } catch (error) {
      await this.#cache.reload().catch(() => {});
      throw error;
    }
    await this.#cache.reload();
    return result;
  }
}

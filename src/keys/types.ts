/**
 * The keyring's vocabulary: purposes, states, algorithms, the `signing_keys` row and the
 * public description of a key.
 *
 * @module
 */
import type { JWK } from 'jose';

/**
 * What a key signs.
 *
 * - `access_token`: flowgate's JWT access tokens (RFC 9068); the only keys in the JWKS.
 * - `cookie`: HMAC of flowgate's cookies; a secret, never published.
 * - `anchor`: the signed audit anchors over the event log's chain heads; never rotated,
 *   never deleted, published apart from the access-token JWKS.
 */
export type KeyPurpose = 'access_token' | 'cookie' | 'anchor';

/** Every purpose, in the order keys are created and listed. */
export const KEY_PURPOSES: readonly KeyPurpose[] = Object.freeze(['access_token', 'cookie', 'anchor']);

/** Life cycle of a key: published before it signs (`next`), signing (`active`), verifying only (`retired`). */
export type KeyState = 'next' | 'active' | 'retired';

/** Asymmetric signature algorithms of access-token and anchor keys (RFC 7518 §3.4, RFC 8037). */
export type SignatureAlg = 'ES256' | 'EdDSA';

/** Algorithms a key row can hold: cookie keys are HMAC-SHA256 secrets. */
export type KeyAlg = SignatureAlg | 'HS256';

/** One row of the `signing_keys` table (migration 0004). */
export interface SigningKeysTable {
  kid: string;
  purpose: KeyPurpose;
  alg: KeyAlg;
  state: KeyState;
  /** Public JWK as JSON text; null for cookie keys. */
  public_jwk: string | null;
  /** The private JWK sealed with the master key; null once the key is removed. */
  private_sealed: string | null;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
  /** When the last token or cookie the key signed expires (set on retirement). */
  not_after: number | null;
  /** When the private part was erased (`prune`). */
  removed_at: number | null;
}

/** A key as the keyring describes it: everything but the private part. Times in ms since the epoch. */
export interface KeyInfo {
  readonly kid: string;
  readonly purpose: KeyPurpose;
  readonly alg: KeyAlg;
  readonly state: KeyState;
  readonly createdAt: number;
  readonly activatedAt: number | null;
  readonly retiredAt: number | null;
  readonly notAfter: number | null;
  readonly removedAt: number | null;
  /** The public JWK (without `kid`, `alg`, `use`); null for cookie keys. */
  readonly publicJwk: Readonly<JWK> | null;
}

/** Maps a row to its public description. */
export function keyInfoOf(row: SigningKeysTable): KeyInfo {
  return Object.freeze({
    kid: row.kid,
    purpose: row.purpose,
    alg: row.alg,
    state: row.state,
    createdAt: Number(row.created_at),
    activatedAt: row.activated_at === null ? null : Number(row.activated_at),
    retiredAt: row.retired_at === null ? null : Number(row.retired_at),
    notAfter: row.not_after === null ? null : Number(row.not_after),
    removedAt: row.removed_at === null ? null : Number(row.removed_at),
    publicJwk: row.public_jwk === null ? null : Object.freeze(JSON.parse(row.public_jwk) as JWK),
  });
}

/**
 * Whether a key may verify at `now`: not removed, and either not retired or retired with
 * tokens it signed still unexpired (`now < notAfter`). `next` keys count: another instance
 * may already have promoted one and signed with it.
 */
export function isTrustedAt(key: KeyInfo, now: number): boolean {
  if (key.removedAt !== null) return false;
  if (key.state !== 'retired') return true;
  return key.notAfter !== null && now < key.notAfter;
}

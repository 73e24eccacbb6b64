/**
 * The published key sets (RFC 7517 §5). `/.well-known/jwks.json` carries the access-token
 * keys a verifier may meet: `next` (published before it signs, so caches learn it in time),
 * `active`, and `retired` until every token it signed has expired (`not_after`). Cookie keys
 * are secrets and never published; anchor keys are published apart, for audit tooling.
 *
 * @module
 */
import type { JSONWebKeySet, JWK } from 'jose';
import { isTrustedAt, type KeyInfo, type KeyPurpose, type KeyState } from './types.js';

const STATE_ORDER: Record<KeyState, number> = { active: 0, next: 1, retired: 2 };

function publishedJwk(key: KeyInfo): JWK {
  return { ...key.publicJwk, kid: key.kid, alg: key.alg, use: 'sig' };
}

function keySet(keys: Iterable<KeyInfo>, purpose: KeyPurpose, now: number): JSONWebKeySet {
  const published = [...keys]
    .filter((k) => k.purpose === purpose && k.publicJwk !== null && isTrustedAt(k, now))
    .sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || b.createdAt - a.createdAt || a.kid.localeCompare(b.kid));
  return { keys: published.map(publishedJwk) };
}

/**
 * The access-token JWKS at `now`: public parts only, each with `kid`, `alg` and
 * `use: "sig"`; active key first.
 *
 * @example
 * ```ts
 * const body = JSON.stringify(accessTokenJwks(snapshot.keys.values(), Date.now()));
 * ```
 */
export function accessTokenJwks(keys: Iterable<KeyInfo>, now: number): JSONWebKeySet {
  return keySet(keys, 'access_token', now);
}

/** The anchor keys' public parts (every anchor key: they are never retired). */
export function anchorJwks(keys: Iterable<KeyInfo>, now: number): JSONWebKeySet {
  return keySet(keys, 'anchor', now);
}

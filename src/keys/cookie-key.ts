/**
 * The HMAC keys of flowgate's cookies. New cookies are signed with the active key; a cookie
 * verifies with any key still trusted (`next`, which another instance may already have
 * promoted, the active one, and retired ones until their `not_after`), so rotating the
 * cookie key does not log anyone out. Cookie keys are secrets: never published.
 *
 * @module
 */
import { isTrustedAt, type KeyInfo } from './types.js';

/** One cookie key's secret. */
export interface CookieSecret {
  readonly kid: string;
  /** 32 random bytes, the HMAC-SHA256 key. */
  readonly secret: Uint8Array;
}

/** What cookie code signs and verifies with. */
export interface CookieKeys {
  /** Sign new cookies with this one. */
  readonly active: CookieSecret;
  /** Accept a cookie signed with any of these (the active key first). */
  readonly verification: readonly CookieSecret[];
}

/** The cookie keys trusted at `now`, active first; `secretOf` opens a key's secret. */
export async function cookieKeysFrom(
  keys: Iterable<KeyInfo>,
  now: number,
  secretOf: (key: KeyInfo) => Promise<Uint8Array>,
): Promise<CookieKeys | undefined> {
  const trusted = [...keys]
    .filter((k) => k.purpose === 'cookie' && isTrustedAt(k, now))
    .sort((a, b) => Number(b.state === 'active') - Number(a.state === 'active') || b.createdAt - a.createdAt);
  if (trusted[0]?.state !== 'active') return undefined;
  const verification = await Promise.all(trusted.map(async (key) => ({ kid: key.kid, secret: await secretOf(key) })));
  return Object.freeze({ active: verification[0]!, verification: Object.freeze(verification) });
}

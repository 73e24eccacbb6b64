/**
 * PKCE with the S256 method only (RFC 7636; OAuth 2.1 §4.1.1). `plain` is never supported.
 *
 * - A verifier is 43–128 characters of `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
 * - A challenge is `BASE64URL(SHA256(ASCII(verifier)))` without padding: always exactly 43
 *   characters of the base64url alphabet (RFC 7636 §4.2).
 * - Verification recomputes the challenge and compares in constant time (RFC 7636 §4.6),
 *   answering `false` rather than throwing for malformed input.
 *
 * @module
 */
import { constantTimeEqual, sha256Base64Url } from '../crypto/random.js';
import { InvalidRequest } from './errors.js';

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** RFC 7636 §4.1: `code-verifier = 43*128unreserved`. */
export function isValidCodeVerifier(value: unknown): value is string {
  return typeof value === 'string' && VERIFIER.test(value);
}

/** RFC 7636 §4.2: an S256 challenge is exactly 43 base64url characters (256 bits, no padding). */
export function isValidCodeChallenge(value: unknown): value is string {
  return typeof value === 'string' && CHALLENGE.test(value);
}

/**
 * RFC 7636 §4.2: the S256 challenge of a verifier. Throws `invalid_request` for a
 * malformed verifier, so a challenge is never derived from one.
 *
 * @example
 * ```ts
 * s256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'); // 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
 * ```
 */
export function s256Challenge(verifier: string): string {
  if (!isValidCodeVerifier(verifier)) {
    throw new InvalidRequest('code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]');
  }
  return sha256Base64Url(verifier);
}

/**
 * RFC 7636 §4.6: true iff `verifier` is well-formed and its S256 challenge equals
 * `challenge`, compared in constant time. Malformed input of either kind gives `false`.
 */
export function verifyPkceS256(verifier: unknown, challenge: unknown): boolean {
  if (!isValidCodeVerifier(verifier) || !isValidCodeChallenge(challenge)) return false;
  return constantTimeEqual(sha256Base64Url(verifier), challenge);
}

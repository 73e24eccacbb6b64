/**
 * Randomness and one-way hashes for secrets: codes, refresh tokens, state values, CSRF
 * tokens. Every secret is drawn from the CSPRNG and stored, when at all, only as its
 * SHA-256 (OAuth 2.1 §7.7, RFC 9700 §4.14.2).
 *
 * @module
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random secret of `bytes` bytes, base64url without padding (32 bytes = 256 bits). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 of a UTF-8 string, base64url without padding (how codes and tokens are keyed). */
export function sha256Base64Url(text: string): string {
  return hash('sha256', text, 'base64url');
}

/** SHA-256 of a UTF-8 string, lowercase hex. */
export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** Compares two strings in time independent of where they differ (lengths may leak). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

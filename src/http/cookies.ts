/**
 * Signed cookies of the browser-facing endpoints. On an https issuer every cookie has the
 * `__Host-` prefix and `Secure` (no `Domain`, `Path=/`), and only prefixed names are read, so
 * a sibling subdomain cannot plant one; on an http loopback issuer (development, tests)
 * the names are plain and `Secure` is omitted, because browsers drop Secure cookies on http.
 * Every cookie is `HttpOnly; SameSite=Lax` and MAC'd with the keyring's cookie key; a
 * cookie that does not verify is treated as absent.
 *
 * @module
 */
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../crypto/random.js';

/** The cookie keys: the first signs, all verify (rotation). */
export interface CookieKeys {
  readonly signing: Uint8Array;
  readonly verifying: readonly Uint8Array[];
}

/** The cookie name for `base` under this issuer's rules. */
export function cookieName(base: string, secure: boolean): string {
  return secure ? `__Host-${base}` : base;
}

/** The cookies of a request, by name (the first occurrence wins). */
export function readCookies(request: Request): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** The MAC of `text` under `key` for `purpose`. */
export function mac(key: Uint8Array, purpose: string, text: string): string {
  return createHmac('sha256', key).update(`flowgate/${purpose}\n${text}`).digest('base64url');
}

/** Whether `tag` is the MAC of `text` under any verifying key. */
export function macMatches(keys: CookieKeys, purpose: string, text: string, tag: string): boolean {
  let ok = false;
  for (const key of keys.verifying) ok = constantTimeEqual(mac(key, purpose, text), tag) || ok;
  return ok;
}

/** `value.mac`, signed for `purpose`. */
export function signValue(keys: CookieKeys, purpose: string, value: string): string {
  return `${value}.${mac(keys.signing, purpose, value)}`;
}

/** The value of a signed `value.mac`, or undefined when the MAC does not verify. */
export function verifiedValue(keys: CookieKeys, purpose: string, signed: string | undefined): string | undefined {
  if (!signed) return undefined;
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const value = signed.slice(0, dot);
  return macMatches(keys, purpose, value, signed.slice(dot + 1)) ? value : undefined;
}

/** A `Set-Cookie` header value with flowgate's attributes. */
export function setCookie(name: string, value: string, options: { secure: boolean; maxAgeSeconds: number }): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

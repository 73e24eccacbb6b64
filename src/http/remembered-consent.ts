/**
 * Remembered consent (`consent.mode: remember`): a signed cookie listing the client +
 * redirect URI pairs this browser approved (at most 25, newest kept). It is honoured only
 * on a direct or same-origin navigation (`Sec-Fetch-Site: none | same-origin`) and fails
 * closed when the header is missing — a cross-site bounce through an "AS in the middle"
 * always sees the consent page (GHSA-6x8h-498w-gv8c).
 *
 * @module
 */
import { sha256Base64Url } from '../crypto/random.js';
import { cookieName, readCookies, setCookie, signValue, verifiedValue, type CookieKeys } from './cookies.js';

const REMEMBER = 'fg_consent';
const MAX_ENTRIES = 25;

interface Entry {
  readonly k: string;
  readonly exp: number;
}

function key(clientId: string, redirectUri: string): string {
  return sha256Base64Url(`${clientId}\n${redirectUri}`).slice(0, 22);
}

function entries(request: Request, keys: CookieKeys, secure: boolean, now: number): Entry[] {
  const value = verifiedValue(keys, 'consent', readCookies(request).get(cookieName(REMEMBER, secure)));
  if (!value) return [];
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(parsed)) return [];
    return parsed.filter((e): e is Entry => typeof e?.k === 'string' && typeof e?.exp === 'number' && e.exp > now);
  } catch {
    return [];
  }
}

/** Whether this navigation may use a remembered approval (fails closed without the header). */
export function navigationAllowsRememberedConsent(request: Request): boolean {
  const site = request.headers.get('sec-fetch-site');
  return site === 'none' || site === 'same-origin';
}

/** Whether this browser approved `clientId` + `redirectUri` before (and the approval is still valid). */
export function isRemembered(
  request: Request,
  keys: CookieKeys,
  options: { secure: boolean; now: number; clientId: string; redirectUri: string },
): boolean {
  const k = key(options.clientId, options.redirectUri);
  return entries(request, keys, options.secure, options.now).some((e) => e.k === k);
}

/** The `Set-Cookie` value that adds an approval. */
export function rememberApproval(
  request: Request,
  keys: CookieKeys,
  options: { secure: boolean; now: number; clientId: string; redirectUri: string; days: number },
): string {
  const k = key(options.clientId, options.redirectUri);
  const maxAge = options.days * 86_400;
  const kept = entries(request, keys, options.secure, options.now).filter((e) => e.k !== k);
  const next = [...kept, { k, exp: options.now + maxAge * 1000 }].slice(-MAX_ENTRIES);
  const value = Buffer.from(JSON.stringify(next)).toString('base64url');
  return setCookie(cookieName(REMEMBER, options.secure), signValue(keys, 'consent', value), {
    secure: options.secure,
    maxAgeSeconds: maxAge,
  });
}

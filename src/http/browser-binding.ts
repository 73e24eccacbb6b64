/**
 * The browser binding (GHSA-rww4-4w9c-7733, security-invariants items 15 and 18): a random
 * id in a signed cookie, set when `/authorize` starts a flow. The flow records only the
 * id's SHA-256; the consent page, the consent decision and the upstream callback must come
 * from the browser holding the id. One cookie serves every tab, so several flows in one
 * browser each complete.
 *
 * The consent form's CSRF token is a MAC over the flow id and the browser id: bound to the
 * transaction and to this browser, and single-use because the flow's machine accepts one
 * decision only.
 *
 * @module
 */
import { randomToken, sha256Base64Url } from '../crypto/random.js';
import { cookieName, mac, macMatches, readCookies, setCookie, signValue, verifiedValue, type CookieKeys } from './cookies.js';

const BROWSER = 'fg_browser';

/** The browser id a request carries, if its cookie verifies. */
export function readBrowserId(request: Request, keys: CookieKeys, secure: boolean): string | undefined {
  const raw = readCookies(request).get(cookieName(BROWSER, secure));
  const id = verifiedValue(keys, 'browser', raw);
  return id && /^[A-Za-z0-9_-]{43}$/.test(id) ? id : undefined;
}

/** The browser id to use: the request's, or a new one (with the cookie to set). */
export function ensureBrowserId(
  request: Request,
  keys: CookieKeys,
  options: { secure: boolean; maxAgeSeconds: number },
): { id: string; setCookie: string } {
  const id = readBrowserId(request, keys, options.secure) ?? randomToken(32);
  return { id, setCookie: setCookie(cookieName(BROWSER, options.secure), signValue(keys, 'browser', id), options) };
}

/** What the log records about a browser: the SHA-256 of its id. */
export function browserHash(id: string): string {
  return sha256Base64Url(id);
}

/** The CSRF token of a flow's consent form for this browser. */
export function csrfToken(keys: CookieKeys, flowId: string, browserId: string): string {
  return mac(keys.signing, 'csrf', `${flowId}\n${browserId}`);
}

/** Whether `token` is the CSRF token of this flow for this browser. */
export function csrfMatches(keys: CookieKeys, flowId: string, browserId: string, token: string): boolean {
  return macMatches(keys, 'csrf', `${flowId}\n${browserId}`, token);
}

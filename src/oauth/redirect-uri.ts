/**
 * Which redirect URIs a client may register, and when a requested redirect URI matches a
 * registered one (OAuth 2.1 §2.3.1, §4.1.1; RFC 8252 §7.1, §7.3; RFC 9700 §2.1, §4.1.3).
 *
 * Validation runs on the raw string first and on the WHATWG URL parser second. The raw
 * checks matter because the parser silently repairs what an attacker sends: it drops an
 * empty `#` and an empty `:@` userinfo, resolves `%2e%2e` segments, maps full-width
 * digits and accepts `https:evil.com` as `https://evil.com/`.
 *
 * Matching is byte equality, with one exception: an `http` URI on a loopback host may
 * differ in its port (RFC 8252 §7.3). No normalization of any kind.
 *
 * @module
 */

/** The longest redirect URI flowgate accepts, in characters (RFC 7591 §2 sets none; this bounds input, RFC 9700 §4.1). */
export const MAX_REDIRECT_URI_LENGTH = 2048;

/** The loopback hosts of RFC 8252 §7.3 (and `localhost`, see security-invariants §1.17-4), exactly as written. */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** The result of {@link checkRedirectUriForRegistration}; `reason` is a client-safe sentence for an RFC 7591 §3.2.2 `invalid_redirect_uri`. */
export type RedirectUriCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Schemes a browser would execute or read locally (RFC 9700 §4.1; fastmcp #4419). */
const UNSAFE_SCHEMES: ReadonlySet<string> = new Set(['javascript', 'data', 'file', 'vbscript', 'blob']);

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const CONTROL_FORMAT_OR_SPACE = /[\p{Cc}\p{Cf}\s]/u;
const NON_ASCII = /[^\x21-\x7e]/;
/** RFC 3986 §2: unreserved, reserved and `%`; nothing else may appear in a URI. */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
const MALFORMED_PERCENT = /%(?![0-9A-Fa-f]{2})/;
/** DNS labels (lowercase, `_` tolerated) or a dotted IPv4 address, as the URL parser serializes them. */
const DNS_NAME = /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)*$/;
const IPV6_LITERAL = /^\[[0-9a-f:.]+\]$/;
/** `http://` + a loopback host + an optional port, followed by the end or a path, query or fragment. */
const LOOPBACK_HTTP = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::([0-9]{1,5}))?(?=[/?#]|$)/;

const ok: RedirectUriCheck = Object.freeze({ ok: true });
function fail(reason: string): RedirectUriCheck {
  return { ok: false, reason };
}

/** Percent-decodes repeatedly until nothing changes, so `%252e` is seen as `.` too. */
function decodeFully(segment: string): string {
  let current = segment;
  for (;;) {
    const next = current.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (next === current) return current;
    current = next;
  }
}

/** True if any segment of a raw path is `.` or `..`, raw or percent-encoded (fastmcp #3963). */
function hasDotSegment(rawPath: string): boolean {
  return rawPath
    .split('/')
    .some((segment) => decodeFully(segment).split(/[/\\]/).some((piece) => piece === '.' || piece === '..'));
}

/** Splits the part after `scheme:` into its raw authority (if `//` follows) and raw path. */
function splitHierarchy(rest: string): { authority: string | undefined; path: string } {
  let authority: string | undefined;
  let tail = rest;
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/?]/);
    authority = end === -1 ? rest.slice(2) : rest.slice(2, 2 + end);
    tail = rest.slice(2 + authority.length);
  }
  const query = tail.indexOf('?');
  return { authority, path: query === -1 ? tail : tail.slice(0, query) };
}

/** The raw host and the rest after the port of an `http` loopback URI, or `undefined`. */
function loopbackParts(uri: string): { host: string; rest: string } | undefined {
  const match = LOOPBACK_HTTP.exec(uri);
  if (match === null) return undefined;
  const port = match[2];
  if (port !== undefined && (!/^(?:0|[1-9][0-9]*)$/.test(port) || Number(port) > 65535)) return undefined;
  return { host: match[1]!, rest: uri.slice(match[0].length) };
}

function checkWebUri(scheme: 'http' | 'https', authority: string | undefined, url: URL): RedirectUriCheck {
  if (authority === undefined) return fail(`an ${scheme} redirect URI must start with ${scheme}://`);
  if (authority === '' || url.hostname === '') return fail('the redirect URI has no host');
  // The raw authority must already be what the parser produces: this rejects upper case,
  // `127.1`, `0x7f.0.0.1`, `127.0.0.%31`, `[0:0::1]`, a trailing dot and an empty or padded port.
  const defaultPort = scheme === 'https' ? '443' : '80';
  if (authority !== url.host && !(url.port === '' && authority === `${url.hostname}:${defaultPort}`)) {
    return fail('the host and port of the redirect URI must be in canonical form (lowercase, no empty or padded port)');
  }
  if (!DNS_NAME.test(url.hostname) && !IPV6_LITERAL.test(url.hostname)) {
    return fail('the host of the redirect URI is not a valid DNS name or IP address');
  }
  if (scheme === 'http' && !LOOPBACK_HOSTS.has(url.hostname)) {
    return fail('http redirect URIs are allowed only on the loopback hosts 127.0.0.1, [::1] and localhost; use https');
  }
  return ok;
}

/**
 * Whether a client may register `uri` as a redirect URI (OAuth 2.1 §2.3, §2.3.1; RFC 8252
 * §7.1, §7.3; RFC 9700 §2.6; RFC 7591 §2). Accepted: `https` on any host, `http` on a
 * loopback host only, or a private-use scheme in reverse-domain style: the scheme contains a
 * period (`com.example.app:/cb`), or the authority does (`cursor://anysphere.cursor-mcp/cb`,
 * as Cursor and VS Code register).
 * Rejected: unsafe schemes, fragments (even `#`), userinfo (even `:@`), raw or
 * percent-encoded dot segments, whitespace and control characters anywhere, backslashes,
 * `https:host` without `//`, non-canonical hosts, and anything over 2048 characters.
 *
 * @example
 * ```ts
 * checkRedirectUriForRegistration('http://127.0.0.1:53682/callback'); // { ok: true }
 * checkRedirectUriForRegistration('http://localhost.evil.com/cb');    // { ok: false, reason: 'http redirect URIs are allowed only…' }
 * ```
 */
export function checkRedirectUriForRegistration(uri: string): RedirectUriCheck {
  if (typeof uri !== 'string' || uri.length === 0) return fail('the redirect URI is empty');
  if (uri.length > MAX_REDIRECT_URI_LENGTH) return fail('the redirect URI is longer than 2048 characters');
  if (CONTROL_FORMAT_OR_SPACE.test(uri)) return fail('the redirect URI contains whitespace or a control character');
  if (NON_ASCII.test(uri)) {
    return fail('the redirect URI contains a character outside printable ASCII; use percent-encoding or punycode');
  }
  const schemeMatch = SCHEME.exec(uri);
  if (schemeMatch === null) return fail('the redirect URI must be absolute, starting with a scheme');
  const scheme = schemeMatch[1]!;
  if (UNSAFE_SCHEMES.has(scheme.toLowerCase())) return fail('the redirect URI uses a forbidden scheme');
  if (scheme !== scheme.toLowerCase()) return fail('the scheme of the redirect URI must be lowercase');
  if (uri.includes('\\')) return fail('the redirect URI contains a backslash');
  if (uri.includes('#')) return fail('the redirect URI must not contain a fragment');
  if (!URI_CHARACTERS.test(uri)) return fail('the redirect URI contains a character that is not allowed in a URI');
  if (MALFORMED_PERCENT.test(uri)) return fail('the redirect URI contains a malformed percent-encoding');

  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return fail('the redirect URI could not be parsed');
  }
  const { authority, path } = splitHierarchy(uri.slice(scheme.length + 1));
  if (authority?.includes('@') || url.username !== '' || url.password !== '') {
    return fail('the redirect URI must not contain user information');
  }
  if (hasDotSegment(path)) return fail('the redirect URI must not contain . or .. path segments');

  if (scheme === 'https' || scheme === 'http') return checkWebUri(scheme, authority, url);
  if (!scheme.includes('.') && !(authority ?? '').includes('.')) {
    return fail('a private-use redirect URI must name a domain, as in com.example.app:/cb or app://example.app/cb (RFC 8252 section 7.1)');
  }
  return ok;
}

/**
 * Whether `requested` matches the `registered` redirect URI (OAuth 2.1 §4.1.1; RFC 8252
 * §7.3; RFC 9700 §4.1.3): byte-equal, or both `http` on the *same* loopback host and equal
 * once the port is removed. No case folding, no normalization, no cross-host matching;
 * path and query must be identical.
 *
 * @example
 * ```ts
 * redirectUriMatches('http://127.0.0.1/cb', 'http://127.0.0.1:53682/cb'); // true
 * redirectUriMatches('http://127.0.0.1/cb', 'http://localhost/cb');       // false
 * redirectUriMatches('https://app.example/cb', 'https://app.example/Cb');  // false
 * ```
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  const left = loopbackParts(registered);
  const right = loopbackParts(requested);
  return left !== undefined && right !== undefined && left.host === right.host && left.rest === right.rest;
}

/**
 * Whether `uri` is an acceptable `http` redirect URI on a loopback host (RFC 8252 §7.3),
 * the kind to which an automatic redirect is low-risk (security-invariants §2.B item 13).
 * `https` URIs are never loopback redirects in this sense.
 */
export function isLoopbackRedirect(uri: string): boolean {
  return loopbackParts(uri) !== undefined && checkRedirectUriForRegistration(uri).ok;
}

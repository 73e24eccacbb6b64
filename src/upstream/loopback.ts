/**
 * Which upstream URLs may use plain `http:`: loopback hosts only (RFC 8252 §8.3 treats them
 * as the one place where TLS is not needed; tests run the IdP on http://127.0.0.1).
 * Everything else must be `https:`.
 *
 * @module
 */

const IPV4_LOOPBACK = /^127(?:\.\d{1,3}){3}$/;

/** True for `localhost`, `127.0.0.0/8` and `[::1]` (RFC 6761 §6.3, RFC 5735, RFC 4291). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || host === '::1' || IPV4_LOOPBACK.test(host);
}

/** Why an upstream URL is not acceptable, or `undefined` when it is. */
export function upstreamUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  // RFC 6749 §3.1, §3.2: endpoint URIs carry no fragment; credentials never go in a URL.
  if (url.hash !== '' || value.includes('#')) return 'must not contain a fragment';
  if (url.username !== '' || url.password !== '') return 'must not contain credentials';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return 'must be an https: URL';
  if (!isLoopbackHost(url.hostname)) {
    return 'http: is allowed only for loopback hosts (127.0.0.1, [::1], localhost); use https:';
  }
  return undefined;
}

/**
 * oauth4webapi's `allowInsecureRequests` may be turned on only when every upstream URL is a
 * loopback URL; otherwise oauth4webapi keeps enforcing `https:` itself.
 */
export function allLoopback(urls: Iterable<string>): boolean {
  for (const value of urls) {
    if (!URL.canParse(value) || !isLoopbackHost(new URL(value).hostname)) return false;
  }
  return true;
}

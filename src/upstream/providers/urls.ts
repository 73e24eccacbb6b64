/**
 * URL helpers of the presets: a provider's origin from a `domain` option, a base URL
 * without its trailing slashes.
 *
 * @module
 */

/**
 * The origin of a `domain` option: a host name (`dev-123.okta.com`, `login.example.com:8443`),
 * which means `https:`, or an absolute URL's origin (`http://127.0.0.1:8080` for a loopback
 * test IdP; the URL checks then refuse plain http elsewhere). `undefined` when it is neither.
 *
 * @example
 * ```ts
 * domainOrigin('tenant.eu.auth0.com'); // 'https://tenant.eu.auth0.com'
 * domainOrigin('http://127.0.0.1:5556'); // 'http://127.0.0.1:5556'
 * ```
 */
export function domainOrigin(domain: string | undefined): string | undefined {
  if (domain === undefined) return undefined;
  const value = /^[a-z][a-z0-9+.-]*:\/\//i.test(domain) ? domain : `https://${domain}`;
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  const bare = (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
  return bare && !value.includes('#') ? url.origin : undefined;
}

/** Why a `domain` option is unusable, or `undefined`. */
export function domainProblem(domain: string | undefined): string | undefined {
  if (domain === undefined) return undefined;
  return domainOrigin(domain) === undefined ? 'must be a host name such as `example.okta.com`, or an origin such as `https://login.example.com`' : undefined;
}

/** `value` without trailing slashes, or `undefined`. */
export function trimSlashes(value: string | undefined): string | undefined {
  return value?.replace(/\/+$/, '');
}

/** Why a base URL option (`baseUrl`) is unusable, or `undefined`: absolute, no query or fragment. */
export function baseUrlProblem(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!URL.canParse(value)) return 'must be an absolute URL';
  const url = new URL(value);
  if (url.search !== '' || url.hash !== '' || value.includes('#') || value.includes('?')) return 'must not have a query or fragment';
  return undefined;
}

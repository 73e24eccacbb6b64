/**
 * Operator-configured redirect URI patterns that further restrict what a client may
 * *register* (fastmcp `validate_redirect_uri`, with its bypasses closed; RFC 9700 §4.1.3
 * explains why pattern matching is dangerous, hence the narrow syntax).
 *
 * Syntax: `scheme://host[:port][/path-prefix]`.
 * - `host` is exact, or `*.example.com` for any subdomain (never the apex, never
 *   `evilexample.com`).
 * - `port` is `*` (any) or a number; when absent it is the scheme's default port, except on
 *   a loopback host, where it means any port (RFC 8252 §7.3).
 * - `path-prefix` matches on a segment boundary (`/cb` matches `/cb` and `/cb/x`, not
 *   `/cbx`); empty or `/` matches any path. The query is not compared.
 *
 * Matching runs on the WHATWG URL parser, after {@link checkRedirectUriForRegistration},
 * so `http://localhost:80@evil.com/cb` (host `evil.com`, with userinfo) never matches
 * `http://localhost:*`.
 *
 * @module
 */
import { FlowgateError } from '../errors/flowgate-error.js';
import { LOOPBACK_HOSTS, checkRedirectUriForRegistration } from './redirect-uri.js';

/** A parsed redirect URI pattern (restricting RFC 7591 §2 `redirect_uris`); build it with {@link parseRedirectPattern}. */
export interface RedirectPattern {
  /** The pattern as configured. */
  readonly source: string;
  /** Lowercase scheme, without `:`. */
  readonly scheme: string;
  /** Lowercase host; for a `*.` pattern, the suffix after `*.`. */
  readonly host: string;
  /** True for `*.host`: any subdomain of `host`, never `host` itself. */
  readonly subdomains: boolean;
  /** `*` for any port, a number, or `undefined` for the default (any port on a loopback host). */
  readonly port: number | '*' | undefined;
  /** The path prefix; `''` matches any path. */
  readonly pathPrefix: string;
}

/** A redirect URI pattern in the configuration is malformed (it could allow what RFC 9700 §4.1.3 warns about). */
export class RedirectPatternError extends FlowgateError {
  constructor(readonly pattern: string, reason: string) {
    super('ERR_REDIRECT_PATTERN', `invalid redirect URI pattern ${JSON.stringify(pattern)}: ${reason}`);
  }
}

const PATTERN = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\*\.)?(\[[0-9A-Fa-f:.]+\]|[^/:@?#\\[\]*]+)(?::(\*|[0-9]{1,5}))?(\/[^?#]*)?$/;
const DNS_NAME = /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)*$/;
const PATH_CHARACTERS = /^[A-Za-z0-9\-._~:/@!$&'()+,;=%]*$/;
const UNSAFE_SCHEMES: ReadonlySet<string> = new Set(['javascript', 'data', 'file', 'vbscript', 'blob']);
const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443 };

function isIpv4Like(host: string): boolean {
  return /^[0-9]+$/.test(host.split('.').at(-1) ?? '');
}

/** The canonical host the URL parser gives `host` under `scheme`, or `undefined` if it rejects it. */
function parsedHost(scheme: string, host: string): string | undefined {
  try {
    return new URL(`${scheme}://${host}/`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function checkHost(pattern: string, scheme: string, host: string, subdomains: boolean): void {
  if (host.startsWith('[')) {
    if (subdomains) throw new RedirectPatternError(pattern, '*. cannot be combined with an IP address');
    if (parsedHost(scheme, host) !== host) throw new RedirectPatternError(pattern, 'the IPv6 address is not in canonical form');
    return;
  }
  if (!DNS_NAME.test(host)) throw new RedirectPatternError(pattern, 'the host is not a valid DNS name or IP address');
  if (subdomains && isIpv4Like(host)) throw new RedirectPatternError(pattern, '*. must be followed by a DNS name');
  if ((scheme === 'http' || scheme === 'https') && parsedHost(scheme, host) !== host) {
    throw new RedirectPatternError(pattern, 'the host is not in canonical form (write IPv4 addresses as a.b.c.d)');
  }
}

/**
 * Parses and validates one configured pattern (fastmcp `matches_allowed_pattern`, made
 * strict). Throws {@link RedirectPatternError} with a clear message for anything else,
 * including patterns that could never match a registrable URI (`http` on a non-loopback
 * host, unsafe schemes, private-use schemes without a period, RFC 8252 §7.1, §7.3).
 *
 * @example
 * ```ts
 * parseRedirectPattern('https://*.example.com/oauth'); // { scheme: 'https', host: 'example.com', subdomains: true, … }
 * ```
 */
export function parseRedirectPattern(pattern: string): RedirectPattern {
  if (typeof pattern !== 'string' || pattern.length === 0) throw new RedirectPatternError(String(pattern), 'it is empty');
  if (/[^\x21-\x7e]/.test(pattern)) {
    throw new RedirectPatternError(pattern, 'it contains whitespace, a control character or non-ASCII text');
  }
  const match = PATTERN.exec(pattern);
  if (match === null) {
    throw new RedirectPatternError(
      pattern,
      'expected scheme://host[:port][/path-prefix], where host may start with *. and port may be *; no userinfo, query or fragment',
    );
  }
  const scheme = match[1]!.toLowerCase();
  const subdomains = match[2] !== undefined;
  const host = match[3]!.toLowerCase();
  const rawPort = match[4];
  const path = match[5] ?? '';

  if (UNSAFE_SCHEMES.has(scheme)) throw new RedirectPatternError(pattern, `the ${scheme} scheme is never allowed`);
  if (scheme !== 'http' && scheme !== 'https' && !scheme.includes('.')) {
    throw new RedirectPatternError(pattern, 'a private-use scheme must contain a period (RFC 8252 section 7.1)');
  }
  checkHost(pattern, scheme, host, subdomains);
  if (scheme === 'http' && (subdomains || !LOOPBACK_HOSTS.has(host))) {
    throw new RedirectPatternError(pattern, 'http is only allowed on 127.0.0.1, [::1] and localhost');
  }

  let port: RedirectPattern['port'];
  if (rawPort === '*') port = '*';
  else if (rawPort !== undefined) {
    port = Number(rawPort);
    if (port > 65535) throw new RedirectPatternError(pattern, 'the port is above 65535');
  }

  if (!PATH_CHARACTERS.test(path) || /%(?![0-9A-Fa-f]{2})/.test(path)) {
    throw new RedirectPatternError(pattern, 'the path prefix may not contain wildcards or characters outside a URI path');
  }
  const probe = `https://x.invalid${path}`;
  if (path !== '' && !checkRedirectUriForRegistration(probe).ok) {
    throw new RedirectPatternError(pattern, 'the path prefix may not contain . or .. segments');
  }
  const pathPrefix = path === '/' ? '' : path;
  return Object.freeze({ source: pattern, scheme, host, subdomains, port, pathPrefix });
}

function hostMatches(host: string, pattern: RedirectPattern): boolean {
  if (!pattern.subdomains) return host === pattern.host;
  const suffix = `.${pattern.host}`;
  return host.length > suffix.length && host.endsWith(suffix);
}

function portMatches(url: URL, pattern: RedirectPattern): boolean {
  if (pattern.port === '*') return true;
  if (pattern.port === undefined) {
    // RFC 8252 §7.3: a loopback pattern without a port accepts the client's ephemeral port.
    if (!pattern.subdomains && LOOPBACK_HOSTS.has(pattern.host)) return true;
    return url.port === ''; // the parser drops an explicit default port
  }
  const effective = url.port === '' ? DEFAULT_PORTS[pattern.scheme] : Number(url.port);
  return effective === pattern.port;
}

function pathMatches(path: string, prefix: string): boolean {
  if (prefix === '') return true;
  return path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
}

/**
 * Whether `uri` is registrable and matches `pattern` (a string is parsed first, and throws
 * if invalid). A URI that fails {@link checkRedirectUriForRegistration}, or has userinfo,
 * never matches. Scheme, host and port come from the WHATWG URL parser, never from the
 * raw text (RFC 9700 §4.1.3).
 */
export function matchesRedirectPattern(uri: string, pattern: RedirectPattern | string): boolean {
  const parsed = typeof pattern === 'string' ? parseRedirectPattern(pattern) : pattern;
  if (!checkRedirectUriForRegistration(uri).ok) return false;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '') return false;
  if (url.protocol !== `${parsed.scheme}:`) return false;
  return (
    hostMatches(url.hostname.toLowerCase(), parsed) && portMatches(url, parsed) && pathMatches(url.pathname, parsed.pathPrefix)
  );
}

/** Whether `uri` matches at least one pattern; an empty list matches nothing (fastmcp §9.2). */
export function matchesAnyRedirectPattern(uri: string, patterns: readonly (RedirectPattern | string)[]): boolean {
  return patterns.some((pattern) => matchesRedirectPattern(uri, pattern));
}

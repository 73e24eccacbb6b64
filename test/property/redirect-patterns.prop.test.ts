/**
 * Properties of operator redirect URI patterns: a pattern never matches a URI whose real
 * host (per the WHATWG URL parser) breaks the pattern's host rule, nor one with userinfo,
 * and the rules it does promise (any subdomain, any loopback port) really hold.
 *
 * Mutation check, done once by hand: each protection was removed from
 * src/oauth/redirect-patterns.ts, the properties run, the failure seen, and the code restored.
 * - `hostMatches` using `host.endsWith(pattern.host)` (no leading dot): "any subdomain …
 *   never a look-alike" failed on `https://a0example.com` against `https://*.example.com`.
 * - `hostMatches` also accepting the apex: the same property failed on `https://example.com`.
 * - matcher ignoring userinfo (registration check run on the URI with its userinfo
 *   stripped, username/password test removed): "never matches outside the host rule …"
 *   failed on `https://a@a.b.example.com/oauth/cb` against `https://*.example.com:*` with the
 *   path prefix `/oauth`.
 * - registration check and userinfo test both removed: the same property failed on
 *   `http://localhost:` (empty port) against `http://localhost:*`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesRedirectPattern, parseRedirectPattern } from '../../src/oauth/redirect-patterns.js';
import { checkRedirectUriForRegistration } from '../../src/oauth/redirect-uri.js';
import { LOOPBACK, path, query } from './redirect-arbitraries.js';

const RUNS = { numRuns: 3000 };

const PATTERNS = [
  'http://localhost:*',
  'http://localhost',
  'http://127.0.0.1/cb',
  'http://[::1]:8080',
  'https://*.example.com',
  'https://*.example.com:*/oauth',
  'https://example.com',
  'https://app.example.com:8443/cb',
  'com.example.app://callback',
] as const;

/** The host rule of a pattern string, parsed by hand (independently of the implementation). */
function hostRule(pattern: string): (hostname: string) => boolean {
  const host = /^[^:]+:\/\/(\[[^\]]+\]|[^/:]+)/.exec(pattern)![1]!.toLowerCase();
  if (host.startsWith('*.')) {
    const suffix = host.slice(1);
    return (h) => h.length > suffix.length && h.endsWith(suffix);
  }
  return (h) => h === host;
}

const trickyUri = fc
  .tuple(
    fc.constantFrom('http://', 'https://', 'HTTP://', 'https:', 'com.example.app://', 'javascript://'),
    fc.constantFrom('', '', '', 'a@', ':@', 'localhost:80@', 'app.example.com@', 'localhost@'),
    fc.constantFrom(
      'localhost', 'LOCALHOST', '127.0.0.1', '[::1]', '127.1', 'localhost.evil.com', 'example.com', 'app.example.com',
      'a.b.example.com', 'APP.example.com', 'evilexample.com', 'example.com.evil.com', 'app.example.com.evil.com',
      'evil.com\\@app.example.com', 'evil.com#@app.example.com', 'evil.com?@app.example.com', 'callback', 'Callback',
    ),
    fc.constantFrom('', '', ':80', ':443', ':8080', ':8443', ':53682', ':', ':8080@evil.com'),
    fc.constantFrom('', '/', '/cb', '/cbx', '/cb/x', '/oauth', '/oauth/cb', '/oauth/../x', '/cb/%2e%2e/x'),
    fc.constantFrom('', '', '?x=1', '?@evil.com', '#', '#@evil.com'),
  )
  .map((parts) => parts.join(''));

describe('matchesRedirectPattern', () => {
  it('never matches outside the host rule, with userinfo, or a URI that may not be registered', () => {
    fc.assert(
      fc.property(trickyUri, fc.constantFrom(...PATTERNS), (uri, pattern) => {
        if (!matchesRedirectPattern(uri, pattern)) return;
        expect(checkRedirectUriForRegistration(uri).ok).toBe(true);
        const url = new URL(uri);
        expect(url.username + url.password).toBe('');
        expect(uri).not.toMatch(/^[^:]*:\/\/[^/?]*@/);
        expect(hostRule(pattern)(url.hostname.toLowerCase())).toBe(true);
        expect(url.protocol).toBe(`${pattern.slice(0, pattern.indexOf(':'))}:`);
      }),
      RUNS,
    );
  });

  // `xx--` labels are reserved for IDNA (`xn--` is punycode, which the URL parser decodes and may reject).
  const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,6}[a-z0-9]$/).filter((l) => !/^..--/.test(l));

  it('matches any subdomain (any depth) and never the apex or a look-alike', () => {
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 3 }), label, path, query, (labels, prefix, p, q) => {
        const pattern = parseRedirectPattern('https://*.example.com');
        expect(matchesRedirectPattern(`https://${labels.join('.')}.example.com${p}${q}`, pattern)).toBe(true);
        expect(matchesRedirectPattern(`https://example.com${p}${q}`, pattern)).toBe(false);
        expect(matchesRedirectPattern(`https://${prefix}example.com${p}${q}`, pattern)).toBe(false);
        expect(matchesRedirectPattern(`https://${labels.join('.')}.example.com.${prefix}.com${p}${q}`, pattern)).toBe(false);
      }),
      RUNS,
    );
  });

  it('lets a loopback pattern without a port match every port, and only on the same host', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LOOPBACK),
        fc.constantFrom(...LOOPBACK),
        fc.integer({ min: 1, max: 65535 }),
        path,
        (patternHost, uriHost, port, p) => {
          const matched = matchesRedirectPattern(`http://${uriHost}:${port}${p}`, `http://${patternHost}`);
          expect(matched).toBe(patternHost === uriHost);
        },
      ),
      RUNS,
    );
  });

  it('holds a non-loopback pattern without a port to the default port', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), (port) => {
        expect(matchesRedirectPattern(`https://example.com:${port}/cb`, 'https://example.com')).toBe(port === 443);
      }),
      RUNS,
    );
  });

  it('matches a path prefix only on a segment boundary', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,6}$/);
    fc.assert(
      fc.property(segment, segment, fc.boolean(), (prefix, next, slash) => {
        const pattern = `https://example.com/${prefix}`;
        const uriPath = slash ? `/${prefix}/${next}` : `/${prefix}${next}`;
        expect(matchesRedirectPattern(`https://example.com${uriPath}`, pattern)).toBe(slash);
      }),
      RUNS,
    );
  });
});

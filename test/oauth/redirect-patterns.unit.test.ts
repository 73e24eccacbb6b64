/**
 * Operator redirect URI patterns: parsing, and matching on the real URL parser (the
 * fastmcp `matches_allowed_pattern` acceptance cases, with its bypasses closed).
 */
import { describe, expect, it } from 'vitest';
import {
  RedirectPatternError,
  matchesAnyRedirectPattern,
  matchesRedirectPattern,
  parseRedirectPattern,
} from '../../src/oauth/redirect-patterns.js';

describe('parseRedirectPattern', () => {
  it('parses scheme, host, wildcard, port and path prefix, lower-casing scheme and host', () => {
    expect(parseRedirectPattern('HTTPS://*.Example.com:*/OAuth/cb')).toStrictEqual({
      source: 'HTTPS://*.Example.com:*/OAuth/cb',
      scheme: 'https',
      host: 'example.com',
      subdomains: true,
      port: '*',
      pathPrefix: '/OAuth/cb',
    });
    expect(parseRedirectPattern('http://localhost')).toMatchObject({ host: 'localhost', port: undefined, pathPrefix: '' });
    expect(parseRedirectPattern('http://[::1]:8080/')).toMatchObject({ host: '[::1]', port: 8080, pathPrefix: '' });
    expect(parseRedirectPattern('com.example.app://callback')).toMatchObject({ scheme: 'com.example.app', host: 'callback' });
  });

  it('returns a frozen value', () => {
    expect(Object.isFrozen(parseRedirectPattern('https://example.com'))).toBe(true);
  });

  it.each([
    ['', 'empty'],
    ['example.com', 'expected scheme://host'],
    ['https://', 'expected scheme://host'],
    ['https://*', 'expected scheme://host'],
    ['https://*.', 'expected scheme://host'],
    ['https://a.*.com', 'expected scheme://host'],
    ['https://*example.com', 'expected scheme://host'],
    ['https://u@example.com', 'expected scheme://host'],
    ['https://example.com/cb?x=1', 'expected scheme://host'],
    ['https://example.com/cb#x', 'expected scheme://host'],
    ['https://example.com:', 'expected scheme://host'],
    ['https://example.com:abc', 'expected scheme://host'],
    ['https://example.com:70000', 'above 65535'],
    ['https://example.com/cb*', 'wildcards'],
    ['https://example.com/c b', 'whitespace'],
    ['https://example.com/../x', '. or ..'],
    ['https://example.com/%2e%2E/x', '. or ..'],
    ['https://example.com/a%zz', 'characters outside'],
    ['http://example.com', 'http is only allowed'],
    ['http://*.localhost', 'http is only allowed'],
    ['http://127.0.0.2:*', 'http is only allowed'],
    ['javascript://x', 'never allowed'],
    ['cursor://callback', 'period'],
    ['https://127.1', 'canonical'],
    ['https://*.0.0.1', 'DNS name'],
    ['https://[::1', 'expected scheme://host'],
    ['https://*.[::1]', 'cannot be combined with an IP address'],
    ['https://ex_ample-.com', 'DNS name'],
  ])('rejects %j (%s)', (pattern, message) => {
    expect(() => parseRedirectPattern(pattern)).toThrow(RedirectPatternError);
    expect(() => parseRedirectPattern(pattern)).toThrow(message);
  });

  it('names the pattern and carries a stable code', () => {
    try {
      parseRedirectPattern('http://evil.com');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RedirectPatternError);
      expect((error as RedirectPatternError).code).toBe('ERR_REDIRECT_PATTERN');
      expect((error as Error).message).toContain('"http://evil.com"');
    }
  });
});

describe('matchesRedirectPattern', () => {
  it.each([
    // exact
    ['https://example.com/cb', 'https://example.com/cb', true],
    ['https://example.com/cb', 'https://other.com/cb', false],
    ['https://example.com/cb', 'https://example.com', true],
    // scheme
    ['http://localhost:3000/cb', 'https://localhost', false],
    ['https://localhost:3000/cb', 'http://localhost', false],
    // port wildcard and explicit ports
    ['http://localhost:3000/cb', 'http://localhost:*', true],
    ['http://localhost/cb', 'http://localhost:*', true],
    ['https://example.com:8443/cb', 'https://example.com:*', true],
    ['https://example.com:8443/cb', 'https://example.com:8443', true],
    ['https://example.com:8444/cb', 'https://example.com:8443', false],
    ['https://example.com/cb', 'https://example.com:443', true],
    ['https://example.com:443/cb', 'https://example.com:443', true],
    // absent port: the default, except on loopback
    ['https://example.com/cb', 'https://example.com', true],
    ['https://example.com:443/cb', 'https://example.com', true],
    ['https://example.com:8443/cb', 'https://example.com', false],
    ['http://localhost:53682/cb', 'http://localhost', true],
    ['http://127.0.0.1:53682/callback', 'http://127.0.0.1/callback', true],
    ['http://[::1]:1024/callback', 'http://[::1]/callback', true],
    ['http://localhost:3001/cb', 'http://localhost:3000', false],
    ['http://127.0.0.1:3000/cb', 'http://localhost', false],
    ['http://localhost:3000/cb', 'http://127.0.0.1', false],
    ['http://127.0.0.1:3000/other', 'http://127.0.0.1/callback', false],
    // subdomain wildcard: never the apex, never a suffix trick
    ['https://app.example.com/cb', 'https://*.example.com', true],
    ['https://a.b.example.com/cb', 'https://*.example.com', true],
    ['https://example.com/cb', 'https://*.example.com', false],
    ['https://evilexample.com/cb', 'https://*.example.com', false],
    ['https://example.com.evil.com/cb', 'https://*.example.com', false],
    ['https://app.example.com.evil.com/cb', 'https://*.example.com', false],
    ['https://app.example.co/cb', 'https://*.example.com', false],
    ['https://app.example.com:8443/cb', 'https://*.example.com', false],
    ['https://app.example.com:8443/cb', 'https://*.example.com:*', true],
    // path prefix on a segment boundary
    ['https://example.com/cb', 'https://example.com/cb', true],
    ['https://example.com/cb/x', 'https://example.com/cb', true],
    ['https://example.com/cbx', 'https://example.com/cb', false],
    ['https://example.com/Cb', 'https://example.com/cb', false],
    ['https://example.com/', 'https://example.com/cb', false],
    ['https://example.com/cb', 'https://example.com/cb/', false],
    ['https://example.com/cb/', 'https://example.com/cb/', true],
    ['https://example.com/cb/x', 'https://example.com/cb/', true],
    ['https://example.com/anything/at/all?q=1', 'https://example.com/', true],
    ['https://example.com/cb?next=/admin', 'https://example.com/cb', true],
    // userinfo and parser tricks never match
    ['http://localhost:80@evil.com/cb', 'http://localhost:*', false],
    ['http://localhost@evil.com/cb', 'http://localhost', false],
    ['http://a@localhost/cb', 'http://localhost', false],
    ['http://:@localhost/cb', 'http://localhost', false],
    ['https://app.example.com@evil.com/cb', 'https://*.example.com', false],
    ['https://evil.com\\@app.example.com/cb', 'https://*.example.com', false],
    ['https://evil.com#@app.example.com/cb', 'https://*.example.com', false],
    ['https://evil.com?@app.example.com/cb', 'https://*.example.com', false],
    ['https:app.example.com/cb', 'https://*.example.com', false],
    ['https://APP.example.com/cb', 'https://*.example.com', false],
    ['http://localhost.evil.com:3000/cb', 'http://localhost:*', false],
    ['http://localhost:3000/cb/../../evil', 'http://localhost:*/cb', false],
    ['http://localhost:3000/cb/%2e%2e/evil', 'http://localhost:*/cb', false],
    ['http://localhost:3000/cb#frag', 'http://localhost:*', false],
    ['javascript://localhost/%0Aalert(1)', 'http://localhost:*', false],
    // private-use schemes with an authority
    ['com.example.app://callback/x', 'com.example.app://callback', true],
    ['com.example.app://Callback/x', 'com.example.app://callback', true],
    ['com.example.app://other/x', 'com.example.app://callback', false],
    ['com.example.app:/callback', 'com.example.app://callback', false],
  ])('%j against %j → %s', (uri, pattern, expected) => {
    expect(matchesRedirectPattern(uri, pattern)).toBe(expected);
  });

  it('accepts a parsed pattern as well as a string', () => {
    const pattern = parseRedirectPattern('http://localhost:*');
    expect(matchesRedirectPattern('http://localhost:1234/cb', pattern)).toBe(true);
  });

  it('throws for an invalid pattern string', () => {
    expect(() => matchesRedirectPattern('https://example.com/cb', 'https://*')).toThrow(RedirectPatternError);
  });
});

describe('matchesAnyRedirectPattern', () => {
  const patterns = ['http://localhost:*', 'http://127.0.0.1:*', 'https://*.example.com/oauth'];

  it('is true when one pattern matches', () => {
    expect(matchesAnyRedirectPattern('http://127.0.0.1:8000/cb', patterns)).toBe(true);
    expect(matchesAnyRedirectPattern('https://a.example.com/oauth/cb', patterns)).toBe(true);
  });

  it('is false when none matches', () => {
    expect(matchesAnyRedirectPattern('https://example.com/oauth/cb', patterns)).toBe(false);
    expect(matchesAnyRedirectPattern('http://[::1]:8000/cb', patterns)).toBe(false);
  });

  it('matches nothing with an empty list', () => {
    expect(matchesAnyRedirectPattern('http://localhost:3000/cb', [])).toBe(false);
  });
});

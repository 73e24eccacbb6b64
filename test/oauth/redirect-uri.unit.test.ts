/**
 * Redirect URI registration hygiene (security-invariants §2.A item 1) and the exact-match
 * rule with the loopback-port exception (§2.B item 7), as example tables.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_REDIRECT_URI_LENGTH,
  checkRedirectUriForRegistration,
  isLoopbackRedirect,
  redirectUriMatches,
} from '../../src/oauth/redirect-uri.js';

function reasonOf(uri: string): string | undefined {
  const result = checkRedirectUriForRegistration(uri);
  return result.ok ? undefined : result.reason;
}

describe('checkRedirectUriForRegistration: accepted', () => {
  it.each([
    'https://app.example.com/oauth/callback',
    'https://app.example.com/cb?tenant=a&x=1',
    'https://example.com',
    'https://example.com:8443/cb',
    'https://example.com:443/cb',
    'https://xn--bcher-kva.example/cb',
    'https://192.0.2.10/cb',
    'https://[2001:db8::1]/cb',
    'https://app.example.com/a%2Fb/c',
    'https://app.example.com/x?next=../y',
    'http://127.0.0.1/cb',
    'http://127.0.0.1:53682/callback',
    'http://[::1]:1024/cb',
    'http://localhost/cb',
    'http://localhost:8080',
    'com.example.app:/oauth2redirect',
    'com.example.app://callback/path',
    'dev.cursor://anysphere.cursor-mcp/oauth/callback',
    'cursor://anysphere.cursor-mcp/oauth/callback',
    'vscode://vscode.github-authentication/did-authenticate',
  ])('%s', (uri) => {
    expect(checkRedirectUriForRegistration(uri)).toStrictEqual({ ok: true });
  });
});

describe('checkRedirectUriForRegistration: rejected', () => {
  it.each([
    // unsafe schemes under any casing, padding or encoding
    ['javascript:alert(1)', 'forbidden scheme'],
    ['JaVaScRiPt:alert(1)', 'forbidden scheme'],
    [' javascript:alert(1)', 'whitespace or a control character'],
    ['javascript :alert(1)', 'whitespace or a control character'],
    ['java\tscript:alert(1)', 'whitespace or a control character'],
    ['java\nscript:alert(1)', 'whitespace or a control character'],
    ['\u0000javascript:alert(1)', 'whitespace or a control character'],
    ['%6Aavascript:alert(1)', 'absolute'],
    ['javascript%3Aalert(1)', 'absolute'],
    ['javascript://example.com/%0Aalert(1)', 'forbidden scheme'],
    ['data:text/html,<script>alert(1)</script>', 'forbidden scheme'],
    ['DATA:text/html;base64,PHNjcmlwdD4=', 'forbidden scheme'],
    ['file:///etc/passwd', 'forbidden scheme'],
    ['vbscript:msgbox(1)', 'forbidden scheme'],
    ['blob:https://example.com/uuid', 'forbidden scheme'],
    // not absolute
    ['/cb', 'absolute'],
    ['//example.com/cb', 'absolute'],
    ['example.com/cb', 'absolute'],
    [':/invalid.uri)bar', 'absolute'],
    ['', 'empty'],
    // https:host and friends
    ['https:evil.com', 'must start with https://'],
    ['https:/evil.com/cb', 'must start with https://'],
    ['http:127.0.0.1/cb', 'must start with http://'],
    ['https:///evil.com', 'no host'],
    // http only on loopback
    ['http://example.com/cb', 'loopback'],
    ['http://localhost.evil.com/cb', 'loopback'],
    ['http://127.0.0.2/cb', 'loopback'],
    ['http://127.0.0.1.nip.io/cb', 'loopback'],
    ['http://[::2]/cb', 'loopback'],
    ['http://localhost./cb', 'DNS name'],
    ['http://foo.localhost/cb', 'loopback'],
    // case and canonical form
    ['HTTP://127.0.0.1/cb', 'lowercase'],
    ['Https://example.com/cb', 'lowercase'],
    ['http://LOCALHOST/cb', 'canonical'],
    ['https://Example.com/cb', 'canonical'],
    ['http://127.1/cb', 'canonical'],
    ['http://0x7f.0.0.1/cb', 'canonical'],
    ['http://2130706433/cb', 'canonical'],
    ['http://127.0.0.%31/cb', 'canonical'],
    ['http://127.0.0.1./cb', 'canonical'],
    ['http://[0:0:0:0:0:0:0:1]/cb', 'canonical'],
    ['http://127.0.0.1:/cb', 'canonical'],
    ['http://127.0.0.1:0080/cb', 'canonical'],
    ['http://\uff11\uff12\uff17.0.0.1/cb', 'printable ASCII'],
    ['https://*.example.com/cb', 'DNS name'],
    // fragments, even empty
    ['http://127.0.0.1/cb#', 'fragment'],
    ['https://example.com/cb#frag', 'fragment'],
    ['com.example.app:/cb#x', 'fragment'],
    // userinfo, even empty
    ['http://a@127.0.0.1/cb', 'user information'],
    ['http://:@127.0.0.1/cb', 'user information'],
    ['http://@127.0.0.1/cb', 'user information'],
    ['http://localhost:80@evil.com/cb', 'user information'],
    ['https://user:pass@example.com/cb', 'user information'],
    ['com.example.app://u@host/cb', 'user information'],
    // dot segments, raw or encoded in any case
    ['http://127.0.0.1/a/../b', '. or ..'],
    ['http://127.0.0.1/a/./b', '. or ..'],
    ['http://127.0.0.1/a/%2E%2e/b', '. or ..'],
    ['http://127.0.0.1/a/%2e/b', '. or ..'],
    ['https://example.com/cb/..', '. or ..'],
    ['https://example.com/cb/.%2E', '. or ..'],
    ['https://example.com/..%2fadmin', '. or ..'],
    ['https://example.com/..%2Fadmin', '. or ..'],
    ['https://example.com/%252e%252e/admin', '. or ..'],
    ['com.example.app:/cb/../x', '. or ..'],
    ['com.example.app:..', '. or ..'],
    // whitespace and control characters anywhere
    ['https://example.com/c b', 'whitespace'],
    ['https://example.com/cb ', 'whitespace'],
    ['https://example.com/cb\r\n', 'whitespace'],
    ['https://exam\u00adple.com/cb', 'whitespace or a control character'],
    ['https://example.com/\u200bcb', 'whitespace or a control character'],
    ['https://example.com/cb\u2028', 'whitespace or a control character'],
    ['https://example.com/cb\u007f', 'whitespace or a control character'],
    ['https://example.com/cb\u0085', 'whitespace or a control character'],
    ['https://example.com/caf\u00e9', 'printable ASCII'],
    // backslashes and characters outside RFC 3986
    ['https://example.com\\@evil.com/cb', 'backslash'],
    ['http://127.0.0.1\\evil.com/cb', 'backslash'],
    ['https://example.com/cb?x=<script>', 'not allowed in a URI'],
    ['https://example.com/cb?x="', 'not allowed in a URI'],
    ['https://example.com/%zz', 'percent-encoding'],
    ['https://example.com/%2', 'percent-encoding'],
    // private-use schemes need a period (RFC 8252 §7.1)
    ['cursor://callback', 'domain'],
    ['myapp:/cb', 'domain'],
    // length
    [`https://example.com/${'a'.repeat(MAX_REDIRECT_URI_LENGTH)}`, '2048'],
  ])('%j (%s)', (uri, reason) => {
    expect(reasonOf(uri)).toContain(reason);
  });

  it('accepts exactly 2048 characters and rejects 2049', () => {
    const base = 'https://example.com/';
    expect(checkRedirectUriForRegistration(base + 'a'.repeat(2048 - base.length)).ok).toBe(true);
    expect(checkRedirectUriForRegistration(base + 'a'.repeat(2049 - base.length)).ok).toBe(false);
  });

  it('gives reasons that are short sentences without quotes or the URI itself', () => {
    const uri = 'javascript:alert(document.cookie)';
    const reason = reasonOf(uri)!;
    expect(reason).not.toContain('alert');
    expect(reason).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]{10,120}$/);
  });
});

describe('redirectUriMatches', () => {
  it.each([
    // byte equality
    ['https://app.example.com/cb', 'https://app.example.com/cb', true],
    ['com.example.app:/cb', 'com.example.app:/cb', true],
    // fosite's table
    ['http://foo.com/cb', 'http://foo.com/Cb', false],
    ['https://foo.com/cb', 'https://foo.com/Cb', false],
    ['https://foo.com/cb', 'https://foo.com/cb?foo=bar', false],
    ['https://foo.com/cb?foo=bar', 'https://foo.com/cb?foo=baz', false],
    ['https://foo.com/cb', 'https://foo.com/cb/', false],
    ['https://foo.com/cb', 'https://foo.com/cb/x', false],
    ['https://bar.com/cb', 'http://bar.com/cb', false],
    ['http://[::1]/cb', 'http://[::1]:1024/cb', true],
    ['http://[::1]:1024/cb', 'http://[::1]/cb', true],
    ['http://[::1]', 'http://[::1]:1024', true],
    ['http://[::1]:8080/cb?foo=bar', 'http://[::1]:1024/cb?foo=baz', false],
    ['http://[::1]:8080/cb?foo=bar', 'http://[::1]:1024/cb?foo=bar', true],
    ['http://127.0.0.1:1024', 'http://127.0.0.1', true],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:53682/cb', true],
    ['http://localhost/cb', 'http://localhost:65535/cb', true],
    ['http://localhost/cb', 'http://localhost:0/cb', true],
    ['https://foo.com/cb', ':/invalid.uri)bar', false],
    [':/invalid.uri)bar', 'https://foo.com/cb', false],
    // no cross-host matching, no case folding, no normalization
    ['http://127.0.0.1/cb', 'http://localhost/cb', false],
    ['http://localhost:8080/cb', 'http://127.0.0.1:8080/cb', false],
    ['http://[::1]/cb', 'http://127.0.0.1/cb', false],
    ['http://127.0.0.1/cb', 'HTTP://127.0.0.1/cb', false],
    ['http://localhost/cb', 'http://LOCALHOST/cb', false],
    ['http://127.0.0.1/cb', 'http://127.0.0.1/Cb', false],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:8080/cb/', false],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:8080/cb#', false],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:8080/x/../cb', false],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:8080/%63b', false],
    ['https://example.com/cb', 'https://example.com:443/cb', false],
    ['https://localhost/cb', 'https://localhost:8443/cb', false],
    ['http://127.0.0.2/cb', 'http://127.0.0.2:8080/cb', false],
    // port tricks never reach another host
    ['http://localhost/cb', 'http://localhost:80@evil.com/cb', false],
    ['http://localhost:1/cb', 'http://localhost:1@evil.com/cb', false],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:/cb', false],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:99999/cb', false],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:65536/cb', false],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:080/cb', false],
    ['http://127.0.0.1/cb', 'http://127.0.0.1:8080.evil.com/cb', false],
    ['http://localhost/cb', 'http://localhost.evil.com/cb', false],
    ['http://localhost/cb', 'http://localhost\\@evil.com/cb', false],
  ])('%j vs %j → %s', (registered, requested, expected) => {
    expect(redirectUriMatches(registered, requested)).toBe(expected);
  });
});

describe('isLoopbackRedirect', () => {
  it.each([
    ['http://127.0.0.1/cb', true],
    ['http://127.0.0.1:53682/callback', true],
    ['http://[::1]:1024/cb', true],
    ['http://localhost/cb', true],
    ['https://localhost/cb', false],
    ['https://127.0.0.1/cb', false],
    ['http://localhost.evil.com/cb', false],
    ['http://localhost:80@evil.com/cb', false],
    ['http://127.0.0.2/cb', false],
    ['HTTP://127.0.0.1/cb', false],
    ['http://127.0.0.1/cb#', false],
    ['http://127.0.0.1\\@evil.com/cb', false],
    ['com.example.app:/cb', false],
  ])('%j → %s', (uri, expected) => {
    expect(isLoopbackRedirect(uri)).toBe(expected);
  });
});

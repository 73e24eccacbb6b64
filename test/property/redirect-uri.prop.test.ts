/**
 * Properties of redirect URI registration (security-invariants §2.A item 1) and matching
 * (§2.B item 7), checked against independent oracles.
 *
 * Mutation check, done once by hand: each protection was removed from
 * src/oauth/redirect-uri.ts, the properties run, the failure seen, and the code restored.
 * - `hasDotSegment` skipped: "dangerous mutants" failed on `https://a.com/.`, and the
 *   independent oracle on `https://example.com/.`.
 * - raw `authority?.includes('@')` dropped (parser's username/password only): "dangerous
 *   mutants" failed on `a.a.a://@a.com` (the parser reports no userinfo for a bare `@`).
 * - raw `#` test dropped: "dangerous mutants" failed on `a.a.a:/A#`, the oracle on
 *   `http://127.0.0.1?a=#a` (the parser reports an empty hash for a bare `#`).
 * - `left.host === right.host` dropped (cross-host loopback): "loopback pairs" failed on
 *   `http://127.0.0.1` vs `http://[::1]`.
 * - equality made case-insensitive: "pairs that differ in a few components" failed on
 *   `HTTP://127.0.0.1` vs `http://127.0.0.1`, "case mutants" on `hTtp://127.0.0.1`.
 * - Some checks are layered, so removing one alone changes only the reason and every
 *   property still passes: backslash (also outside the RFC 3986 character set), whitespace
 *   and controls (also non-ASCII / outside the set), `scheme://` (also the canonical
 *   authority check), unsafe schemes (also the private-use period rule). Removing each
 *   layer pair made the properties fail: backslash + charset on `https://a.com/~\_`;
 *   whitespace + ASCII + charset on `http://127.0.0.1?éa=` and on `com.example.app:` plus a newline;
 *   `scheme://` + canonical on `https:a.com` and `https://a.coM`; unsafe + period on
 *   `javascript:alert(1)`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRedirectUriForRegistration, isLoopbackRedirect, redirectUriMatches } from '../../src/oauth/redirect-uri.js';
import { LOOPBACK, dangerousMutant, render, validParts, webParts } from './redirect-arbitraries.js';
import type { UriParts } from './redirect-arbitraries.js';

const RUNS = { numRuns: 2000 };

/**
 * The oracle of §2.B item 7, written independently of the implementation: byte equality,
 * or `http` on the same loopback host with only a (valid) port differing.
 */
function oracleMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  const a = splitLoopback(registered);
  const b = splitLoopback(requested);
  return a !== undefined && b !== undefined && a.host === b.host && a.afterPort === b.afterPort;
}

function splitLoopback(uri: string): { host: string; afterPort: string } | undefined {
  for (const host of LOOPBACK) {
    const prefix = `http://${host}`;
    if (!uri.startsWith(prefix)) continue;
    let rest = uri.slice(prefix.length);
    if (rest.startsWith(':')) {
      const digits = /^:(\d+)/.exec(rest)?.[1];
      if (digits === undefined || !/^(0|[1-9]\d{0,4})$/.test(digits) || Number(digits) > 65535) return undefined;
      rest = rest.slice(1 + digits.length);
    }
    if (rest !== '' && !['/', '?', '#'].includes(rest[0]!)) return undefined;
    return { host, afterPort: rest };
  }
  return undefined;
}

// Small pools, so that generated pairs collide often and the interesting cases are hit.
const schemeSep = fc.constantFrom('http://', 'https://', 'HTTP://', 'http:', 'http:///', 'com.example.app://');
const userinfoPool = fc.constantFrom('', '', '', 'a@', ':@', 'localhost:1@');
const hostPool = fc.constantFrom('127.0.0.1', '[::1]', 'localhost', 'LOCALHOST', '127.0.0.2', 'localhost.evil.com', 'example.com', '[::2]', '127.1');
const portPool = fc.constantFrom('', '', ':80', ':1024', ':53682', ':0', ':65535', ':65536', ':080', ':', ':1024.evil.com');
const pathPool = fc.constantFrom('', '/', '/cb', '/Cb', '/cb/', '/a/../cb', '/%2e/cb', '/cb\\x', '\\cb');
const queryPool = fc.constantFrom('', '', '?foo=bar', '?foo=baz', '?a=1&b=2');
const fragmentPool = fc.constantFrom('', '', '', '#', '#x');
const pooledUri = fc
  .tuple(schemeSep, userinfoPool, hostPool, portPool, pathPool, queryPool, fragmentPool)
  .map((parts) => parts.join(''));

/** A second URI that differs from the first in a few components (often only the host, or only the port). */
const componentPools = [schemeSep, userinfoPool, hostPool, portPool, pathPool, queryPool, fragmentPool] as const;
const nearPair = fc
  .tuple(
    fc.tuple(...componentPools),
    fc.tuple(...componentPools),
    fc.array(fc.integer({ min: 0, max: 4 }).map((n) => n === 0), { minLength: 7, maxLength: 7 }),
  )
  .map(([base, alt, change]) => [base.join(''), base.map((part, i) => (change[i] ? alt[i]! : part)).join('')] as const);

/** Two `http` URIs on loopback or look-alike hosts, often with the same path, query and fragment. */
const loopbackishHost = fc.constantFrom(...LOOPBACK, '127.0.0.2', 'LOCALHOST', 'localhost.evil.com', '[::2]');
const rest = fc.tuple(pathPool, queryPool, fragmentPool).map((parts) => parts.join(''));
const loopbackPair = fc
  .tuple(loopbackishHost, loopbackishHost, portPool, portPool, rest, fc.option(rest, { nil: undefined }))
  .map(([h1, h2, p1, p2, r1, r2]) => [`http://${h1}${p1}${r1}`, `http://${h2}${p2}${r2 ?? r1}`] as const);

/** The same URI with only its port replaced (or added, or removed). */
const portVariant = fc.tuple(pooledUri, portPool).map(([uri, newPort]) => {
  const replaced = uri.replace(/^(http:\/\/(?:127\.0\.0\.1|\[::1\]|localhost))(:\d*)?/, `$1${newPort}`);
  return [uri, replaced] as const;
});

describe('redirectUriMatches', () => {
  it('matches exactly the oracle on pooled pairs', () => {
    fc.assert(
      fc.property(pooledUri, pooledUri, (registered, requested) => {
        expect(redirectUriMatches(registered, requested)).toBe(oracleMatches(registered, requested));
      }),
      RUNS,
    );
  });

  it('matches exactly the oracle on pairs that differ in a few components', () => {
    fc.assert(
      fc.property(nearPair, ([registered, requested]) => {
        expect(redirectUriMatches(registered, requested)).toBe(oracleMatches(registered, requested));
      }),
      RUNS,
    );
  });

  it('matches exactly the oracle on loopback pairs (same or different host, port and rest)', () => {
    fc.assert(
      fc.property(loopbackPair, ([registered, requested]) => {
        expect(redirectUriMatches(registered, requested)).toBe(oracleMatches(registered, requested));
      }),
      RUNS,
    );
  });

  it('matches exactly the oracle when only the port changes', () => {
    fc.assert(
      fc.property(portVariant, ([registered, requested]) => {
        expect(redirectUriMatches(registered, requested)).toBe(oracleMatches(registered, requested));
      }),
      RUNS,
    );
  });

  it('matches exactly the oracle on valid URIs and their port variants', () => {
    const pair = fc.oneof(
      fc.tuple(validParts.map(render), validParts.map(render)),
      fc.tuple(webParts, fc.integer({ min: 0, max: 65535 })).map(([p, n]) => {
        const host = (p.authority ?? '').replace(/:\d+$/, '');
        return [render(p), render({ ...p, authority: `${host}:${n}` })] as const;
      }),
    );
    fc.assert(
      fc.property(pair, ([registered, requested]) => {
        expect(redirectUriMatches(registered, requested)).toBe(oracleMatches(registered, requested));
      }),
      RUNS,
    );
  });

  it('matches exactly the oracle on arbitrary URL-ish strings', () => {
    const alphabet = fc.constantFrom(...'htps:/[]1270.lcaoxme?#@\\:%2eCB'.split(''));
    const prefixed = fc.tuple(fc.constantFrom('http://127.0.0.1', 'http://localhost', 'http://[::1]', ''), fc.string({ unit: alphabet, maxLength: 20 }));
    fc.assert(
      fc.property(prefixed, prefixed, ([p1, s1], [p2, s2]) => {
        expect(redirectUriMatches(p1 + s1, p2 + s2)).toBe(oracleMatches(p1 + s1, p2 + s2));
      }),
      RUNS,
    );
  });

  it('is reflexive and symmetric', () => {
    fc.assert(
      fc.property(pooledUri, pooledUri, (a, b) => {
        expect(redirectUriMatches(a, a)).toBe(true);
        expect(redirectUriMatches(a, b)).toBe(redirectUriMatches(b, a));
      }),
      RUNS,
    );
  });
});

/** A valid URI with the case of its scheme, host or path changed. */
const caseMutant = fc
  .tuple(validParts, fc.constantFrom('scheme', 'host', 'path'), fc.array(fc.boolean(), { minLength: 128, maxLength: 128 }))
  .map(([parts, where, flips]) => {
    const flip = (text: string): string =>
      [...text].map((c, i) => (flips[i % flips.length] ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c)).join('');
    const mutated: UriParts =
      where === 'scheme'
        ? { ...parts, scheme: flip(parts.scheme) }
        : where === 'host'
          ? { ...parts, authority: parts.authority === undefined ? undefined : flip(parts.authority) }
          : { ...parts, path: flip(parts.path) };
    return { where, parts, base: render(parts), mutant: render(mutated) };
  })
  .filter(({ base, mutant }) => base !== mutant);

describe('checkRedirectUriForRegistration', () => {
  it('accepts every generated valid URI', () => {
    fc.assert(
      fc.property(validParts, (parts) => {
        expect(checkRedirectUriForRegistration(render(parts))).toStrictEqual({ ok: true });
      }),
      RUNS,
    );
  });

  it('never accepts dangerous mutants (whitespace, controls, %2e, userinfo, #, \\, scheme:host, unsafe schemes)', () => {
    fc.assert(
      fc.property(dangerousMutant, ({ kind, mutant }) => {
        const result = checkRedirectUriForRegistration(mutant);
        expect(result.ok, `${kind}: ${JSON.stringify(mutant)}`).toBe(false);
      }),
      { numRuns: 5000 },
    );
  });

  it('never lets a case mutant match the original, and rejects case changes of http(s) scheme and host', () => {
    fc.assert(
      fc.property(caseMutant, ({ where, parts, base, mutant }) => {
        expect(redirectUriMatches(base, mutant)).toBe(false);
        expect(redirectUriMatches(mutant, base)).toBe(false);
        const web = parts.scheme === 'http' || parts.scheme === 'https';
        if (where === 'scheme' || (web && where === 'host')) {
          expect(checkRedirectUriForRegistration(mutant).ok).toBe(false);
        }
      }),
      RUNS,
    );
  });

  it('accepts only URIs that the URL parser sees as safe (independent oracle)', () => {
    const piece = fc.constantFrom(
      'https://', 'http://', 'HTTP://', 'https:', 'javascript:', 'JaVaScRiPt:', 'com.example.app:', 'data:', 'x:',
      '127.0.0.1', 'localhost', '[::1]', 'example.com', 'evil.com', '@', ':@', ':', ':8080', '/', '/cb', '..', '.', '%2e',
      '%2E', '%', '#', '?', '=', '\\', ' ', '\t', '\n', '\u0000', '\u00a0', 'é', 'a', 'Z', '%40', '%2f',
    );
    const candidate = fc.array(piece, { maxLength: 10 }).map((pieces) => pieces.join(''));
    fc.assert(
      fc.property(candidate, (uri) => {
        if (!checkRedirectUriForRegistration(uri).ok) return;
        const url = new URL(uri);
        expect(uri).not.toMatch(/[\s\p{Cc}#\\]/u);
        expect(/^[^:]*:\/\/([^/?]*)/.exec(uri)?.[1] ?? '').not.toContain('@');
        expect(uri).toMatch(/^[\x21-\x7e]+$/);
        expect(url.hash).toBe('');
        expect(url.username + url.password).toBe('');
        const scheme = url.protocol.slice(0, -1);
        expect(['javascript', 'data', 'file', 'vbscript', 'blob']).not.toContain(scheme);
        if (scheme === 'http') expect(LOOPBACK as readonly string[]).toContain(url.hostname);
        if (scheme === 'http' || scheme === 'https') expect(uri.startsWith(`${scheme}://${url.host}`)).toBe(true);
        if (scheme !== 'http' && scheme !== 'https') {
          // A private-use URI names a domain: in its scheme (com.example.app) or its authority.
          const authority = /^[^:]*:\/\/([^/?]*)/.exec(uri)?.[1] ?? '';
          expect(`${scheme} ${authority}`).toContain('.');
        }
        const rawPath = uri.replace(/^[^:]*:(\/\/[^/?]*)?/, '').split('?')[0]!;
        const decodedPath = rawPath.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        expect(decodedPath.split(/[/\\]/)).not.toContain('..');
        expect(decodedPath.split(/[/\\]/)).not.toContain('.');
      }),
      { numRuns: 5000 },
    );
  });
});

describe('isLoopbackRedirect', () => {
  it('agrees with the URL parser on generated URIs and mutants', () => {
    const candidate = fc.oneof(validParts.map(render), dangerousMutant.map((m) => m.mutant), pooledUri);
    fc.assert(
      fc.property(candidate, (uri) => {
        if (!isLoopbackRedirect(uri)) return;
        const url = new URL(uri);
        expect(url.protocol).toBe('http:');
        expect(LOOPBACK as readonly string[]).toContain(url.hostname);
        expect(url.username + url.password + url.hash).toBe('');
      }),
      RUNS,
    );
  });
});

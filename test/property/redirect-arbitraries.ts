/**
 * fast-check generators for redirect URIs: valid ones built from parts, and the mutations
 * attackers use (security-invariants §2.A item 1, §3.3 item 6).
 */
import fc from 'fast-check';

/** A redirect URI in parts, so mutations can target one part. */
export interface UriParts {
  readonly scheme: string;
  /** `undefined` for an authority-less URI such as `com.example.app:/cb`. */
  readonly authority: string | undefined;
  readonly path: string;
  readonly query: string;
}

export function render(parts: UriParts): string {
  const authority = parts.authority === undefined ? '' : `//${parts.authority}`;
  return `${parts.scheme}:${authority}${parts.path}${parts.query}`;
}

export const LOOPBACK = ['127.0.0.1', '[::1]', 'localhost'] as const;

const label = fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/);
export const dnsHost = fc
  .tuple(fc.array(label, { minLength: 1, maxLength: 3 }), fc.constantFrom('com', 'org', 'dev', 'example', 'io'))
  .map(([labels, tld]) => [...labels, tld].join('.'));

export const port = fc.option(fc.integer({ min: 1, max: 65535 }).map((p) => `:${p}`), { nil: '' });

const segment = fc.stringMatching(/^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,7}$/);
export const path = fc.array(segment, { maxLength: 4 }).map((segments) => segments.map((s) => `/${s}`).join(''));
export const nonEmptyPath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((segments) => segments.map((s) => `/${s}`).join(''));

const queryPair = fc.tuple(fc.stringMatching(/^[a-z]{1,5}$/), fc.stringMatching(/^[A-Za-z0-9._~-]{0,6}$/));
export const query = fc.option(
  fc.array(queryPair, { minLength: 1, maxLength: 3 }).map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
  { nil: '' },
);

export const httpsParts: fc.Arbitrary<UriParts> = fc.record({
  scheme: fc.constant('https'),
  authority: fc.tuple(dnsHost, port).map(([h, p]) => h + p),
  path,
  query,
});

export const loopbackParts: fc.Arbitrary<UriParts> = fc.record({
  scheme: fc.constant('http'),
  authority: fc.tuple(fc.constantFrom(...LOOPBACK), port).map(([h, p]) => h + p),
  path,
  query,
});

const privateScheme = fc.tuple(label, label, label).map(([a, b, c]) => `${a}.${b}.${c}`);
export const privateUseParts: fc.Arbitrary<UriParts> = fc.oneof(
  fc.record({ scheme: privateScheme, authority: fc.constant(undefined), path: nonEmptyPath, query }),
  fc.record({ scheme: privateScheme, authority: dnsHost, path, query }),
);

/** Parts with an authority (http or https). */
export const webParts = fc.oneof(httpsParts, loopbackParts);
/** Any redirect URI flowgate should accept, in parts. */
export const validParts = fc.oneof(httpsParts, loopbackParts, privateUseParts);

/** Inserts `insert` at a position chosen by `at` (a fraction in [0, 1]). */
export function insertAt(text: string, insert: string, at: number): string {
  const index = Math.floor(at * (text.length + 1));
  return text.slice(0, index) + insert + text.slice(index);
}
const position = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

/** Whitespace, C0/C1 controls, DEL and Unicode format characters. */
export const badCharacter = fc.oneof(
  fc.constantFrom(' ', '\t', '\n', '\r', '\v', '\f', '\u0000', '\u001f', '\u007f', '\u0085', '\u00a0', '\u1680'),
  fc.constantFrom('\u2000', '\u200b', '\u200e', '\u202e', '\u2028', '\u2029', '\u3000', '\ufeff', '\u00ad'),
  fc.integer({ min: 0, max: 0x20 }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x7f, max: 0x9f }).map((c) => String.fromCharCode(c)),
);

/** One `.` spelled raw, `%2e`, `%2E`, or double-encoded. */
const dot = fc.constantFrom('.', '%2e', '%2E', '%252e', '%252E');
/** A `.` or `..` segment in any spelling, sometimes followed by an encoded slash (`..%2f`). */
export const dotSegment = fc
  .tuple(fc.array(dot, { minLength: 1, maxLength: 2 }), fc.constantFrom('', '%2f', '%2F', '%5c', '%5C'))
  .map(([dots, tail]) => dots.join('') + tail);

const fragment = fc.stringMatching(/^[A-Za-z0-9/?=&._~-]{0,8}$/);
const userinfo = fc.oneof(
  fc.constantFrom('@', ':@', 'user@', 'user:pass@', 'localhost:80@', '127.0.0.1@', 'a%40b@'),
  fc.stringMatching(/^[a-z0-9:]{0,6}$/).map((u) => `${u}@`),
);
const unsafeSchemeName = fc.constantFrom('javascript', 'data', 'file', 'vbscript', 'blob');

/** Random case, and sometimes a percent-encoded letter, of a scheme name. */
const disguisedScheme = fc
  .tuple(fc.mixedCase(unsafeSchemeName), fc.option(fc.nat(), { nil: undefined }), fc.option(badCharacter, { nil: undefined }), position)
  .map(([name, encodeAt, noise, at]) => {
    let result = name;
    if (encodeAt !== undefined) {
      const i = encodeAt % name.length;
      const code = name.charCodeAt(i).toString(16);
      result = name.slice(0, i) + `%${code}` + name.slice(i + 1);
    }
    if (noise !== undefined) result = insertAt(result, noise, at);
    return result;
  });

/** The name of each mutation, for labels in failure reports. */
export type MutationKind =
  | 'whitespace-or-control'
  | 'dot-segment'
  | 'userinfo'
  | 'fragment'
  | 'backslash'
  | 'scheme-without-slashes'
  | 'unsafe-scheme'
  | 'non-ascii';

/** A mutant of a valid URI that must never be accepted for registration. */
export const dangerousMutant: fc.Arbitrary<{ kind: MutationKind; base: string; mutant: string }> = fc.oneof(
  fc.tuple(validParts, badCharacter, position).map(([p, c, at]) => ({
    kind: 'whitespace-or-control' as const,
    base: render(p),
    mutant: insertAt(render(p), c, at),
  })),
  fc.tuple(validParts, dotSegment, fc.nat()).map(([p, dots, n]) => {
    const segments = p.path.split('/');
    const i = 1 + (n % Math.max(1, segments.length));
    segments.splice(i, 0, dots);
    const mutatedPath = segments.join('/').replace(/^(?!\/)/, '/');
    return { kind: 'dot-segment' as const, base: render(p), mutant: render({ ...p, path: mutatedPath }) };
  }),
  fc.tuple(fc.oneof(webParts, privateUseParts.filter((p) => p.authority !== undefined)), userinfo).map(([p, u]) => ({
    kind: 'userinfo' as const,
    base: render(p),
    mutant: render({ ...p, authority: u + (p.authority ?? '') }),
  })),
  fc.tuple(validParts, fragment).map(([p, f]) => ({ kind: 'fragment' as const, base: render(p), mutant: `${render(p)}#${f}` })),
  fc.tuple(validParts, position, fc.boolean()).map(([p, at, replaceSlash]) => {
    const uri = render(p);
    const mutant = replaceSlash && uri.includes('/') ? uri.replace(/\/(?=[^/]*$)/, '\\') : insertAt(uri, '\\', at);
    return { kind: 'backslash' as const, base: uri, mutant };
  }),
  fc.tuple(webParts, fc.constantFrom('', '/', '///')).map(([p, slashes]) => ({
    kind: 'scheme-without-slashes' as const,
    base: render(p),
    mutant: `${p.scheme}:${slashes}${p.authority ?? ''}${p.path}${p.query}`,
  })),
  fc
    .tuple(fc.oneof(unsafeSchemeName, disguisedScheme), fc.constantFrom(':alert(1)', '://example.com/%0Aalert(1)', ':text/html,<script>', ':///etc/passwd', ':https://a.com/x'), fc.option(badCharacter, { nil: '' }))
    .map(([scheme, body, prefix]) => ({ kind: 'unsafe-scheme' as const, base: '', mutant: `${prefix}${scheme}${body}` })),
  fc.tuple(validParts, fc.constantFrom('\u00e9', '\uff11', '\u0131', '\u017f', '\u212a', '\u{1f600}', '\uff45', '\u0430'), position).map(([p, c, at]) => ({
    kind: 'non-ascii' as const,
    base: render(p),
    mutant: insertAt(render(p), c, at),
  })),
);

/**
 * Response helpers: JSON with the right caching headers, HTML pages with the anti-framing
 * and no-leak headers every page needs (OAuth 2.1 §7.11, RFC 9700 §4.16), redirects, and
 * CORS for the endpoints browsers may call from other origins.
 *
 * @module
 */

/** Headers as the Headers constructor takes them. */
export type HeaderBag = ConstructorParameters<typeof Headers>[0];

/** Headers every HTML page carries. */
export const HTML_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  // No `form-action`: browsers apply it to every redirect after a form post, which would
  // stop the consent form's redirect to the upstream (or to the client on Deny).
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  // `same-origin`, not `no-referrer`: a form post to flowgate must carry its real `Origin`
  // (with `no-referrer` browsers send `Origin: null`, which the DNS-rebinding check refuses),
  // while a navigation to the upstream or to a client's redirect URI still gets no referrer.
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

/** An HTML page. */
export function htmlResponse(body: string, status = 200, headers: HeaderBag = {}): Response {
  const h = new Headers(HTML_SECURITY_HEADERS);
  for (const [k, v] of new Headers(headers)) h.append(k, v);
  return new Response(body, { status, headers: h });
}

/** A JSON body; `noStore` for anything carrying tokens or client secrets (RFC 6749 §5.1). */
export function jsonResponse(body: unknown, status = 200, options: { noStore?: boolean; headers?: HeaderBag } = {}): Response {
  const h = new Headers(options.headers);
  h.set('Content-Type', 'application/json');
  if (options.noStore) {
    h.set('Cache-Control', 'no-store');
    h.set('Pragma', 'no-cache');
  }
  return new Response(JSON.stringify(body), { status, headers: h });
}

/** A redirect that no cache keeps. */
export function redirectResponse(location: string, status: 302 | 303 = 302, headers: HeaderBag = {}): Response {
  const h = new Headers(headers);
  h.set('Location', location);
  h.set('Cache-Control', 'no-store');
  h.set('Referrer-Policy', 'same-origin');
  return new Response(null, { status, headers: h });
}

const CORS_ALLOW_HEADERS = 'Authorization, Content-Type, MCP-Protocol-Version';

/** Adds the CORS headers of a public endpoint (metadata, token, registration). */
export function withCors(response: Response): Response {
  const headers = new Headers(response.headers);
  headers.set('Access-Control-Allow-Origin', '*');
  headers.set('Access-Control-Expose-Headers', 'WWW-Authenticate');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** The answer to a CORS preflight of a public endpoint. */
export function corsPreflight(methods: string): Response {
  return new Response(null, {
    status: 204,
    headers: {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': `${methods}, OPTIONS`,
      'Access-Control-Allow-Headers': CORS_ALLOW_HEADERS,
      'Access-Control-Max-Age': '86400',
    },
  });
}

/**
 * Which `client_id` values are client ID metadata document URLs (CIMD; MCP 2025-11-25
 * "Client ID Metadata Documents"; security invariants §1.15).
 *
 * A metadata-document client id is an `https` URL with a host and a path other than `/`,
 * without userinfo, fragment or dot segments, at most 2048 characters, and already in the
 * form the WHATWG URL parser writes it (lowercase host, no default port, nothing to
 * percent-encode). Client ids are compared as strings, never normalized, so a URL in any
 * other spelling is simply not a metadata-document id: `https://Example.com/c` and
 * `https://example.com:443/c` are refused rather than silently mapped to
 * `https://example.com/c`, and the decimal or octal spellings of an IP address never
 * reach the resolver.
 *
 * @module
 */

/** Longest metadata-document client id accepted (same bound as redirect URIs). */
export const MAX_CLIENT_ID_URL_LENGTH = 2048;

/** The outcome of {@link parseMetadataDocumentId}. */
export type ClientIdUrl = { readonly ok: true; readonly url: URL } | { readonly ok: false; readonly reason: string };

/** True for a client id that starts like a URL (so it can never be a static or dynamic one). */
export function looksLikeUrl(clientId: string): boolean {
  return /^https?:/i.test(clientId);
}

function hasDotSegment(path: string): boolean {
  return path.split('/').some((segment) => {
    const decoded = segment.replace(/%2e/gi, '.');
    return decoded === '.' || decoded === '..';
  });
}

/**
 * Parses a metadata-document client id, or says why it is not one.
 *
 * @example
 * ```ts
 * parseMetadataDocumentId('https://app.example.com/oauth/client.json'); // { ok: true, url }
 * parseMetadataDocumentId('https://app.example.com/');                 // { ok: false, reason: '… a path …' }
 * ```
 */
export function parseMetadataDocumentId(clientId: string): ClientIdUrl {
  if (typeof clientId !== 'string' || !clientId.startsWith('https://')) {
    return { ok: false, reason: 'a metadata document client_id must be an https URL' };
  }
  if (clientId.length > MAX_CLIENT_ID_URL_LENGTH) return { ok: false, reason: 'the client_id URL is too long' };
  if (clientId.includes('#')) return { ok: false, reason: 'the client_id URL must not have a fragment' };
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return { ok: false, reason: 'the client_id is not a valid URL' };
  }
  if (url.username !== '' || url.password !== '' || clientId.slice(8).split('/')[0]!.includes('@')) {
    return { ok: false, reason: 'the client_id URL must not contain user information' };
  }
  if (url.hostname === '') return { ok: false, reason: 'the client_id URL has no host' };
  if (url.pathname === '/' || url.pathname === '') return { ok: false, reason: 'the client_id URL must have a path' };
  if (hasDotSegment(clientId.slice(8 + url.host.length).split('?')[0]!)) {
    return { ok: false, reason: 'the client_id URL must not contain . or .. segments' };
  }
  if (url.href !== clientId) {
    return { ok: false, reason: 'the client_id URL is not in canonical form (lowercase host, no default port, percent-encoded)' };
  }
  return { ok: true, url };
}

/** Whether `clientId` is a metadata-document URL flowgate would fetch (detection only; no I/O). */
export function isMetadataDocumentId(clientId: string): boolean {
  return parseMetadataDocumentId(clientId).ok;
}

/** Host patterns of `cimd.allowedHosts`: `host` exactly, or `*.host` for any subdomain (never the apex). */
export function hostAllowed(hostname: string, allowedHosts: readonly string[] | undefined): boolean {
  if (allowedHosts === undefined) return true;
  const host = hostname.toLowerCase();
  return allowedHosts.some((pattern) => {
    const p = pattern.toLowerCase();
    if (!p.startsWith('*.')) return host === p;
    const suffix = p.slice(1);
    return host.length > suffix.length && host.endsWith(suffix);
  });
}

/**
 * The domain the consent page names for a metadata-document client: the URL's host name as
 * the URL parser writes it (punycode for an internationalized name, so look-alike letters
 * show as `xn--…`).
 */
export function verifiedDomainOf(clientId: string): string {
  try {
    return new URL(clientId).hostname;
  } catch {
    return clientId;
  }
}

/**
 * The redirect URI rules at `/authorize` for the clients this issue adds: a
 * metadata-document client is held to its document's URIs *and* to today's patterns (even
 * if its recorded document predates them), and the synthesized upstream-client-id client,
 * which registered nothing, only to the patterns — never to "anything safe".
 *
 * Protections checked by hand (each test failed with its check removed, then restored):
 * - `client.kind !== 'static'` back to `client.kind === 'dynamic'` → the metadata-document
 *   client passes with a URI outside the patterns;
 * - the `rule === 'patterns'` branch deleted → the synthesized client falls to "registered"
 *   matching and refuses everything (the positive case fails), and with the pattern check
 *   deleted inside the branch, the outside URI passes.
 */
import { describe, expect, it } from 'vitest';
import { resolveRedirectUri, UPSTREAM_FALLBACK_METADATA } from '../../src/http/clients.js';
import type { ClientRecord } from '../../src/projections/clients.js';

function record(kind: ClientRecord['kind'], redirectUris: string[]): ClientRecord {
  return {
    clientId: kind === 'metadata_document' ? 'https://client.example.com/c.json' : 'id',
    kind,
    metadata: { ...UPSTREAM_FALLBACK_METADATA, redirect_uris: redirectUris },
    secretHash: null,
    allowedPatterns: [],
    status: 'active',
    registeredAt: 0,
    lastUsedAt: 0,
    unusedTtlMs: null,
  };
}

const settings = (redirectPatterns: string[]) => ({ registration: { redirectPatterns } }) as never;

describe('redirect URI rules for metadata-document and synthesized clients', () => {
  it('holds a metadata-document client to the current patterns as well as to its document', () => {
    const client = record('metadata_document', ['http://127.0.0.1/callback', 'https://app.example.com/cb']);
    expect(resolveRedirectUri(client, 'https://app.example.com/cb', settings([]))).toEqual({ ok: true, uri: 'https://app.example.com/cb' });
    expect(resolveRedirectUri(client, 'https://app.example.com/cb', settings(['http://127.0.0.1']))).toEqual({
      ok: false,
      reason: 'redirect_uri is not allowed by this server',
    });
    expect(resolveRedirectUri(client, 'http://127.0.0.1:5000/callback', settings(['http://127.0.0.1'])).ok).toBe(true);
    expect(resolveRedirectUri(client, 'https://app.example.com/other', settings([])).ok).toBe(false);
    // Static clients are the operator's own: patterns (which narrow self-registration) do not apply.
    expect(resolveRedirectUri(record('static', ['https://app.example.com/cb']), 'https://app.example.com/cb', settings(['http://127.0.0.1'])).ok).toBe(true);
  });

  it('lets the synthesized client use only URIs matching the patterns, and requires one', () => {
    const client = record('dynamic', []);
    const patterns = settings(['http://127.0.0.1/callback', 'https://claude.ai/api/mcp/auth_callback']);
    expect(resolveRedirectUri(client, 'http://127.0.0.1:6274/callback', patterns, 'patterns')).toEqual({ ok: true, uri: 'http://127.0.0.1:6274/callback' });
    expect(resolveRedirectUri(client, 'https://claude.ai/api/mcp/auth_callback', patterns, 'patterns').ok).toBe(true);
    for (const uri of ['https://evil.example/cb', 'http://127.0.0.1:6274/other', 'http://localhost:80@evil.example/callback', 'javascript:alert(1)']) {
      expect(resolveRedirectUri(client, uri, patterns, 'patterns').ok, uri).toBe(false);
    }
    expect(resolveRedirectUri(client, undefined, patterns, 'patterns').ok).toBe(false);
    expect(resolveRedirectUri(client, 'http://127.0.0.1:6274/callback', settings([]), 'patterns').ok).toBe(false);
  });
});

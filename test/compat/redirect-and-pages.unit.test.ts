/**
 * Counterparts of fastmcp's `TestAddQueryParams`, `TestReplaceQueryParam`,
 * `TestBuildClientRedirect` (the one helper that builds every redirect to the client), its
 * HTML escaping tests (`test_ui.py`, the consent-page server name), the redirect URI choice
 * of `ProxyDCRClient` and the resource-query rules, on flowgate's `clientRedirect`,
 * `consentPage`, `errorPage`, `resolveRedirectUri` and `resourceMatches`.
 *
 * Protections checked by hand (each test failed with its protection removed, then restored):
 * - `clientRedirect` appending without looking at the registered query → "replaces an iss
 *   already in the registered redirect URI" and "drops later duplicates" fail;
 * - `escapeHtml` made the identity → both escaping tests fail;
 * - the registered-match check in `resolveRedirectUri` skipped when patterns are set →
 *   "requires a registered match even when a pattern would allow the URI" fails;
 * - the single-registered-URI rule for an omitted redirect_uri dropped (first URI taken) →
 *   the several-URIs case is accepted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientRedirect, resolveRedirectUri } from '../../src/http/clients.js';
import { resourceMatches } from '../../src/oauth/resource.js';
import type { ClientRecord } from '../../src/projections/clients.js';
import { consentPage } from '../../src/http/html/consent-page.js';
import { errorPage } from '../../src/http/html/error-page.js';

describe('clientRedirect (fastmcp add_query_params / replace_query_param / build_client_redirect)', () => {
  // test_preserves_valueless_param_and_non_utf8_bytes, test_appends_params_and_iss_when_absent
  it('keeps the registered query byte for byte (valueless parameters, non-UTF-8 escapes) and appends', () => {
    expect(clientRedirect('https://app.example/cb?flag&x=%FF', { code: 'c', state: 's', iss: 'https://as.example' })).toBe(
      'https://app.example/cb?flag&x=%FF&code=c&state=s&iss=https%3A%2F%2Fas.example',
    );
  });

  // test_empty_query_has_no_stray_ampersand, test_empty_params_does_not_add_stray_ampersand
  it('adds no stray separator for an empty query or no parameters', () => {
    expect(clientRedirect('https://app.example/cb?', { code: 'c' })).toBe('https://app.example/cb?code=c');
    expect(clientRedirect('https://app.example/cb', { code: 'c' })).toBe('https://app.example/cb?code=c');
    expect(clientRedirect('https://app.example/cb?a=1', {})).toBe('https://app.example/cb?a=1');
    expect(clientRedirect('https://app.example/cb?a=1', { state: null, error_description: undefined })).toBe('https://app.example/cb?a=1');
  });

  // test_appends_to_existing_ordinary_query, test_appends_when_key_absent
  it('appends to an ordinary existing query', () => {
    expect(clientRedirect('https://app.example/cb?tenant=a', { code: 'c' })).toBe('https://app.example/cb?tenant=a&code=c');
  });

  // test_replaces_iss_already_present_in_registered_redirect_uri, test_replaces_existing_value_in_place_preserving_other_bytes,
  // test_preserves_valueless_param_and_non_utf8_bytes_alongside_existing_iss
  it('replaces an iss already in the registered redirect URI in place, keeping every other byte', () => {
    expect(clientRedirect('https://app.example/cb?flag&iss=old&x=%FF', { code: 'c', iss: 'https://as.example' })).toBe(
      'https://app.example/cb?flag&iss=https%3A%2F%2Fas.example&x=%FF&code=c',
    );
  });

  // test_only_first_occurrence_is_replaced — flowgate also drops later duplicates, so the name appears once
  it('drops later duplicates of a replaced name, so each response parameter appears exactly once', () => {
    const url = new URL(clientRedirect('https://app.example/cb?iss=a&b=1&iss=c', { iss: 'X' }));
    expect(url.searchParams.getAll('iss')).toEqual(['X']);
    expect(url.search).toBe('?iss=X&b=1');
  });

  // test_rejects_iss_hand_specified_in_params / TestNoHandSpecifiedIssOutsideHelper: flowgate has one
  // helper and every call site passes the configured issuer; a fragment never survives.
  it('drops a fragment and encodes values', () => {
    expect(clientRedirect('https://app.example/cb#frag', { state: 'a b&c' })).toBe('https://app.example/cb?state=a%20b%26c');
  });
});

describe('HTML pages escape what they show', () => {
  const evil = '<script>alert("x")</script>';

  // test_create_consent_html_escapes_client_id_in_details, test_consent_screen_escapes_server_name
  it('consent page: client id, name, redirect URI, scopes, resource and upstream name', () => {
    const html = consentPage({
      action: 'https://as.example/consent',
      flowId: `f${evil}`,
      csrf: `c${evil}`,
      clientName: evil,
      clientTrust: { kind: 'verified', label: `verified domain ${evil}` },
      clientId: evil,
      redirectHost: evil,
      redirectUri: `https://x.example/${evil}`,
      scopes: [{ name: evil, description: evil }],
      resource: evil,
      upstreamName: evil,
    });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('"x"');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  // test_create_error_html_basic, test_create_error_html_with_details, test_create_error_html_escapes_user_input
  it('error page: title, message and code', () => {
    const html = errorPage(`Title ${evil}`, `Message ${evil}`, `code${evil}`);
    expect(html).not.toContain('<script>');
    expect(html).toContain('Title &lt;script&gt;');
    expect(html).toContain('Error: <code>code&lt;script&gt;');
  });
});

describe('redirect URI choice at /authorize (fastmcp ProxyDCRClient.validate_redirect_uri)', () => {
  const settings = (redirectPatterns: string[]) => ({ registration: { redirectPatterns } }) as never;
  function client(kind: ClientRecord['kind'], redirectUris: string[]): ClientRecord {
    return {
      clientId: 'c',
      kind,
      metadata: { redirect_uris: redirectUris, token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] },
      secretHash: null,
      allowedPatterns: [],
      status: 'active',
      registeredAt: 0,
      lastUsedAt: 0,
      unusedTtlMs: null,
    };
  }

  // test_default_not_applied_when_custom_patterns_supplied — flowgate deliberately differs: patterns only narrow
  it('requires a registered match even when a pattern would allow the URI', () => {
    const dcr = client('dynamic', ['http://127.0.0.1/cb']);
    expect(resolveRedirectUri(dcr, 'http://127.0.0.1:5000/other', settings(['http://127.0.0.1'])).ok).toBe(false);
    expect(resolveRedirectUri(dcr, 'http://127.0.0.1:5000/cb', settings(['http://127.0.0.1'])).ok).toBe(true);
    expect(resolveRedirectUri(dcr, 'http://127.0.0.1:5000/cb', settings(['https://app.example'])).ok).toBe(false);
  });

  // test_none_redirect_uri, test_none_redirect_uri_with_matching_patterns / _nonmatching_patterns,
  // test_cimd_none_redirect_uri_single_exact, test_cimd_none_redirect_uri_respects_proxy_patterns
  it('resolves an omitted redirect_uri to the only registered one, which must still pass the patterns', () => {
    for (const kind of ['dynamic', 'metadata_document'] as const) {
      expect(resolveRedirectUri(client(kind, ['https://app.example/cb']), undefined, settings([]))).toEqual({ ok: true, uri: 'https://app.example/cb' });
      expect(resolveRedirectUri(client(kind, ['https://app.example/cb']), undefined, settings(['https://app.example/cb'])).ok).toBe(true);
      expect(resolveRedirectUri(client(kind, ['https://app.example/cb']), undefined, settings(['http://127.0.0.1'])).ok).toBe(false);
      expect(resolveRedirectUri(client(kind, ['https://app.example/cb', 'http://127.0.0.1/cb']), undefined, settings([])).ok).toBe(false);
    }
  });
});

describe('resource indicators with a query (fastmcp test_authorize_rejects_no_query_when_server_has_query_params)', () => {
  it('refuses a request without the configured query, and one with a query the configuration lacks', () => {
    expect(resourceMatches('https://mcp.example.com/mcp?tenant=a', 'https://mcp.example.com/mcp')).toBe(false);
    expect(resourceMatches('https://mcp.example.com/mcp', 'https://mcp.example.com/mcp?kb_name=x')).toBe(false);
    expect(resourceMatches('https://mcp.example.com/mcp?tenant=a', 'https://mcp.example.com/mcp?tenant=a')).toBe(true);
  });
});

describe('every redirect to the client goes through clientRedirect with the configured issuer (fastmcp TestNoHandSpecifiedIssOutsideHelper)', () => {
  it('has no hand-built iss anywhere in the endpoints', () => {
    const dir = join(import.meta.dirname, '..', '..', 'src', 'http', 'endpoints');
    let calls = 0;
    for (const file of readdirSync(dir)) {
      const source = readFileSync(join(dir, file), 'utf8');
      expect(source, file).not.toMatch(/[?&]iss=/);
      for (const match of source.matchAll(/clientRedirect\(([\s\S]*?)\)\s*,?\s*\n/g)) {
        calls++;
        expect(match[1], file).toContain('iss: settings.issuer');
      }
    }
    expect(calls).toBeGreaterThanOrEqual(4);
  });
});

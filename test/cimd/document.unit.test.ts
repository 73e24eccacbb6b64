/**
 * What counts as a metadata-document client id, and which fetched documents are accepted
 * (CIMD; security invariants §1.15, §2.A item 5; the redirect URI rules of `/register`).
 *
 * Protections checked by hand (each test failed with its check removed, then restored):
 * - the `client_id !== url` comparison deleted → "refuses a document whose client_id is
 *   not exactly the URL" accepts every variant;
 * - the redirect URI loop deleted → the bad redirect URI cases are accepted;
 * - the pattern check in `documentRedirectProblem` deleted → the pattern case is accepted;
 * - `href !== clientId` deleted → the non-canonical ids are detected as metadata documents.
 */
import { describe, expect, it } from 'vitest';
import { hostAllowed, isMetadataDocumentId, parseMetadataDocumentId, verifiedDomainOf } from '../../src/cimd/client-id.js';
import { validateMetadataDocument, type DocumentPolicy } from '../../src/cimd/document.js';
import { documentFor } from './support.js';

const ID = 'https://client.example.com/oauth/client.json';
const POLICY: DocumentPolicy = { offeredScopes: ['mcp:tools', 'mcp:read'], redirectPatterns: [] };

describe('metadata-document client ids', () => {
  it.each([
    'https://client.example.com/oauth/client.json',
    'https://client.example.com/c',
    'https://client.example.com:8443/c.json',
    'https://client.example.com/c.json?version=2',
    'https://xn--bcher-kva.example/c',
    'https://93.184.216.34/c.json',
  ])('accepts %s', (id) => {
    expect(isMetadataDocumentId(id)).toBe(true);
  });

  it.each([
    ['http (not https)', 'http://client.example.com/c.json'],
    ['no path', 'https://client.example.com'],
    ['root path', 'https://client.example.com/'],
    ['not a URL', 'client.example.com/c.json'],
    ['no host', 'https:///c.json'],
    ['a UUID', '4035e423-1b1c-4c1f-9a8e-0d3f0a1b2c3d'],
    ['userinfo', 'https://user@client.example.com/c.json'],
    ['empty userinfo', 'https://:@client.example.com/c.json'],
    ['fragment', 'https://client.example.com/c.json#x'],
    ['empty fragment', 'https://client.example.com/c.json#'],
    ['dot segment', 'https://client.example.com/a/../c.json'],
    ['encoded dot segment', 'https://client.example.com/a/%2e%2e/c.json'],
    ['upper-case host', 'https://Client.example.com/c.json'],
    ['explicit default port', 'https://client.example.com:443/c.json'],
    ['decimal IP', 'https://2130706433/c.json'],
    ['short IPv4', 'https://127.1/c.json'],
    ['hex IPv4', 'https://0x7f.0.0.1/c.json'],
    ['unicode host', 'https://bücher.example/c'],
    ['space', 'https://client.example.com/a b'],
    ['too long', `https://client.example.com/${'a'.repeat(2100)}`],
  ])('refuses %s', (_name, id) => {
    const parsed = parseMetadataDocumentId(id);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toMatch(/^[a-z]/);
  });

  it('matches allowedHosts exactly or by subdomain, never the apex of a *. pattern', () => {
    expect(hostAllowed('client.example.com', undefined)).toBe(true);
    expect(hostAllowed('client.example.com', ['client.example.com'])).toBe(true);
    expect(hostAllowed('a.b.example.com', ['*.example.com'])).toBe(true);
    expect(hostAllowed('example.com', ['*.example.com'])).toBe(false);
    expect(hostAllowed('evilexample.com', ['*.example.com'])).toBe(false);
    expect(hostAllowed('client.example.com', [])).toBe(false);
  });

  it('names the verified domain by its host name, in punycode', () => {
    expect(verifiedDomainOf('https://client.example.com:8443/c')).toBe('client.example.com');
    expect(verifiedDomainOf('https://xn--bcher-kva.example/c')).toBe('xn--bcher-kva.example');
  });
});

describe('metadata documents', () => {
  it('accepts a minimal document and records what flowgate keeps', () => {
    const check = validateMetadataDocument({ client_id: ID, redirect_uris: ['http://127.0.0.1/callback'] }, ID, POLICY);
    expect(check).toEqual({
      ok: true,
      metadata: {
        redirect_uris: ['http://127.0.0.1/callback'],
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        application_type: 'native',
      },
    });
  });

  it('accepts a full document (unknown members ignored), keeping refresh_token only when listed', () => {
    const check = validateMetadataDocument(
      documentFor(ID, {
        client_uri: 'https://client.example.com',
        logo_uri: 'https://client.example.com/logo.png',
        scope: 'mcp:tools other:scope',
        software_id: 'example',
        software_version: '1.2.3',
        contacts: ['ops@example.com'],
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      }),
      ID,
      POLICY,
    );
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    expect(check.metadata.grant_types).toEqual(['authorization_code', 'refresh_token']);
    expect(check.metadata.scope).toBe('mcp:tools');
    expect(check.metadata.client_name).toBe('Example MCP client');
  });

  it('refuses a document whose client_id is not exactly the URL', () => {
    for (const other of [
      'https://client.example.com/oauth/client.json/',
      'https://client.example.com/oauth/other.json',
      'https://CLIENT.example.com/oauth/client.json',
      'https://attacker.example/oauth/client.json',
      '',
    ]) {
      const check = validateMetadataDocument(documentFor(other), ID, POLICY);
      expect(check).toEqual({ ok: false, reason: 'the document’s client_id is not the URL it was fetched from' });
    }
    expect(validateMetadataDocument({ redirect_uris: ['http://127.0.0.1/cb'] }, ID, POLICY).ok).toBe(false);
  });

  it.each([
    ['javascript:', 'javascript:alert(1)'],
    ['data:', 'data:text/html,hi'],
    ['http off loopback', 'http://client.example.com/cb'],
    ['fragment', 'https://client.example.com/cb#x'],
    ['userinfo', 'http://localhost:80@evil.example/cb'],
    ['dot segment', 'https://client.example.com/a/../cb'],
    ['wildcard port', 'http://localhost:*/callback'],
    ['relative (no scheme)', '/callback'],
    ['no host', 'https:///callback'],
    ['whitespace', ' https://client.example.com/cb'],
    ['whitespace only', '   '],
    ['private-use without a domain', 'myapp:/cb'],
  ])('refuses a document with a bad redirect URI (%s)', (_name, uri) => {
    const check = validateMetadataDocument(documentFor(ID, { redirect_uris: ['http://127.0.0.1/callback', uri] }), ID, POLICY);
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.reason).toMatch(/^redirect_uris: /);
  });

  it('refuses redirect URIs outside the configured patterns, and non-https ones for a web client', () => {
    const narrow = { ...POLICY, redirectPatterns: ['http://127.0.0.1'] };
    expect(validateMetadataDocument(documentFor(ID, { redirect_uris: ['http://127.0.0.1/callback'] }), ID, narrow).ok).toBe(true);
    expect(validateMetadataDocument(documentFor(ID), ID, narrow)).toEqual({
      ok: false,
      reason: 'redirect_uris: the redirect URI is not allowed by this server',
    });
    const web = documentFor(ID, { application_type: 'web', redirect_uris: ['http://127.0.0.1/callback'] });
    expect(validateMetadataDocument(web, ID, POLICY).ok).toBe(false);
  });

  it('requires redirect_uris, non-empty', () => {
    expect(validateMetadataDocument({ client_id: ID }, ID, POLICY).ok).toBe(false);
    expect(validateMetadataDocument({ client_id: ID, redirect_uris: [] }, ID, POLICY).ok).toBe(false);
    expect(validateMetadataDocument({ client_id: ID, redirect_uris: [''] }, ID, POLICY).ok).toBe(false);
  });

  it('accepts only the none authentication method, and no secret', () => {
    for (const method of ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth']) {
      expect(validateMetadataDocument(documentFor(ID, { token_endpoint_auth_method: method }), ID, POLICY).ok).toBe(false);
    }
    expect(validateMetadataDocument(documentFor(ID, { client_secret: 'x' }), ID, POLICY).ok).toBe(false);
  });

  it('requires the authorization_code grant and the code response type', () => {
    expect(validateMetadataDocument(documentFor(ID, { grant_types: ['refresh_token'] }), ID, POLICY).ok).toBe(false);
    expect(validateMetadataDocument(documentFor(ID, { response_types: ['token'] }), ID, POLICY).ok).toBe(false);
  });

  it('refuses a scope naming nothing this server offers, and non-objects', () => {
    expect(validateMetadataDocument(documentFor(ID, { scope: 'admin' }), ID, POLICY).ok).toBe(false);
    expect(validateMetadataDocument(documentFor(ID, { scope: 'a  b' }), ID, POLICY).ok).toBe(false);
    for (const junk of [null, [], 'x', 42]) expect(validateMetadataDocument(junk, ID, POLICY).ok).toBe(false);
  });
});

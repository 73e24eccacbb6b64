/**
 * Dynamic client registration (RFC 7591): modes, redirect URI checks, patterns, secrets,
 * limits. Checked by hand: with the redirect check of `register.ts` removed, the unsafe-URI
 * cases register; with the limiter's `take` always true, the rate-limit case registers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Base64Url } from '../../src/crypto/random.js';
import type { Flowgate } from '../../src/flowgate.js';
import { findClient } from '../../src/projections/clients.js';
import { call, openApp } from '../support/app.js';

function registration(app: Flowgate, body: unknown, headers: Record<string, string> = {}) {
  return call(app, '/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('dynamic client registration', () => {
  let app: Flowgate;
  afterEach(() => app.close());

  it('registers a public client with a server-chosen id and echoes its metadata', async () => {
    app = await openApp();
    const response = await registration(app, {
      client_id: 'chosen-by-me',
      client_name: 'Claude',
      redirect_uris: ['http://127.0.0.1:53682/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      scope: 'mcp:tools',
      contacts: ['ignored@example.com'],
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const body = await response.json() as any;
    expect(body.client_id).not.toBe('chosen-by-me');
    expect(body.client_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(body.client_secret).toBeUndefined();
    expect(body).toMatchObject({ redirect_uris: ['http://127.0.0.1:53682/callback'], token_endpoint_auth_method: 'none', client_name: 'Claude' });
    expect(body.contacts).toBeUndefined();
  });

  it('returns a confidential client secret once and stores only its hash', async () => {
    app = await openApp();
    const body = await (await registration(app, { redirect_uris: ['https://app.example/cb'], token_endpoint_auth_method: 'client_secret_post' })).json() as any;
    expect(body.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.client_secret_expires_at).toBe(0);
    const stored = await findClient(app.store.db, body.client_id);
    expect(stored?.secretHash).toBe(sha256Base64Url(body.client_secret));
    const events = await app.store.readStream(`client:${body.client_id}`);
    expect(JSON.stringify(events)).not.toContain(body.client_secret);
  });

  it('refuses unsafe redirect URIs with invalid_redirect_uri and registers nothing', async () => {
    app = await openApp();
    for (const uri of [
      'javascript:alert(1)',
      'JaVaScRiPt://x.y/%0aalert(1)',
      'data:text/html,hi',
      'http://evil.example/cb',
      'https://app.example/cb#frag',
      'https://user@app.example/cb',
      'https://app.example/a/../b',
      'https://app.example/a/%2e%2e/b',
      'https:app.example/cb',
      'http://localhost:80@evil.com/cb',
      'relative/cb',
    ]) {
      const response = await registration(app, { redirect_uris: [uri], token_endpoint_auth_method: 'none' });
      expect(response.status, uri).toBe(400);
      expect((await response.json() as any).error, uri).toBe('invalid_redirect_uri');
    }
    expect(await app.store.readStream('client:anything')).toEqual([]);
    const rows = await app.store.db.selectFrom('clients').selectAll().execute();
    expect(rows).toHaveLength(0);
  });

  it('accepts private-use schemes in reverse-domain style', async () => {
    app = await openApp();
    for (const uri of ['cursor://anysphere.cursor-mcp/oauth/callback', 'com.example.app:/oauth2redirect']) {
      expect((await registration(app, { redirect_uris: [uri], token_endpoint_auth_method: 'none' })).status, uri).toBe(201);
    }
  });

  it('applies the operator patterns on a real URL parser', async () => {
    app = await openApp({ registration: { redirectPatterns: ['http://localhost:*', 'http://127.0.0.1:*', 'https://*.trusted.example/cb'] } });
    expect((await registration(app, { redirect_uris: ['http://127.0.0.1:4000/cb'], token_endpoint_auth_method: 'none' })).status).toBe(201);
    expect((await registration(app, { redirect_uris: ['https://app.trusted.example/cb/x'], token_endpoint_auth_method: 'none' })).status).toBe(201);
    for (const uri of ['http://localhost:80@evil.com/cb', 'https://trusted.example/cb', 'https://evil.example/cb', 'https://app.trusted.example/other']) {
      const response = await registration(app, { redirect_uris: [uri], token_endpoint_auth_method: 'none' });
      expect(response.status, uri).toBe(400);
    }
  });

  it('requires an initial access token in token mode', async () => {
    app = await openApp({ registration: { mode: 'token', initialAccessTokens: ['initial-access-token-0123456789'] } });
    const body = { redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' };
    const without = await registration(app, body);
    expect(without.status).toBe(401);
    expect((await without.json() as any).error).toBe('invalid_token');
    expect((await registration(app, body, { authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
    expect((await registration(app, body, { authorization: 'Bearer initial-access-token-0123456789' })).status).toBe(201);
  });

  it('limits registrations per address and request sizes', async () => {
    app = await openApp({ registration: { ratePerHour: 2, maxBodyBytes: 2048 } });
    const body = { redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' };
    expect((await registration(app, body)).status).toBe(201);
    expect((await registration(app, body)).status).toBe(201);
    const limited = await registration(app, body);
    expect(limited.status).toBe(429);
    expect((await limited.json() as any).error).toBe('invalid_request');
    const other = await openApp({ registration: { maxBodyBytes: 2048 } });
    try {
      const big = await registration(other, { ...body, client_name: 'x'.repeat(100), software_id: 'y'.repeat(3000) });
      expect(big.status).toBe(400);
    } finally {
      await other.close();
    }
  });

  it('explains malformed metadata with invalid_client_metadata', async () => {
    app = await openApp();
    const cases: unknown[] = ['{not json', { redirect_uris: [] }, { redirect_uris: ['https://a.example/cb'], grant_types: ['client_credentials'] }, { redirect_uris: ['https://a.example/cb'], scope: 'admin' }, { redirect_uris: ['https://a.example/cb'], logo_uri: 'javascript:alert(1)' }];
    for (const body of cases) {
      const response = await registration(app, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await response.json() as any).error).toBe('invalid_client_metadata');
    }
    const wrongType = await call(app, '/register', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    expect((await wrongType.json() as any).error).toBe('invalid_request');
  });
});

/**
 * Client authentication and errors at the token endpoint (RFC 6749 §2.3, §5.2), static
 * clients from configuration, and the security-events table.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Flowgate } from '../../src/flowgate.js';
import { call, openApp } from '../support/app.js';

const SECRET = 'static-client-secret-0123456789';

function tokenRequest(app: Flowgate, form: Record<string, string>, headers: Record<string, string> = {}) {
  return call(app, '/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

describe('token endpoint', () => {
  let app: Flowgate;
  afterEach(() => app.close());

  async function open() {
    app = await openApp({
      clients: {
        static: [
          { clientId: 'static-confidential', clientSecret: SECRET, redirectUris: ['https://app.example/cb'], name: 'Static app' },
          { clientId: 'static-public', redirectUris: ['http://127.0.0.1/cb'] },
        ],
      },
    });
  }

  it('authenticates a confidential static client with Basic or post, and answers invalid_grant for a bad code', async () => {
    await open();
    for (const [form, headers] of [
      [{ grant_type: 'authorization_code', code: 'nope', code_verifier: 'a'.repeat(43) }, { authorization: basic('static-confidential', SECRET) }],
      [{ grant_type: 'authorization_code', code: 'nope', code_verifier: 'a'.repeat(43), client_id: 'static-confidential', client_secret: SECRET }, {}],
    ] as const) {
      const response = await tokenRequest(app, form, headers);
      expect(response.status).toBe(400);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.json() as any).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
    }
  });

  it('answers invalid_client with 401 (and a Basic challenge when Basic was used)', async () => {
    await open();
    const form = { grant_type: 'authorization_code', code: 'x', code_verifier: 'a'.repeat(43) };
    const wrongBasic = await tokenRequest(app, form, { authorization: basic('static-confidential', 'wrong-secret') });
    expect(wrongBasic.status).toBe(401);
    expect(wrongBasic.headers.get('www-authenticate')).toBe('Basic realm="flowgate"');
    expect((await wrongBasic.json() as any).error).toBe('invalid_client');
    const missing = await tokenRequest(app, { ...form, client_id: 'static-confidential' });
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBeNull();
    const unknown = await tokenRequest(app, { ...form, client_id: 'nobody' });
    expect(unknown.status).toBe(401);
    const publicWithSecret = await tokenRequest(app, { ...form, client_id: 'static-public', client_secret: 'something' });
    expect(publicWithSecret.status).toBe(401);
  });

  it('refuses two authentication methods at once, a duplicated parameter and an unknown grant type', async () => {
    await open();
    const twice = await tokenRequest(
      app,
      { grant_type: 'authorization_code', code: 'x', code_verifier: 'a'.repeat(43), client_secret: SECRET },
      { authorization: basic('static-confidential', SECRET) },
    );
    expect((await twice.json() as any).error).toBe('invalid_request');
    const dup = await call(app, '/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code&code=a&code=b&client_id=static-public',
    });
    expect((await dup.json() as any).error).toBe('invalid_request');
    const grant = await tokenRequest(app, { grant_type: 'client_credentials', client_id: 'static-public' });
    expect((await grant.json() as any).error).toBe('unsupported_grant_type');
    const json = await call(app, '/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(400);
    expect((await json.json() as any).error).toBe('invalid_request');
    const get = await call(app, '/token');
    expect(get.status).toBe(400);
  });

  it('keeps static clients in the log and in the clients view', async () => {
    await open();
    const events = await app.store.readStream('client:static-confidential');
    expect(events.map((e) => e.type)).toEqual(['client.registered']);
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });

  it('counts rejections in security_events, aggregated per kind, client and minute', async () => {
    await open();
    const form = { grant_type: 'authorization_code', code: 'x', code_verifier: 'a'.repeat(43) };
    for (let i = 0; i < 5; i++) await tokenRequest(app, form, { authorization: basic('static-confidential', `wrong-${i}`) });
    for (let i = 0; i < 3; i++) await tokenRequest(app, { ...form, client_id: `made-up-${i}` });
    const rows = await app.securityEvents.list({ kind: 'client_auth_failed' });
    const byClient = Object.fromEntries(rows.map((r) => [r.clientId, r.count]));
    expect(byClient['static-confidential']).toBe(5);
    expect(byClient['(unknown)']).toBe(3);
    expect(rows).toHaveLength(2);
  });
});

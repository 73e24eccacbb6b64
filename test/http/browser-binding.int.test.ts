/**
 * Cookies and pages of the browser-facing endpoints on an https issuer: `__Host-` names
 * with Secure/HttpOnly/SameSite=Lax, unprefixed or tampered cookies ignored, escaping.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Flowgate } from '../../src/flowgate.js';
import { s256Challenge } from '../../src/oauth/pkce.js';
import { randomToken } from '../../src/crypto/random.js';
import { call, openApp } from '../support/app.js';

async function registerPublic(app: Flowgate, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await call(app, '/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:53682/callback'], token_endpoint_auth_method: 'none', ...extra }),
  });
  return (await response.json() as any).client_id;
}

function authorizeUrl(clientId: string): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: 'http://127.0.0.1:53682/callback',
    code_challenge: s256Challenge(randomToken(32)),
    code_challenge_method: 'S256',
    state: 's',
  });
  return `/authorize?${q}`;
}

describe('browser binding on an https issuer', () => {
  let app: Flowgate;
  afterEach(() => app.close());

  it('sets a __Host- cookie with Secure, HttpOnly, SameSite=Lax and a bounded lifetime', async () => {
    app = await openApp();
    const response = await call(app, authorizeUrl(await registerPublic(app)));
    expect(response.status).toBe(303);
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^__Host-fg_browser=[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=900; Secure$/);
    expect(cookie).not.toContain('Domain');
  });

  it('ignores an unprefixed or tampered cookie on https (the consent page is refused)', async () => {
    app = await openApp();
    const response = await call(app, authorizeUrl(await registerPublic(app)));
    const consent = response.headers.get('location')!;
    const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
    const good = await call(app, consent, { headers: { cookie } });
    expect(good.status).toBe(200);
    const unprefixed = await call(app, consent, { headers: { cookie: cookie.replace('__Host-fg_browser', 'fg_browser') } });
    expect(unprefixed.status).toBe(403);
    const value = cookie.split('=')[1]!;
    const flipped = `${value.slice(0, 5)}${value[5] === 'A' ? 'B' : 'A'}${value.slice(6)}`;
    const tampered = await call(app, consent, { headers: { cookie: `__Host-fg_browser=${flipped}` } });
    expect(tampered.status).toBe(403);
  });

  it('escapes self-asserted client metadata on the consent page', async () => {
    app = await openApp();
    const clientId = await registerPublic(app, { client_name: '<script>alert("x")</script>' });
    const response = await call(app, authorizeUrl(clientId));
    const cookie = response.headers.get('set-cookie')!.split(';')[0]!;
    const page = await call(app, response.headers.get('location')!, { headers: { cookie } });
    const html = await page.text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
  });
});

/**
 * Counterparts of fastmcp tests (docs/compatibility.md), without sockets: SEP-837
 * `application_type` at registration, token-endpoint error codes and statuses (RFC 6749
 * §5.2, where flowgate deliberately differs from fastmcp's 400→401 remapping of
 * `invalid_grant`), the issuer/base-URL split, and remembered consent (no approval cookie
 * outside `remember` mode, a valid one ignored outside it, a tampered one ignored, at most
 * 25 remembered approvals).
 *
 * Protections checked by hand (each test failed with its protection removed, then restored):
 * - the `web` → https check in `register.ts` deleted → the web/loopback and web/custom-scheme
 *   registrations succeed;
 * - `invalid_grant` given status 401 in `oauth/errors.ts` → the RFC 6749 §5.2 test fails;
 *   the grant-type check in `token.ts` deleted → the refresh by an authorization_code-only
 *   client reaches the engine and answers invalid_grant instead of unauthorized_client;
 *   `invalid_grant` dropped from the counted rejections in `token.ts` → the unknown refresh
 *   token leaves no security event;
 * - `settings.consent.mode === 'remember'` dropped from the approval-cookie condition in
 *   `consent.ts` → "always mode sets no approval cookie" fails; dropped from `authorize.ts`
 *   → the always-mode instance honours the remembered approval;
 * - `verifiedValue` accepting any signature → the tampered cookie skips the page;
 * - `MAX_ENTRIES` raised past 27 → the bounded-cookie test remembers the first client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { randomToken } from '../../src/crypto/random.js';
import { createFlowgate, type Flowgate } from '../../src/flowgate.js';
import type { FlowgateConfigInput } from '../../src/config/schema.js';
import { s256Challenge } from '../../src/oauth/pkce.js';
import { call, openApp } from '../support/app.js';
import { testLogger } from '../support/proxy.js';

function register(app: Flowgate, body: Record<string, unknown>) {
  return call(app, '/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function token(app: Flowgate, form: Record<string, string>) {
  return call(app, '/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
}

describe('fastmcp counterparts: application_type at registration (SEP-837)', () => {
  let app: Flowgate;
  afterEach(() => app.close());

  // test_default_application_type_is_native (+ over HTTP), test_native_client_accepts_loopback (+ over HTTP)
  it('defaults to native, which may use an http loopback callback', async () => {
    app = await openApp();
    const response = await register(app, { redirect_uris: ['http://127.0.0.1:53682/callback'], token_endpoint_auth_method: 'none' });
    expect(response.status).toBe(201);
    expect(((await response.json()) as Record<string, unknown>).application_type).toBe('native');
  });

  // test_web_client_accepts_https (+ over HTTP)
  it('accepts https callbacks for a web client', async () => {
    app = await openApp();
    const response = await register(app, { application_type: 'web', redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'none' });
    expect(response.status).toBe(201);
    expect(((await response.json()) as Record<string, unknown>).application_type).toBe('web');
  });

  // test_web_client_rejects_loopback (+ over HTTP), test_web_client_rejects_custom_scheme
  it('refuses http loopback and private-use callbacks for a web client, registering nothing', async () => {
    app = await openApp();
    for (const uri of ['http://127.0.0.1:53682/callback', 'http://localhost/callback', 'com.example.app:/callback', 'cursor://anysphere.cursor-mcp/cb']) {
      const response = await register(app, { application_type: 'web', redirect_uris: [uri], token_endpoint_auth_method: 'none' });
      expect(response.status, uri).toBe(400);
      expect(((await response.json()) as Record<string, unknown>).error, uri).toBe('invalid_redirect_uri');
    }
    expect(await app.store.db.selectFrom('clients').selectAll().execute()).toHaveLength(0);
  });
});

describe('fastmcp counterparts: token endpoint errors (RFC 6749 §5.2)', () => {
  let app: Flowgate;
  afterEach(() => app.close());

  // test_transforms_invalid_grant_to_401 — flowgate deliberately answers 400;
  // test_does_not_transform_grant_type_unauthorized_to_invalid_client; test_does_not_transform_other_400_errors;
  // test_transforms_client_auth_failure_to_invalid_client_401
  it('answers invalid_grant 400, unauthorized_client 400, other request errors 400 and invalid_client 401', async () => {
    app = await openApp();
    const codeOnly = (await (await register(app, { redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' })).json()) as { client_id: string };
    const badCode = await token(app, { grant_type: 'authorization_code', client_id: codeOnly.client_id, code: 'no-such-code', code_verifier: 'a'.repeat(43) });
    expect(badCode.status).toBe(400);
    expect(((await badCode.json()) as { error: string }).error).toBe('invalid_grant');
    const refresh = await token(app, { grant_type: 'refresh_token', client_id: codeOnly.client_id, refresh_token: 'x'.repeat(43) });
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe('unauthorized_client');
    const missing = await token(app, { grant_type: 'authorization_code', client_id: codeOnly.client_id, code: 'c' });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toBe('invalid_request');
    const unknownClient = await token(app, { grant_type: 'authorization_code', client_id: 'nobody', code: 'c', code_verifier: 'a'.repeat(43) });
    expect(unknownClient.status).toBe(401);
    expect(((await unknownClient.json()) as { error: string }).error).toBe('invalid_client');
  });

  // test_unknown_refresh_token_logs_warning: a refresh-token miss is not silent
  it('counts an unknown refresh token in security_events', async () => {
    app = await openApp();
    const client = (await (await register(app, {
      redirect_uris: ['http://127.0.0.1/cb'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    })).json()) as { client_id: string };
    const miss = await token(app, { grant_type: 'refresh_token', client_id: client.client_id, refresh_token: 'x'.repeat(43) });
    expect(miss.status).toBe(400);
    expect(((await miss.json()) as { error: string }).error).toBe('invalid_grant');
    const rows = await app.securityEvents.list({ kind: 'token_invalid_grant' });
    expect(rows.map((r) => [r.clientId, r.count])).toEqual([[client.client_id, 1]]);
  });
});

describe('fastmcp counterparts: issuer identity when endpoints live elsewhere', () => {
  let app: Flowgate;
  afterEach(() => app.close());

  // test_authorization_server_metadata_issuer_is_issuer_url, test_endpoints_stay_on_base_url,
  // test_protected_resource_metadata_points_at_issuer_url, test_authorization_response_iss_matches_metadata_issuer
  it('names the issuer in metadata, PRM and authorization responses, and serves endpoints under the base URL', async () => {
    app = await openApp({ server: { issuer: 'https://id.example.com', baseUrl: 'https://api.example.com/oauth', resources: [{ uri: 'https://api.example.com/mcp' }] } }, 'https://id.example.com');
    const metadata = (await (await call(app, 'https://id.example.com/.well-known/oauth-authorization-server')).json()) as Record<string, string>;
    expect(metadata.issuer).toBe('https://id.example.com');
    expect(metadata.authorization_endpoint).toBe('https://api.example.com/oauth/authorize');
    expect(metadata.token_endpoint).toBe('https://api.example.com/oauth/token');
    const prm = (await (await call(app, 'https://api.example.com/.well-known/oauth-protected-resource/mcp')).json()) as { authorization_servers: string[] };
    expect(prm.authorization_servers).toEqual(['https://id.example.com']);
    const client = (await (await call(app, 'https://api.example.com/oauth/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }),
    })).json()) as { client_id: string };
    const q = new URLSearchParams({ response_type: 'code', client_id: client.client_id, redirect_uri: 'http://127.0.0.1:5000/cb', code_challenge: s256Challenge(randomToken(32)), code_challenge_method: 'plain' });
    const error = await call(app, `https://api.example.com/oauth/authorize?${q}`);
    expect(error.status).toBe(302);
    expect(new URL(error.headers.get('location')!).searchParams.getAll('iss')).toEqual([metadata.issuer]);
  });
});

/** A minimal cookie jar for socketless calls (names only; the tests stay on one origin). */
class Jar {
  readonly cookies = new Map<string, string>();
  take(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/Max-Age=0/i.test(header)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

const CONFIG = (extra: Partial<FlowgateConfigInput>, path: string, masterKey: string): FlowgateConfigInput => ({
  masterKey,
  store: { sqlitePath: path, synchronous: 'NORMAL' },
  server: { issuer: 'https://auth.example.com' },
  upstream: {
    kind: 'oauth2',
    authorizationEndpoint: 'https://github.example/login/oauth/authorize',
    tokenEndpoint: 'https://github.example/login/oauth/access_token',
    userinfoEndpoint: 'https://api.github.example/user',
    clientId: 'upstream-id',
    clientSecret: 'upstream-secret-value',
  },
  ...extra,
});

/** Registers a client, starts a flow in `jar`'s browser, and approves or just opens consent. */
async function startFlow(app: Flowgate, jar: Jar, clientId?: string, headers: Record<string, string> = {}) {
  const id =
    clientId ??
    ((await (await register(app, { redirect_uris: ['http://127.0.0.1:53682/callback'], token_endpoint_auth_method: 'none' })).json()) as { client_id: string }).client_id;
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: id,
    redirect_uri: 'http://127.0.0.1:53682/callback',
    code_challenge: s256Challenge(randomToken(32)),
    code_challenge_method: 'S256',
    state: 's',
  });
  const started = await call(app, `/authorize?${q}`, { headers: { cookie: jar.header(), 'sec-fetch-site': 'none', ...headers } });
  jar.take(started);
  return { clientId: id, started };
}

async function approve(app: Flowgate, jar: Jar, consentLocation: string): Promise<Response> {
  const page = await call(app, consentLocation, { headers: { cookie: jar.header() } });
  const html = await page.text();
  const flow = /name="flow" value="([^"]+)"/.exec(html)![1]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  const decided = await call(app, '/consent', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
    body: new URLSearchParams({ flow, csrf, decision: 'approve' }),
  });
  jar.take(decided);
  return decided;
}

describe('fastmcp counterparts: remembered consent', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // test_default_mode_does_not_set_approval_cookie, test_default_mode_ignores_existing_approval_cookie
  it('sets no approval cookie in always mode, and ignores one a remember-mode instance set', async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-compat-'));
    const key = generateMasterKeyText();
    const db = join(dir, 'flowgate.db');
    const remember = await createFlowgate(CONFIG({ consent: { mode: 'remember' } }, db, key), { logger: testLogger() });
    const jar = new Jar();
    const first = await startFlow(remember, jar);
    expect(first.started.status).toBe(303);
    expect((await approve(remember, jar, first.started.headers.get('location')!)).status).toBe(303);
    expect([...jar.cookies.keys()]).toContain('__Host-fg_consent');
    const again = await startFlow(remember, jar, first.clientId);
    expect(again.started.status).toBe(302); // remembered: straight upstream
    await remember.close();

    const always = await createFlowgate(CONFIG({}, db, key), { logger: testLogger() });
    try {
      const shown = await startFlow(always, jar, first.clientId);
      expect(shown.started.status).toBe(303);
      expect(shown.started.headers.get('location')).toContain('/consent?flow=');
      const fresh = new Jar();
      const other = await startFlow(always, fresh);
      await approve(always, fresh, other.started.headers.get('location')!);
      expect([...fresh.cookies.keys()]).not.toContain('__Host-fg_consent');
    } finally {
      await always.close();
    }
  });

  // test_tampered_cookie_is_ignored; test_consent_state_cookies_are_bounded (flowgate bounds its one remember cookie)
  it('ignores a tampered approval cookie, and remembers at most 25 approvals (newest kept)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-compat-'));
    const app = await createFlowgate(
      CONFIG({ consent: { mode: 'remember' }, registration: { ratePerHour: 100 } }, join(dir, 'flowgate.db'), generateMasterKeyText()),
      { logger: testLogger() },
    );
    try {
      const jar = new Jar();
      const ids: string[] = [];
      for (let i = 0; i < 27; i++) {
        const flow = await startFlow(app, jar);
        await approve(app, jar, flow.started.headers.get('location')!);
        ids.push(flow.clientId);
      }
      expect((await startFlow(app, jar, ids[26])).started.status).toBe(302);
      expect((await startFlow(app, jar, ids[2])).started.status).toBe(302);
      expect((await startFlow(app, jar, ids[0])).started.status).toBe(303);
      expect((await startFlow(app, jar, ids[1])).started.status).toBe(303);
      expect(jar.cookies.get('__Host-fg_consent')!.length).toBeLessThan(4096);

      const value = jar.cookies.get('__Host-fg_consent')!;
      jar.cookies.set('__Host-fg_consent', `${value.slice(0, 10)}${value[10] === 'A' ? 'B' : 'A'}${value.slice(11)}`);
      expect((await startFlow(app, jar, ids[26])).started.status).toBe(303);
    } finally {
      await app.close();
    }
  });
});

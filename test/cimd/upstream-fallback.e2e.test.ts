/**
 * The upstream-client-id fallback (fastmcp #3949: some MCP clients skip registration and
 * send the upstream app's own client id). Off by default; when on, a synthesized public
 * client (recorded in the log on first use) may only send codes to redirect URIs that match
 * `registration.redirectPatterns`, and flowgate refuses to start without patterns.
 *
 * Protections checked by hand (each test failed with its check removed, then restored):
 * - `upstreamClientIdFallback` always set in `createFlowgate` → "off by default" gets a
 *   consent redirect;
 * - the `patterns.length === 0 || !matchesAnyRedirectPattern` test in `resolveRedirectUri`
 *   deleted → the outside-the-patterns URI reaches consent;
 * - the configuration check deleted → the "refuses to start" test creates a flowgate;
 * - `isUpstreamFallbackRecord` check in `lookupClient` deleted → after the flag is turned
 *   off, the recorded synthesized client is looked up again (its empty redirect URI list
 *   still refuses every request, so this is defence in depth: the page is then "Invalid
 *   redirect URI" instead of "Application not registered").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { createFlowgate } from '../../src/flowgate.js';
import { call } from '../support/app.js';
import {
  authorizationRequest,
  authorizeInBrowser,
  exchangeCode,
  HeadlessBrowser,
  startProxy,
  type TestClient,
  type TestProxy,
} from '../support/proxy.js';
import { testLogger } from '../support/proxy.js';

const UPSTREAM_ID = 'flowgate'; // the client id startProxy registers flowgate under at the IdP

describe('upstream client id fallback', () => {
  it('is off by default: the upstream client id is an unknown client', async () => {
    const proxy = await startProxy();
    try {
      expect(proxy.flowgate.config.clients.upstreamClientIdFallback).toBe(false);
      const client: TestClient = { clientId: UPSTREAM_ID, redirectUri: 'http://127.0.0.1:53682/callback' };
      const r = await new HeadlessBrowser().request(authorizationRequest(proxy, client).url);
      expect(r.status).toBe(400);
      expect(r.headers.get('location')).toBeNull();
      expect(await r.text()).toContain('not registered');
      expect(await proxy.flowgate.store.readStream(`client:${UPSTREAM_ID}`)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('refuses to start when it is on and no redirect patterns are configured', () => {
    let error: unknown;
    try {
      parseConfig({ values: { clients: { upstreamClientIdFallback: true } } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.objectContaining({ path: 'clients.upstreamClientIdFallback', message: expect.stringContaining('registration.redirectPatterns') }),
    ]);
    expect(() =>
      parseConfig({ values: { clients: { upstreamClientIdFallback: true }, registration: { redirectPatterns: ['http://127.0.0.1'] } } }),
    ).not.toThrow();
  });

  describe('when on, with patterns', () => {
    let proxy: TestProxy;
    beforeAll(async () => {
      proxy = await startProxy({
        config: () => ({ clients: { upstreamClientIdFallback: true }, registration: { redirectPatterns: ['http://127.0.0.1/callback'] } }),
      });
    });
    afterAll(() => proxy.close());

    it('authorizes the upstream client id as a public client: unverified on the consent page, tokens at /token', async () => {
      const client: TestClient = { clientId: UPSTREAM_ID, redirectUri: 'http://127.0.0.1:53682/callback' };
      const browser = new HeadlessBrowser();
      const request = authorizationRequest(proxy, client);
      const started = await browser.request(request.url);
      expect(started.status).toBe(303);
      const html = await (await browser.request(new URL(started.headers.get('location')!, proxy.url))).text();
      expect(html).toContain('unverified');
      expect(html).not.toContain('verified domain');

      const flow = await authorizeInBrowser(new HeadlessBrowser(), client, request);
      const tokens = await exchangeCode(proxy, client, flow.stoppedAt!.searchParams.get('code')!, request.verifier);
      expect(tokens.status).toBe(200);
      expect((await proxy.flowgate.verifyAccessToken(tokens.body.access_token)).clientId).toBe(UPSTREAM_ID);
      const refreshed = await fetch(`${proxy.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: UPSTREAM_ID }),
      });
      expect(refreshed.status).toBe(200);

      const stream = await proxy.flowgate.store.readStream(`client:${UPSTREAM_ID}`);
      expect(stream[0]).toMatchObject({ type: 'client.registered', data: { kind: 'upstream_fallback', secretHash: null, metadata: { redirect_uris: [] } } });
    });

    it('refuses a redirect URI outside the patterns, or none, with a local page', async () => {
      for (const redirectUri of ['http://127.0.0.1:53682/other', 'http://localhost:53682/callback', 'https://evil.example/callback']) {
        const r = await new HeadlessBrowser().request(authorizationRequest(proxy, { clientId: UPSTREAM_ID, redirectUri }).url);
        expect(r.status, redirectUri).toBe(400);
        expect(r.headers.get('location')).toBeNull();
      }
      const none = await new HeadlessBrowser().request(authorizationRequest(proxy, { clientId: UPSTREAM_ID, redirectUri: '' }).url);
      expect(none.status).toBe(400);
    });

    it('presents no secret: a client secret sent for the upstream id is refused at /token', async () => {
      const r = await fetch(`${proxy.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x', client_id: UPSTREAM_ID, client_secret: 'flowgate-upstream-secret' }),
      });
      expect(r.status).toBe(401);
      expect(((await r.json()) as { error: string }).error).toBe('invalid_client');
    });
  });

  it('stops starting flows for the recorded client once the flag is turned off again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-fallback-'));
    const base = {
      masterKey: generateMasterKeyText(),
      store: { sqlitePath: join(dir, 'flowgate.db'), synchronous: 'NORMAL' as const },
      server: { issuer: 'https://auth.example.com' },
      registration: { redirectPatterns: ['http://127.0.0.1/callback'] },
      upstream: {
        kind: 'oauth2' as const,
        authorizationEndpoint: 'https://github.example/login/oauth/authorize',
        tokenEndpoint: 'https://github.example/login/oauth/access_token',
        userinfoEndpoint: 'https://api.github.example/user',
        clientId: 'upstream-id',
        clientSecret: 'upstream-secret-value',
      },
    };
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: 'upstream-id',
      redirect_uri: 'http://127.0.0.1:53682/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    try {
      const on = await createFlowgate({ ...base, clients: { upstreamClientIdFallback: true } }, { logger: testLogger() });
      expect(on.warnings.some((w) => w.includes('upstreamClientIdFallback'))).toBe(true);
      expect((await call(on, `/authorize?${query}`)).status).toBe(303);
      await on.close();
      const off = await createFlowgate(base, { logger: testLogger() });
      const r = await call(off, `/authorize?${query}`);
      expect(r.status).toBe(400);
      expect(await r.text()).toContain('Application not registered');
      await off.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

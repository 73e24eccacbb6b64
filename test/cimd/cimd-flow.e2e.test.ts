/**
 * A client ID metadata document client end to end, through flowgate and the real upstream
 * IdP on 127.0.0.1: discovery advertises CIMD, `/authorize` with an https URL as
 * `client_id` fetches the document through the injected resolver and connector (canned
 * answers; no packet to the document's host), the consent page names the verified domain,
 * the upstream login and `/token` complete, and the log holds the registration. Refused
 * documents end in a local error page, never a redirect.
 *
 * Protections checked by hand (each test failed with its check removed, then restored):
 * - the pattern check in `documentRedirectProblem` deleted → the pattern test accepts a
 *   document listing a URI outside `registration.redirectPatterns`;
 * - the `verified domain` label replaced by `unverified` for metadata-document clients →
 *   the consent assertion fails;
 * - `lookupClient` using `findActiveClient` only (no fetch) → the flow stops at "not
 *   registered".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authorizationRequest,
  authorizeInBrowser,
  exchangeCode,
  HeadlessBrowser,
  startProxy,
  type TestClient,
  type TestProxy,
} from '../support/proxy.js';
import { documentFor, fakeNetwork, guardSockets, json, type CannedResponse } from './support.js';

const HOST = 'mcp-client.example.com';
const ID = `https://${HOST}/oauth/client-metadata.json`;
const documents = new Map<string, CannedResponse>();

describe('client ID metadata documents end to end', () => {
  let proxy: TestProxy;
  let guard: ReturnType<typeof guardSockets>;
  const network = fakeNetwork({
    dns: { [HOST]: ['93.184.216.34'], 'rebind.example.com': ['10.0.0.8'] },
    serve: (target) => documents.get(`https://${target.host}${target.path}`) ?? { status: 404, body: 'not found' },
  });
  const client: TestClient = { clientId: ID, redirectUri: 'http://127.0.0.1:53682/callback' };

  beforeAll(async () => {
    guard = guardSockets();
    documents.set(ID, json(documentFor(ID, { client_name: 'Example Desktop', redirect_uris: ['http://127.0.0.1/callback'] })));
    proxy = await startProxy({ flowgate: { cimd: { resolve: network.resolve, connect: network.connect } } });
  });
  afterAll(async () => {
    await proxy.close();
    guard.restore();
    expect(guard.attempts.filter((a) => !a.startsWith('127.0.0.1') && !a.startsWith('localhost') && !a.startsWith('::1'))).toEqual([]);
  });

  async function get(url: string, browser = new HeadlessBrowser()) {
    const response = await browser.request(url);
    return { status: response.status, location: response.headers.get('location'), body: await response.text() };
  }

  it('advertises client_id_metadata_document_supported', async () => {
    const body = (await (await fetch(`${proxy.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(body.client_id_metadata_document_supported).toBe(true);
    expect(body.token_endpoint_auth_methods_supported).toContain('none');
  });

  it('authorizes with the URL as client_id: consent shows the verified domain, then tokens', async () => {
    const browser = new HeadlessBrowser();
    const request = authorizationRequest(proxy, client);
    const started = await browser.request(request.url);
    expect(started.status).toBe(303);
    const consent = await browser.request(new URL(started.headers.get('location')!, proxy.url));
    const html = await consent.text();
    expect(html).toContain('Example Desktop');
    expect(html).toContain(`verified domain ${HOST}`);
    expect(html).not.toContain('>unverified<');
    expect(html).toContain('127.0.0.1:53682');

    const flow = await authorizeInBrowser(new HeadlessBrowser(), client, request);
    const code = flow.stoppedAt!.searchParams.get('code')!;
    expect(flow.stoppedAt!.searchParams.get('state')).toBe(request.state);
    const tokens = await exchangeCode(proxy, client, code, request.verifier);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools' });
    expect(typeof tokens.body.refresh_token).toBe('string');
    const verified = await proxy.flowgate.verifyAccessToken(tokens.body.access_token);
    expect(verified.clientId).toBe(ID);

    const stream = await proxy.flowgate.store.readStream(`client:${ID}`);
    expect(stream[0]).toMatchObject({ type: 'client.registered', data: { clientId: ID, kind: 'metadata_document' } });
    // Only the document host was resolved, and only its public address was "connected" to.
    expect(new Set(network.log.resolved)).toEqual(new Set([HOST]));
    expect(new Set(network.log.connected.map((t) => t.address))).toEqual(new Set(['93.184.216.34']));
    expect(network.log.connected.every((t) => t.servername === HOST && t.host === HOST)).toBe(true);
  });

  it('refuses a redirect URI the document does not list, with a local page', async () => {
    for (const redirectUri of ['http://127.0.0.1:53682/other', 'http://localhost:53682/callback', 'https://evil.example/callback']) {
      const r = await get(authorizationRequest(proxy, { ...client, redirectUri }).url);
      expect(r.status).toBe(400);
      expect(r.location).toBeNull();
    }
  });

  it('shows a local page, never a redirect, when the document cannot be fetched or is not acceptable', async () => {
    const cases: Array<[string, CannedResponse | undefined, RegExp]> = [
      [`https://${HOST}/missing.json`, undefined, /could not be fetched/],
      [`https://${HOST}/redirect.json`, { status: 302, headers: { location: 'http://169.254.169.254/' } }, /could not be fetched/],
      [`https://${HOST}/mismatch.json`, json(documentFor(`https://${HOST}/other.json`)), /client_id is not the URL/],
      [`https://${HOST}/bad-redirect.json`, json(documentFor(`https://${HOST}/bad-redirect.json`, { redirect_uris: ['javascript:alert(1)'] })), /redirect_uris/],
      ['https://rebind.example.com/c.json', json(documentFor('https://rebind.example.com/c.json')), /could not be fetched/],
    ];
    for (const [id, canned, message] of cases) {
      if (canned) documents.set(id, canned);
      const r = await get(authorizationRequest(proxy, { clientId: id, redirectUri: 'http://127.0.0.1:53682/callback' }).url);
      expect(r.status, id).toBe(400);
      expect(r.location, id).toBeNull();
      expect(r.body, id).toMatch(message);
      expect(r.body, id).not.toContain('10.0.0.8');
      expect(await proxy.flowgate.store.readStream(`client:${id}`), id).toEqual([]);
    }
    expect(network.log.connected.map((t) => t.address)).not.toContain('10.0.0.8');
  });

  it('treats URLs that are not metadata-document ids as unknown clients, without fetching', async () => {
    const before = network.log.resolved.length;
    for (const id of [`http://${HOST}/c.json`, `https://${HOST}/`, `https://${HOST.toUpperCase()}/c.json`]) {
      const r = await get(authorizationRequest(proxy, { clientId: id, redirectUri: 'http://127.0.0.1:53682/callback' }).url);
      expect(r.status).toBe(400);
      expect(r.body).toContain('not registered');
    }
    expect(network.log.resolved.length).toBe(before);
  });
});

describe('client ID metadata documents with redirect patterns, and turned off', () => {
  it('applies registration.redirectPatterns to a metadata document: a listed URI outside them refuses the document', async () => {
    const narrowId = `https://${HOST}/narrow.json`;
    const network = fakeNetwork({
      dns: { [HOST]: ['93.184.216.34'] },
      serve: (target) =>
        target.path === '/narrow.json'
          ? json(documentFor(narrowId, { redirect_uris: ['http://127.0.0.1:40000/callback'] }))
          : json(documentFor(ID, { redirect_uris: ['http://127.0.0.1:40000/callback', 'http://127.0.0.1/callback'] })),
    });
    const narrow = await startProxy({
      config: () => ({ registration: { redirectPatterns: ['http://127.0.0.1:40000'] } }),
      flowgate: { cimd: { resolve: network.resolve, connect: network.connect } },
    });
    try {
      const allowed = await new HeadlessBrowser().request(authorizationRequest(narrow, { clientId: narrowId, redirectUri: 'http://127.0.0.1:40000/callback' }).url);
      expect(allowed.status).toBe(303);
      const refused = await new HeadlessBrowser().request(authorizationRequest(narrow, { clientId: ID, redirectUri: 'http://127.0.0.1:40000/callback' }).url);
      expect(refused.status).toBe(400);
      expect(refused.headers.get('location')).toBeNull();
      expect(await refused.text()).toContain('not allowed by this server');
    } finally {
      await narrow.close();
    }
  });

  it('with cimd.enabled false: no metadata flag, and a URL client_id is an unknown client (nothing fetched)', async () => {
    const network = fakeNetwork({ dns: { [HOST]: ['93.184.216.34'] }, serve: () => json(documentFor(ID)) });
    const off = await startProxy({ config: () => ({ cimd: { enabled: false } }), flowgate: { cimd: { resolve: network.resolve, connect: network.connect } } });
    try {
      const metadata = (await (await fetch(`${off.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
      expect(metadata.client_id_metadata_document_supported).toBeUndefined();
      const r = await new HeadlessBrowser().request(authorizationRequest(off, { clientId: ID, redirectUri: 'http://127.0.0.1:53682/callback' }).url);
      expect(r.status).toBe(400);
      expect(await r.text()).toContain('not registered');
      expect(network.log.resolved).toEqual([]);
    } finally {
      await off.close();
    }
  });
});

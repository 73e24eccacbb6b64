/**
 * DNS-rebinding protection of the embeddable `createFlowgate().fetch` (security finding F6,
 * the MCP TypeScript SDK's CVE-2025-66414): an application that mounts flowgate's `fetch` in
 * its own server bound to loopback gets the Host and Origin checks of `flowgate serve`
 * without doing anything. With a loopback issuer a foreign `Host` gets 421 and a browser
 * request from a foreign `Origin` gets 403, while the issuer's host, the loopback names on
 * its port and loopback pages pass; a non-loopback issuer is not checked unless
 * `server.hostCheck` is `on` or `server.allowedHosts` names hosts; `off` turns it off.
 * Checked by hand: with `fetch` in src/flowgate.ts calling `app.fetch` without `check(request)`,
 * every test expecting a 421 or 403 from `fetch` fails (6 of 11, the real-socket one included:
 * 200 instead of 421 / 403).
 */
import { serve, type ServerType } from '@hono/node-server';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';
import type { FlowgateConfigInput } from '../../src/config/schema.js';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { createFlowgate, type Flowgate, type FlowgateOptions } from '../../src/flowgate.js';
import { testLogger } from '../support/proxy.js';

const PORT = 38787;
const METADATA = '/.well-known/oauth-authorization-server';

let app: Flowgate | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function open(server: NonNullable<FlowgateConfigInput['server']>, options: FlowgateOptions = {}): Promise<Flowgate> {
  app = await createFlowgate(
    {
      masterKey: generateMasterKeyText(),
      store: { sqlitePath: ':memory:' },
      upstream: { kind: 'oauth2', authorizationEndpoint: 'https://idp.example/authorize', tokenEndpoint: 'https://idp.example/token', userinfoEndpoint: 'https://idp.example/user', clientId: 'upstream-id', clientSecret: 'upstream-secret-value' },
      server,
    },
    { logger: testLogger(), ...options },
  );
  return app;
}

/** A request to `path` on the issuer's base URL, with the given `Host` and `Origin` headers. */
function send(flowgate: Flowgate, path: string, headers: { host?: string; origin?: string } = {}, init: RequestInit = {}): Promise<Response> {
  return flowgate.fetch(new Request(new URL(path, `${flowgate.settings.baseUrl}/`), { ...init, headers: { ...(init.headers as Record<string, string>), ...headers } }));
}

async function refusal(response: Response): Promise<[number, string]> {
  return [response.status, ((await response.json()) as { error_description: string }).error_description];
}

describe('the Host and Origin check of the embeddable fetch', () => {
  it('with a loopback issuer, refuses a foreign Host with 421 and a foreign Origin with 403, on every endpoint', async () => {
    const flowgate = await open({ issuer: `http://127.0.0.1:${PORT}` });
    expect(await refusal(await send(flowgate, METADATA, { host: `evil.example:${PORT}` }))).toEqual([421, 'unexpected Host header']);
    const rebound = await send(flowgate, '/register', { host: `evil.example:${PORT}` }, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:53682/callback'] }),
    });
    expect(rebound.status).toBe(421);
    expect(rebound.headers.get('cache-control')).toBe('no-store');
    // A loopback name on another port is another server.
    expect((await send(flowgate, METADATA, { host: 'localhost:9999' })).status).toBe(421);

    expect(await refusal(await send(flowgate, METADATA, { origin: 'https://evil.example' }))).toEqual([403, 'unexpected Origin header']);
    expect((await send(flowgate, METADATA, { origin: 'null' })).status).toBe(403);
    expect((await send(flowgate, '/authorize?client_id=x', { origin: `http://evil.example:${PORT}` })).status).toBe(403);
  });

  it('with a loopback issuer, accepts its host, the loopback names on its port and loopback pages', async () => {
    const flowgate = await open({ issuer: `http://127.0.0.1:${PORT}` });
    for (const host of [`127.0.0.1:${PORT}`, `localhost:${PORT}`, `[::1]:${PORT}`, `LOCALHOST:${PORT}`]) {
      expect((await send(flowgate, METADATA, { host })).status, host).toBe(200);
    }
    expect((await send(flowgate, METADATA)).status).toBe(200); // no Host header: the request URL's
    for (const origin of ['http://localhost:6274', 'http://127.0.0.1:6274', `http://127.0.0.1:${PORT}`, 'http://[::1]:6274']) {
      expect((await send(flowgate, METADATA, { host: `127.0.0.1:${PORT}`, origin })).status, origin).toBe(200);
    }
  });

  it('with a localhost issuer, also accepts server.allowedHosts and pages on them', async () => {
    const flowgate = await open({ issuer: `http://localhost:${PORT}`, allowedHosts: [`MCP.localtest.me:${PORT}`] });
    for (const host of [`localhost:${PORT}`, `127.0.0.1:${PORT}`, `mcp.localtest.me:${PORT}`]) {
      expect((await send(flowgate, METADATA, { host })).status, host).toBe(200);
    }
    expect((await send(flowgate, METADATA, { origin: `http://mcp.localtest.me:${PORT}` })).status).toBe(200);
    expect((await send(flowgate, METADATA, { host: `evil.example:${PORT}` })).status).toBe(421);
    expect((await send(flowgate, METADATA, { origin: 'http://mcp.localtest.me' })).status).toBe(403);
  });

  it('checks the routes an application serves next to flowgate with checkRequest, and fetch serves a request that passed it', async () => {
    const flowgate = await open({ issuer: `http://127.0.0.1:${PORT}` });
    const foreign = new Request(`http://127.0.0.1:${PORT}/mcp`, { headers: { host: `evil.example:${PORT}` } });
    expect(flowgate.checkRequest(foreign)?.status).toBe(421);
    expect(flowgate.checkRequest(new Request(`http://127.0.0.1:${PORT}/mcp`, { headers: { origin: 'https://evil.example' } }))?.status).toBe(403);
    const own = new Request(`http://127.0.0.1:${PORT}${METADATA}`);
    expect(flowgate.checkRequest(own)).toBeUndefined();
    expect((await flowgate.fetch(own)).status).toBe(200);
  });

  it('with a non-loopback issuer, does not check by default (the reverse proxy decides which names reach flowgate)', async () => {
    const flowgate = await open({ issuer: 'https://auth.example.com' });
    expect((await send(flowgate, METADATA, { host: 'evil.example' })).status).toBe(200);
    expect((await send(flowgate, METADATA, { host: 'flowgate.internal:8080', origin: 'https://evil.example' })).status).toBe(200);
    expect(flowgate.checkRequest(new Request('https://auth.example.com/mcp', { headers: { host: 'evil.example' } }))).toBeUndefined();
  });

  it('with a non-loopback issuer, checks against an explicit list: server.allowedHosts, or hostCheck on', async () => {
    const listed = await open({ issuer: 'https://auth.example.com', allowedHosts: ['flowgate.internal:8080'] });
    for (const host of ['auth.example.com', 'flowgate.internal:8080']) expect((await send(listed, METADATA, { host })).status, host).toBe(200);
    expect(await refusal(await send(listed, METADATA, { host: 'evil.example' }))).toEqual([421, 'unexpected Host header']);
    expect((await send(listed, METADATA, { host: '127.0.0.1:8080' })).status).toBe(421); // no loopback names for a public issuer
    expect((await send(listed, METADATA, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await send(listed, METADATA, { origin: 'https://auth.example.com' })).status).toBe(200);
    await listed.close();

    const on = await open({ issuer: 'https://auth.example.com', hostCheck: 'on' });
    expect((await send(on, METADATA, { host: 'auth.example.com' })).status).toBe(200);
    expect((await send(on, METADATA, { host: 'flowgate.internal:8080' })).status).toBe(421);
  });

  it('accepts the host of server.baseUrl too', async () => {
    const flowgate = await open({ issuer: 'https://auth.example.com', baseUrl: 'https://login.example.com/oauth', hostCheck: 'on' });
    expect((await send(flowgate, '/oauth/.well-known/jwks.json', { host: 'login.example.com' })).status).toBe(200);
    expect((await send(flowgate, '/oauth/.well-known/jwks.json', { host: 'evil.example' })).status).toBe(421);
  });

  it('is off with server.hostCheck off, even for a loopback issuer', async () => {
    const flowgate = await open({ issuer: `http://127.0.0.1:${PORT}`, hostCheck: 'off' });
    expect((await send(flowgate, METADATA, { host: `evil.example:${PORT}` })).status).toBe(200);
    expect((await send(flowgate, METADATA, { origin: 'https://evil.example' })).status).toBe(200);
    expect(flowgate.checkRequest(new Request(`http://127.0.0.1:${PORT}/mcp`, { headers: { host: `evil.example:${PORT}` } }))).toBeUndefined();
  });

  it('on a loopback bind (the listen option of flowgate serve), checks whatever the issuer and accepts the loopback names on the bound port', async () => {
    const flowgate = await open({ issuer: 'https://auth.example.com' }, { listen: { host: '127.0.0.1', port: 41234 } });
    for (const host of ['auth.example.com', '127.0.0.1:41234', 'localhost:41234']) expect((await send(flowgate, METADATA, { host })).status, host).toBe(200);
    expect((await send(flowgate, METADATA, { host: 'evil.example:41234' })).status).toBe(421);
    await flowgate.close();
    const public_ = await open({ issuer: 'https://auth.example.com' }, { listen: { host: '0.0.0.0', port: 41234 } });
    expect((await send(public_, METADATA, { host: 'evil.example:41234' })).status).toBe(200);
  });

  it('refuses a URL in server.allowedHosts', () => {
    const parse = () => parseConfig({ values: { server: { allowedHosts: ['https://mcp.example.com'] } } });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(/server\.allowedHosts/);
  });
});

describe('an application serving the embeddable fetch on 127.0.0.1', () => {
  let server: ServerType | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('refuses a rebound Host and a foreign Origin, and serves its own origin', async () => {
    let handler: (request: Request, env: unknown) => Promise<Response> = async () => new Response('starting', { status: 503 });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: (request, env) => handler(request, env), port: 0, hostname: '127.0.0.1', overrideGlobalObjects: false }, () => resolve(s));
    });
    const port = (server.address() as AddressInfo).port;
    const url = `http://127.0.0.1:${port}`;
    const flowgate = await open({ issuer: url });
    // What an embedder writes: flowgate's fetch for its paths (here: every path).
    handler = (request, env) => flowgate.fetch(request, env);

    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${url}${METADATA}`, { headers }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status({ host: `evil.example:${port}` })).toBe(421);
    expect(await status({ origin: 'https://evil.example' })).toBe(403);
    expect(await status({})).toBe(200);
    expect(await status({ host: `localhost:${port}`, origin: 'http://localhost:6274' })).toBe(200);
  });
});

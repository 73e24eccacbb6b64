/**
 * `flowgateExpress` must come before body parsers (flowgate reads the raw body). The MCP
 * SDK's `createMcpExpressApp()` installs `express.json()` first, so adding flowgate to such an
 * app is an easy mistake: flowgate's requests then fail with a clear `ERR_BODY_ALREADY_READ`
 * (500) instead of being answered as if their body were empty ("the registration request is
 * not valid JSON", "grant_type is missing"). Checked by hand: without the `readableEnded`
 * check in src/resource/express.ts, the first test gets that misleading 400.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import express from 'express';
import { flowgateExpress } from 'flowgate/express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flowgate } from '../../src/flowgate.js';
import { openApp } from '../support/app.js';

const REGISTRATION = JSON.stringify({ redirect_uris: ['http://127.0.0.1:53682/callback'], token_endpoint_auth_method: 'none' });

describe('flowgateExpress and body parsers', () => {
  let flowgate: Flowgate;
  const servers: Server[] = [];
  beforeAll(async () => {
    // The issuer names no port these servers listen on: the Host check (on for a loopback
    // issuer) would refuse every request, and this file is about body parsers.
    flowgate = await openApp({ server: { hostCheck: 'off' } }, 'http://127.0.0.1:9');
  });
  afterAll(async () => {
    for (const server of servers) server.close();
    await flowgate?.close();
  });

  async function serve(app: express.Express): Promise<string> {
    const server = createServer(app);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('fails flowgate requests whose body a parser already read, naming the mistake', async () => {
    const app = createMcpExpressApp(); // express.json() first
    app.use(flowgateExpress(flowgate));
    const url = await serve(app);
    const response = await fetch(`${url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: REGISTRATION });
    expect(response.status).toBe(500);
    expect(await response.text()).toContain('flowgateExpress() must come before body parsers');
    // Requests without a body are unaffected.
    expect((await fetch(`${url}/.well-known/oauth-authorization-server`)).status).toBe(200);
  });

  it('serves them when it comes first', async () => {
    const app = express();
    app.use(flowgateExpress(flowgate));
    app.use(express.json());
    const url = await serve(app);
    const response = await fetch(`${url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: REGISTRATION });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ token_endpoint_auth_method: 'none' });
  });
});

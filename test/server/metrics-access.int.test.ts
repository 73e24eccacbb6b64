/**
 * `/metrics` access (`serve.metrics`): open by default, 404 when disabled, and with a bearer
 * token configured only a request carrying that token reads it (RFC 6750 §3 challenges).
 * Checked by hand: with the `checkMetricsAuthorization` call removed from serve.ts, the
 * token test fails (200 instead of 401 for the requests without or with a wrong token).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { generateMasterKeyText } from '../../src/crypto/master-key.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { testLogger } from '../support/proxy.js';

const TOKEN = 'metrics-token-0123456789abcdefghijklmnop';

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function serveWith(metrics: Record<string, unknown>): Promise<RunningServer> {
  const config = parseConfig({
    values: {
      masterKey: generateMasterKeyText(),
      store: { sqlitePath: ':memory:' },
      serve: { port: 0, logLevel: 'silent', metrics },
      upstream: {
        kind: 'oauth2',
        authorizationEndpoint: 'https://idp.example/authorize',
        tokenEndpoint: 'https://idp.example/token',
        userinfoEndpoint: 'https://idp.example/user',
        clientId: 'upstream-id',
        clientSecret: 'upstream-secret-value',
      },
    },
  });
  running = await startServer(config, {
    logger: testLogger(),
    configure: (url) => parseConfig({ values: { ...config, server: { ...config.server, issuer: url } } }),
  });
  return running;
}

describe('/metrics access', () => {
  it('is open by default', async () => {
    const server = await serveWith({});
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^# HELP flowgate_/m);
  });

  it('answers only the configured bearer token, with RFC 6750 challenges otherwise', async () => {
    const server = await serveWith({ bearerToken: TOKEN });

    const missing = await fetch(`${server.url}/metrics`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="flowgate metrics"');
    expect(await missing.json()).toMatchObject({ error: 'invalid_token' });

    const wrong = await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="flowgate metrics", error="invalid_token"');

    const basic = await fetch(`${server.url}/metrics`, { headers: { Authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } });
    expect(basic.status).toBe(401);

    const right = await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    expect(await right.text()).toMatch(/^# HELP flowgate_/m);
  });

  it('is not served when disabled', async () => {
    const server = await serveWith({ enabled: false });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
  });

  it('refuses a token shorter than 32 characters at configuration time', () => {
    expect(() => parseConfig({ values: { serve: { metrics: { bearerToken: 'short' } } } })).toThrow(/bearerToken/);
  });
});

/**
 * The default network operations, on 127.0.0.1 only: the connector opens its TCP
 * connection to the address it is given (never resolving a name), sends the host name as
 * TLS SNI and as `Host`, verifies the certificate against that name, and returns a 3xx as
 * it is (no redirect is followed). The default resolver reads `localhost` from the system,
 * and a fetch of `https://localhost/…` through the whole fetcher is refused before any
 * connection. No packet leaves the machine: the socket guard fails any connection to a
 * non-loopback address.
 *
 * Protections checked by hand (each test failed with its change, then restored):
 * - SNI forced empty (`servername: ''`) → no SNI, and the certificate is checked against
 *   127.0.0.1: the SNI/Host test and the redirect test fail;
 * - `host: target.address` replaced by the host name (so Node would resolve it) → the
 *   connector's own `lookup` refusal makes the pinned-connection, certificate and
 *   redirect tests fail.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCimdFetcher } from '../../src/cimd/fetcher.js';
import { createSystemConnect, systemConnect, systemResolve, type ConnectTarget } from '../../src/cimd/net.js';
import { guardSockets } from './support.js';

const fixtures = join(import.meta.dirname, 'fixtures');
const cert = readFileSync(join(fixtures, 'client-test.crt'), 'utf8');
const key = readFileSync(join(fixtures, 'client-test.key'), 'utf8');

describe('default connector and resolver (loopback only)', () => {
  let server: Server;
  let port: number;
  const seen: Array<{ sni: string | false | null; host: string | undefined; path: string | undefined }> = [];
  let guard: ReturnType<typeof guardSockets>;

  beforeAll(async () => {
    guard = guardSockets();
    server = createServer({ cert, key }, (req, res) => {
      seen.push({ sni: (req.socket as TLSSocket).servername, host: req.headers.host, path: req.url });
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'https://169.254.169.254/latest/meta-data' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ client_id: 'https://client.test/c.json', redirect_uris: ['http://127.0.0.1/cb'] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    guard.restore();
    expect(guard.attempts.every((a) => a.startsWith('127.0.0.1:'))).toBe(true);
  });

  function target(path: string, servername = 'client.test'): ConnectTarget {
    return {
      address: '127.0.0.1',
      family: 4,
      port,
      servername,
      host: `client.test:${port}`,
      path,
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(5000),
    };
  }

  async function body(response: { body: AsyncIterable<Uint8Array> }): Promise<string> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of response.body) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8');
  }

  it('connects to the given address with the host name as SNI and Host, checking the certificate against it', async () => {
    const connect = createSystemConnect({ ca: cert });
    const response = await connect(target('/c.json'));
    expect(response.status).toBe(200);
    expect(JSON.parse(await body(response))).toMatchObject({ client_id: 'https://client.test/c.json' });
    response.destroy();
    expect(seen.at(-1)).toEqual({ sni: 'client.test', host: `client.test:${port}`, path: '/c.json' });
    // "client.test" has no DNS entry: the only way this worked is the pinned address.
  });

  it('refuses a certificate that does not name the host, and an untrusted one', async () => {
    await expect(createSystemConnect({ ca: cert })(target('/c.json', 'other.test'))).rejects.toThrow(/altnames|Hostname/i);
    await expect(systemConnect(target('/c.json'))).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
  });

  it('returns a redirect as it is, without following it', async () => {
    const before = seen.length;
    const response = await createSystemConnect({ ca: cert })(target('/redirect'));
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe('https://169.254.169.254/latest/meta-data');
    response.destroy();
    expect(seen.length).toBe(before + 1);
  });

  it('refuses to connect to a name instead of an address', async () => {
    await expect(createSystemConnect({ ca: cert })({ ...target('/c.json'), address: 'client.test' })).rejects.toThrow(/not an IP address/);
  });

  it('resolves localhost to loopback addresses, which the fetcher refuses before connecting', async () => {
    const addresses = await systemResolve('localhost');
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.every((a) => a.address === '::1' || a.address.startsWith('127.'))).toBe(true);
    const attempts = guard.attempts.length;
    const fetcher = createCimdFetcher({ resolve: systemResolve, connect: systemConnect, timeoutMs: 2000, maxBytes: 5120, cacheSeconds: 60 });
    expect(await fetcher.fetch(new URL(`https://localhost:${port}/c.json`))).toMatchObject({ ok: false, stage: 'special_address' });
    expect(guard.attempts.length).toBe(attempts);
  });
});

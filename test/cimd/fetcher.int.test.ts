/**
 * The SSRF-safe metadata-document fetcher with an injected resolver and connector that
 * record every target. Nothing here opens a socket: the connector serves canned
 * responses, and {@link guardSockets} fails the file if any real connection to a
 * non-loopback address is attempted.
 *
 * Protections checked by hand (each test failed with its check removed, then restored):
 * - the special-address loop in `attempt` deleted → every SSRF case connects;
 * - "every address must be acceptable" changed to "skip special ones" → the mixed case
 *   connects to the good address;
 * - `address` in the connect target replaced by a second `resolve` call → the rebinding
 *   case connects to 10.0.0.1;
 * - the 3xx check deleted → the canned redirects (JSON `{}` bodies) are read as documents
 *   and the redirect cases fail; nothing ever follows them (the connector sees one request);
 * - the `size > maxBytes` check in `readCapped` deleted → the streamed oversized case
 *   reads every chunk; the Content-Length pre-check deleted → the declared-size case
 *   reads the body;
 * - `untilAborted` replaced by the bare promise → the hanging resolver, connector and
 *   body cases never finish (test timeout);
 * - the Content-Type check deleted → the text/html case succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCimdFetcher, reuseSeconds, type CimdFetcherOptions } from '../../src/cimd/fetcher.js';
import { classifyAddress } from '../../src/cimd/ip-classifier.js';
import { documentFor, fakeNetwork, guardSockets, json, type FakeNetworkOptions } from './support.js';

const URL_ID = 'https://client.example.com/oauth/metadata.json';
const PUBLIC_V4 = '93.184.216.34';
const PUBLIC_V6 = '2606:2800:220:1:248:1893:25c8:1946';

let guard: ReturnType<typeof guardSockets>;
/** Every target any fake connector in this file was asked to connect to. */
const everyTarget: string[] = [];
beforeAll(() => {
  guard = guardSockets();
});
afterAll(() => {
  guard.restore();
  // No real socket was opened, and the connector was only ever handed public addresses.
  expect(guard.attempts).toEqual([]);
  expect(everyTarget.length).toBeGreaterThan(0);
  expect(everyTarget.filter((address) => !classifyAddress(address).allowed)).toEqual([]);
});

function setup(net: Partial<FakeNetworkOptions> & Pick<FakeNetworkOptions, 'serve'>, options: Partial<CimdFetcherOptions> = {}) {
  const network = fakeNetwork({ dns: { 'client.example.com': [PUBLIC_V4] }, ...net });
  const connect: typeof network.connect = (target) => {
    everyTarget.push(target.address);
    return network.connect(target);
  };
  const fetcher = createCimdFetcher({
    resolve: network.resolve,
    connect,
    timeoutMs: 300,
    maxBytes: 5120,
    cacheSeconds: 600,
    ...options,
  });
  return { fetcher, log: network.log };
}

const okDocument = () => json(documentFor(URL_ID));

describe('metadata-document fetcher', () => {
  it('fetches over https from the validated address, with SNI and Host set to the host name', async () => {
    const { fetcher, log } = setup({ serve: okDocument });
    const outcome = await fetcher.fetch(new URL(URL_ID));
    expect(outcome).toMatchObject({ ok: true, json: { client_id: URL_ID }, cacheSeconds: 600, address: PUBLIC_V4 });
    expect(log.resolved).toEqual(['client.example.com']);
    expect(log.connected).toHaveLength(1);
    expect(log.connected[0]).toMatchObject({
      address: PUBLIC_V4,
      family: 4,
      port: 443,
      servername: 'client.example.com',
      host: 'client.example.com',
      path: '/oauth/metadata.json',
      headers: { accept: 'application/json' },
    });
  });

  it('keeps a non-default port in the Host header and the query in the path', async () => {
    const id = 'https://client.example.com:8443/c.json?v=2';
    const { fetcher, log } = setup({ serve: () => json(documentFor(id)) });
    expect((await fetcher.fetch(new URL(id))).ok).toBe(true);
    expect(log.connected[0]).toMatchObject({ port: 8443, host: 'client.example.com:8443', servername: 'client.example.com', path: '/c.json?v=2' });
  });

  describe('refuses before connecting when any resolved address is special-use', () => {
    const SPECIAL: ReadonlyArray<readonly [string, string]> = [
      ['private 10/8', '10.1.2.3'],
      ['private 172.16/12', '172.20.0.5'],
      ['private 192.168/16', '192.168.0.10'],
      ['loopback', '127.0.0.1'],
      ['loopback (not .1)', '127.53.0.1'],
      ['link-local / cloud metadata', '169.254.169.254'],
      ['CGNAT', '100.64.0.1'],
      ['multicast', '239.255.255.250'],
      ['unspecified', '0.0.0.0'],
      ['"this network"', '0.1.2.3'],
      ['documentation', '203.0.113.9'],
      ['benchmarking', '198.18.5.5'],
      ['reserved', '250.1.1.1'],
      ['broadcast', '255.255.255.255'],
      ['IPv6 loopback', '::1'],
      ['IPv6 unspecified', '::'],
      ['IPv6 link-local', 'fe80::1'],
      ['IPv6 unique local', 'fd00:ec2::254'],
      ['IPv6 multicast', 'ff02::1'],
      ['IPv6 documentation', '2001:db8::10'],
      ['IPv4-mapped IPv6 of a private address', '::ffff:10.0.0.1'],
      ['IPv4-mapped IPv6 of a public address', '::ffff:8.8.8.8'],
      ['IPv4-mapped IPv6 in hex', '::ffff:a9fe:a9fe'],
      ['IPv4-compatible IPv6', '::127.0.0.1'],
      ['6to4 embedding loopback', '2002:7f00:1::1'],
      ['6to4 embedding link-local', '2002:a9fe:a9fe::'],
      ['Teredo embedding a private client', '2001:0:4136:e378:8000:63bf:f5ff:fffe'],
      ['NAT64 embedding metadata', '64:ff9b::169.254.169.254'],
      ['local-use NAT64', '64:ff9b:1::a'],
    ];
    it.each(SPECIAL)('%s (%s)', async (_name, address) => {
      expect(classifyAddress(address).allowed).toBe(false);
      const { fetcher, log } = setup({ dns: { 'client.example.com': [address] }, serve: okDocument });
      const outcome = await fetcher.fetch(new URL(URL_ID));
      expect(outcome).toMatchObject({ ok: false, stage: 'special_address' });
      expect(log.connected).toEqual([]);
    });

    it('when one address of several is special (good first, bad last, and the reverse)', async () => {
      for (const addresses of [[PUBLIC_V4, '10.0.0.7'], ['::1', PUBLIC_V4], [PUBLIC_V4, PUBLIC_V6, 'fe80::2']]) {
        const { fetcher, log } = setup({ dns: { 'client.example.com': addresses }, serve: okDocument });
        expect(await fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false, stage: 'special_address' });
        expect(log.connected).toEqual([]);
      }
    });

    it('for an IP-literal host, without resolving it', async () => {
      for (const id of ['https://127.0.0.1/c.json', 'https://[::1]/c.json', 'https://169.254.169.254/latest/meta-data', 'https://[::ffff:a00:1]/c']) {
        const { fetcher, log } = setup({ serve: okDocument });
        expect(await fetcher.fetch(new URL(id))).toMatchObject({ ok: false, stage: 'special_address' });
        expect(log.resolved).toEqual([]);
        expect(log.connected).toEqual([]);
      }
    });
  });

  it('accepts public IPv6 and public transition addresses', async () => {
    for (const address of [PUBLIC_V6, '2002:0808:0808::1', '64:ff9b::808:808']) {
      const { fetcher, log } = setup({ dns: { 'client.example.com': [address] }, serve: okDocument });
      expect((await fetcher.fetch(new URL(URL_ID))).ok).toBe(true);
      expect(log.connected[0]).toMatchObject({ address, family: 6, servername: 'client.example.com' });
    }
  });

  it('resolves once and connects to the validated address: a rebinding DNS answer is never used', async () => {
    const answers = [[PUBLIC_V4], ['10.0.0.1'], ['127.0.0.1']];
    let lookups = 0;
    const { fetcher, log } = setup({ dns: { 'client.example.com': () => answers[lookups++]! }, serve: okDocument });
    expect((await fetcher.fetch(new URL(URL_ID))).ok).toBe(true);
    expect(lookups).toBe(1);
    expect(log.connected.map((t) => t.address)).toEqual([PUBLIC_V4]);
    // The next fetch sees the rebound answer, and refuses it before connecting.
    expect(await fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false, stage: 'special_address' });
    expect(log.connected.map((t) => t.address)).toEqual([PUBLIC_V4]);
  });

  it('tries the next validated address when one cannot be reached', async () => {
    const { fetcher, log } = setup({
      dns: { 'client.example.com': [PUBLIC_V4, PUBLIC_V6] },
      serve: (target) => (target.address === PUBLIC_V4 ? 'refuse' : okDocument()),
    });
    expect(await fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: true, address: PUBLIC_V6 });
    expect(log.connected.map((t) => t.address)).toEqual([PUBLIC_V4, PUBLIC_V6]);
    const none = setup({ serve: () => 'refuse' });
    expect(await none.fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false, stage: 'connect' });
  });

  it('fails when the name does not resolve, or resolves to nothing', async () => {
    const missing = setup({ dns: {}, serve: okDocument });
    expect(await missing.fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false, stage: 'resolve' });
    const empty = setup({ dns: { 'client.example.com': [] }, serve: okDocument });
    expect(await empty.fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false, stage: 'resolve' });
    expect(empty.log.connected).toEqual([]);
  });

  it.each([301, 302, 303, 307, 308])('never follows a redirect (%i is a failure)', async (status) => {
    const { fetcher, log } = setup({
      serve: () => ({ status, headers: { location: 'https://169.254.169.254/latest/meta-data', 'content-type': 'application/json' }, body: '{}' }),
    });
    expect(await fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false, stage: 'redirect' });
    expect(log.connected).toHaveLength(1);
    expect(log.resolved).toEqual(['client.example.com']);
  });

  it('fails on any status but 200', async () => {
    for (const status of [201, 204, 404, 500]) {
      const { fetcher } = setup({ serve: () => ({ ...okDocument(), status }) });
      expect(await fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false, stage: 'status' });
    }
    // No conditional request is ever sent, so a 304 is just another 3xx failure.
    const notModified = setup({ serve: () => ({ ...okDocument(), status: 304 }) });
    expect(await notModified.fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false });
    expect(notModified.log.connected[0]!.headers['if-none-match']).toBeUndefined();
  });

  it('refuses a body over the cap while reading it, without reading the rest', async () => {
    const chunk = 'x'.repeat(1024);
    const { fetcher, log } = setup({ serve: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: Array(50).fill(chunk) }) });
    expect(await fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false, stage: 'too_large' });
    expect(log.chunksRead[0]).toBe(6); // 6 KiB > 5 KiB: stopped at the first chunk over the cap
  });

  it('refuses a declared Content-Length over the cap before reading the body', async () => {
    const { fetcher, log } = setup({ serve: () => ({ ...okDocument(), headers: { 'content-type': 'application/json', 'content-length': '999999' } }) });
    expect(await fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false, stage: 'too_large' });
    expect(log.chunksRead[0]).toBe(0);
  });

  it('accepts a document of exactly maxBytes and refuses one byte more', async () => {
    const base = JSON.stringify(documentFor(URL_ID, { software_id: '' }));
    const exact = base.replace('"software_id":""', `"software_id":"${'a'.repeat(5120 - base.length)}"`);
    expect(Buffer.byteLength(exact)).toBe(5120);
    const at = setup({ serve: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: exact }) });
    expect((await at.fetcher.fetch(new URL(URL_ID))).ok).toBe(true);
    const over = setup({ serve: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: `${exact} ` }) });
    expect(await over.fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false, stage: 'too_large' });
  });

  describe('gives up after timeoutMs', () => {
    const slow: Array<[string, Partial<FakeNetworkOptions> & Pick<FakeNetworkOptions, 'serve'>]> = [
      ['a resolver that never answers', { hangResolve: ['client.example.com'], serve: okDocument }],
      ['a server that never answers', { serve: () => ({ hang: true }) }],
      ['a server that answers too late', { serve: () => ({ ...okDocument(), delayMs: 1000 }) }],
      ['a body that trickles in', { serve: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: Array(20).fill(' '), chunkDelayMs: 50 }) }],
    ];
    it.each(slow)('%s', async (_name, net) => {
      const { fetcher } = setup(net, { timeoutMs: 200 });
      const started = Date.now();
      expect(await fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false, stage: 'timeout' });
      expect(Date.now() - started).toBeLessThan(900);
    });
  });

  it('requires a JSON Content-Type and a UTF-8 JSON body', async () => {
    const html = setup({ serve: () => ({ ...okDocument(), headers: { 'content-type': 'text/html' } }) });
    expect(await html.fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false, stage: 'content_type' });
    const none = setup({ serve: () => ({ ...okDocument(), headers: {} }) });
    expect(await none.fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false, stage: 'content_type' });
    const charset = setup({ serve: () => ({ ...okDocument(), headers: { 'content-type': 'application/json; charset=utf-8' } }) });
    expect((await charset.fetcher.fetch(new URL(URL_ID))).ok).toBe(true);
    const broken = setup({ serve: () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"client_id":' }) });
    expect(await broken.fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: false, stage: 'body' });
  });

  it('fetches only https URLs, and only hosts in allowedHosts when that is set', async () => {
    const plain = setup({ serve: okDocument });
    expect(await plain.fetcher.fetch(new URL('http://client.example.com/c.json'))).toMatchObject({ ok: false, stage: 'url' });
    expect(plain.log.resolved).toEqual([]);
    const allowed = setup({ dns: { 'client.example.com': [PUBLIC_V4], 'evil.example.net': [PUBLIC_V4] }, serve: okDocument }, { allowedHosts: ['*.example.com'] });
    expect((await allowed.fetcher.fetch(new URL(URL_ID))).ok).toBe(true);
    expect(await allowed.fetcher.fetch(new URL('https://evil.example.net/c.json'))).toMatchObject({ ok: false, stage: 'host_not_allowed' });
    expect(allowed.log.resolved).toEqual(['client.example.com']);
  });

  it('reports how long the document may be reused, from Cache-Control, capped', async () => {
    const cases: Array<[Record<string, string>, number]> = [
      [{}, 600],
      [{ 'cache-control': 'max-age=60' }, 60],
      [{ 'cache-control': 'public, max-age=86400' }, 600],
      [{ 'cache-control': 'no-store' }, 0],
      [{ 'cache-control': 'no-cache, max-age=300' }, 0],
      [{ 'cache-control': 'max-age=0' }, 0],
    ];
    for (const [headers, seconds] of cases) {
      const { fetcher } = setup({ serve: () => json(documentFor(URL_ID), headers) });
      expect(await fetcher.fetch(new URL(URL_ID))).toMatchObject({ ok: true, cacheSeconds: seconds });
    }
    expect(reuseSeconds('max-age="30"', 100)).toBe(30);
    expect(reuseSeconds('max-age=abc', 100)).toBe(100);
  });

});

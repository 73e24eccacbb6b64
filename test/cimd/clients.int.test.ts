/**
 * Metadata-document clients in the log and the cache: first use registers the client
 * (`client.registered`, kind `metadata_document`, the URL as id), a changed document is
 * recorded as `client.metadata_refreshed`, the cache is bounded and honours
 * `Cache-Control`, and failures are never cached. The network is the fake one (no socket).
 *
 * Protections checked by hand (each test failed with its check removed, then restored):
 * - `this.#cache.set` called with `cacheSeconds` ignored (a fixed 600 s) → the no-store and
 *   max-age cases fetch too rarely;
 * - a failed fetch cached as an empty document → "never caches a failure" sees no second
 *   fetch;
 * - the LRU eviction loop in `BoundedTtlCache.set` deleted → the cache grows past its bound;
 * - the canonical comparison in `#refreshed` replaced by `false` → an unchanged document
 *   appends `client.metadata_refreshed` on every fetch;
 * - `RegisterClient` giving metadata-document clients the dynamic clients' unused lifetime →
 *   the sweep expires it and the URL is refused for good.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BoundedTtlCache } from '../../src/cimd/cache.js';
import { CimdClients } from '../../src/cimd/clients.js';
import { createCimdFetcher } from '../../src/cimd/fetcher.js';
import { findClient } from '../../src/projections/clients.js';
import { openTestEngine, type TestEngine } from '../support/engine.js';
import { storeTargets } from '../support/stores.js';
import { documentFor, fakeNetwork, json, type CannedResponse } from './support.js';

const ID = 'https://client.example.com/oauth/client.json';

describe('bounded TTL cache', () => {
  it('expires entries at their deadline, never stores a zero lifetime, and evicts the least recently used', () => {
    let now = 0;
    const cache = new BoundedTtlCache<string>(3, () => now);
    cache.set('a', 'A', 1000);
    cache.set('zero', 'Z', 0);
    expect(cache.get('zero')).toBeUndefined();
    now = 999;
    expect(cache.get('a')).toBe('A');
    now = 1000;
    expect(cache.get('a')).toBeUndefined();
    for (const key of ['k1', 'k2', 'k3']) cache.set(key, key, 10_000);
    cache.get('k1'); // k2 is now the least recently used
    cache.set('k4', 'k4', 10_000);
    expect(cache.size).toBe(3);
    expect(cache.get('k2')).toBeUndefined();
    expect(cache.get('k1')).toBe('k1');
    expect(() => new BoundedTtlCache(0, () => 0)).toThrow(RangeError);
  });
});

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`metadata-document clients on ${target.name}`, () => {
    let t: TestEngine;
    let served: CannedResponse;
    let network: ReturnType<typeof fakeNetwork>;
    let clients: CimdClients;
    const refusals: string[] = [];

    function build(maxCacheEntries?: number) {
      network = fakeNetwork({
        dns: { 'client.example.com': ['93.184.216.34'], 'other.example.com': ['93.184.216.34'] },
        serve: (target) => (target.path.startsWith('/n/') ? json(documentFor(`https://other.example.com${target.path}`)) : served),
      });
      clients = new CimdClients({
        engine: t.engine,
        db: t.store.store.db,
        clock: t.clock.now,
        fetcher: createCimdFetcher({ resolve: network.resolve, connect: network.connect, timeoutMs: 500, maxBytes: 5120, cacheSeconds: 600 }),
        policy: { offeredScopes: ['mcp:tools'], redirectPatterns: [] },
        onRefusal: (_id, r) => refusals.push(r.problem),
        ...(maxCacheEntries ? { maxCacheEntries } : {}),
      });
    }

    beforeEach(async () => {
      t = await openTestEngine(target);
      served = json(documentFor(ID));
      refusals.length = 0;
      build();
    });
    afterEach(() => t.dispose());

    async function events() {
      return (await t.store.store.readStream(`client:${ID}`)).map((e) => e.type);
    }

    it('registers the client in the log on first use, with the URL as its id', async () => {
      const resolved = await clients.resolve(ID);
      expect(resolved.ok).toBe(true);
      if (!resolved.ok) return;
      expect(resolved.client).toMatchObject({ clientId: ID, kind: 'metadata_document', status: 'active', secretHash: null });
      expect(resolved.client.metadata.redirect_uris).toEqual(['http://127.0.0.1/callback', 'http://localhost/callback']);
      const stream = await t.store.store.readStream(`client:${ID}`);
      expect(stream.map((e) => e.type)).toEqual(['client.registered']);
      expect(stream[0]!.data).toMatchObject({ clientId: ID, kind: 'metadata_document' });
    });

    it('reuses a cached document until it expires, then fetches again and records a change', async () => {
      await clients.resolve(ID);
      await clients.resolve(ID);
      expect(network.log.connected).toHaveLength(1);
      t.clock.advance(599_000);
      await clients.resolve(ID);
      expect(network.log.connected).toHaveLength(1);
      t.clock.advance(1000);
      served = json(documentFor(ID, { client_name: 'Renamed client' }));
      const refreshed = await clients.resolve(ID);
      expect(network.log.connected).toHaveLength(2);
      expect(refreshed.ok && refreshed.client.metadata.client_name).toBe('Renamed client');
      expect(await events()).toEqual(['client.registered', 'client.metadata_refreshed']);
      t.clock.advance(600_000);
      await clients.resolve(ID);
      expect(network.log.connected).toHaveLength(3);
      expect(await events()).toEqual(['client.registered', 'client.metadata_refreshed']); // unchanged: nothing appended
    });

    it('honours Cache-Control max-age (shorter than the cap) and no-store', async () => {
      served = json(documentFor(ID), { 'cache-control': 'max-age=30' });
      await clients.resolve(ID);
      t.clock.advance(29_000);
      await clients.resolve(ID);
      expect(network.log.connected).toHaveLength(1);
      t.clock.advance(1000);
      await clients.resolve(ID);
      expect(network.log.connected).toHaveLength(2);
      served = json(documentFor(ID), { 'cache-control': 'no-store' });
      t.clock.advance(30_000);
      await clients.resolve(ID);
      await clients.resolve(ID);
      expect(network.log.connected).toHaveLength(4);
    });

    it('never caches a failure, and refuses the client while its document is bad (the stored copy is not used)', async () => {
      await clients.resolve(ID);
      t.clock.advance(600_000);
      served = { status: 500, headers: { 'content-type': 'application/json' }, body: '{}' };
      expect(await clients.resolve(ID)).toMatchObject({ ok: false, problem: 'fetch_failed', stage: 'status' });
      expect(await clients.resolve(ID)).toMatchObject({ ok: false, problem: 'fetch_failed' });
      served = json(documentFor('https://client.example.com/oauth/other.json'));
      expect(await clients.resolve(ID)).toMatchObject({ ok: false, problem: 'invalid_document' });
      expect(network.log.connected).toHaveLength(4);
      served = json(documentFor(ID));
      expect((await clients.resolve(ID)).ok).toBe(true);
      expect(network.log.connected).toHaveLength(5);
      expect(refusals).toEqual(['fetch_failed', 'fetch_failed', 'invalid_document']);
      expect(await events()).toEqual(['client.registered']);
    });

    it('registers nothing when the first fetch fails', async () => {
      served = { status: 302, headers: { location: 'https://elsewhere.example/c.json' } };
      expect(await clients.resolve(ID)).toMatchObject({ ok: false, problem: 'fetch_failed', stage: 'redirect' });
      expect(await findClient(t.store.store.db, ID)).toBeUndefined();
      expect(await events()).toEqual([]);
    });

    it('shares one fetch between concurrent requests for the same URL', async () => {
      served = { ...json(documentFor(ID)), delayMs: 50 };
      const results = await Promise.all(Array.from({ length: 8 }, () => clients.resolve(ID)));
      expect(results.every((r) => r.ok)).toBe(true);
      expect(network.log.connected).toHaveLength(1);
      expect(await events()).toEqual(['client.registered']);
    });

    it('keeps the cache bounded', async () => {
      build(5);
      for (let i = 0; i < 20; i++) expect((await clients.resolve(`https://other.example.com/n/${i}.json`)).ok).toBe(true);
      expect(clients.cachedDocuments).toBe(5);
      await clients.resolve('https://other.example.com/n/19.json');
      expect(network.log.connected).toHaveLength(20);
      await clients.resolve('https://other.example.com/n/0.json');
      expect(network.log.connected).toHaveLength(21);
    });

    it('never expires a metadata-document client for want of use (an expired one could never come back)', async () => {
      await clients.resolve(ID);
      t.clock.advance((t.settings.clientUnusedTtlMs ?? 0) + 86_400_000);
      expect(await t.engine.sweep()).toMatchObject({ clients: 0 });
      const again = await clients.resolve(ID);
      expect(again).toMatchObject({ ok: true, client: { status: 'active' } });
      expect(await events()).toEqual(['client.registered']);
    });

    it('refuses a client the operator deleted, and URLs that are not metadata-document ids', async () => {
      await clients.resolve(ID);
      await t.engine.execute({ type: 'DeleteClient', clientId: ID });
      t.clock.advance(600_000);
      expect(await clients.resolve(ID)).toMatchObject({ ok: false, problem: 'inactive' });
      expect(await clients.resolve('https://client.example.com/')).toMatchObject({ ok: false, problem: 'invalid_id' });
      expect(await clients.resolve('http://client.example.com/c.json')).toMatchObject({ ok: false, problem: 'invalid_id' });
      expect(network.log.connected).toHaveLength(1);
    });
  });
}

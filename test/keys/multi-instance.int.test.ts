/**
 * Several instances on one database: they sign and verify each other's tokens, see each
 * other's rotations (a new kid at once, a state change within the refresh interval), and
 * however they race (first open, rotation), the keyring ends with exactly one active key
 * per purpose and a history consistent with the operations that succeeded. On SQLite (one
 * file, in one process and across processes) and PostgreSQL (one schema, several pools).
 *
 * Checked by hand (each protection removed once, then restored; the named tests failed):
 * - the partial unique indexes of migration 0004 made plain indexes: "concurrent first
 *   opens" and "concurrent rotations" on both databases (several active or next keys);
 * - the `state` conditions of `retireKey`/`activateKey` (unconditional updates):
 *   "concurrent rotations" and the cross-process race, on both databases;
 * - the re-read on an unknown kid in `KeyCache.find`: "see each other's rotation";
 * - the periodic refresh in `KeyCache.snapshot`: "see a staged next key";
 * - the miss throttle in `KeyCache.find`: "re-read for unknown kids at most once".
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Vault } from '../../src/crypto/vault.js';
import { KeyringConflictError } from '../../src/keys/errors.js';
import { Keyring, type KeyringOptions } from '../../src/keys/keyring.js';
import type { RotationResult } from '../../src/keys/rotation.js';
import type { KeyInfo, KeyPurpose } from '../../src/keys/types.js';
import type { EventStore } from '../../src/store/event-store.js';
import { openStore } from '../../src/store/open-store.js';
import { TestClock } from '../support/engine.js';
import { storeTargets, type StoreTarget, type TestStore } from '../support/stores.js';
import { HOUR_MS, ISSUER, RESOURCE, openTestKeyring, type TestKeyring } from './support/keyring-fixture.js';
import { claimsAt, expectRejected } from './support/tokens.js';

const run = promisify(execFile);

function expectOneActivePerPurpose(keys: readonly KeyInfo[]): void {
  for (const purpose of ['access_token', 'cookie', 'anchor'] as KeyPurpose[]) {
    const mine = keys.filter((k) => k.purpose === purpose);
    expect(mine.filter((k) => k.state === 'active'), purpose).toHaveLength(1);
    expect(mine.filter((k) => k.state === 'next').length, purpose).toBeLessThanOrEqual(1);
  }
}

/** The access-token history must match the rotations that succeeded. */
function expectHistoryMatches(keys: readonly KeyInfo[], outcomes: ReadonlyArray<{ ok: boolean; action?: string }>): void {
  const staged = outcomes.filter((o) => o.ok && o.action === 'staged').length;
  const promoted = outcomes.filter((o) => o.ok && o.action === 'promoted').length;
  const access = keys.filter((k) => k.purpose === 'access_token');
  expect(staged).toBeGreaterThan(0);
  expect(access).toHaveLength(1 + staged);
  expect(access.filter((k) => k.state === 'retired')).toHaveLength(promoted);
  expect(access.filter((k) => k.state === 'next')).toHaveLength(staged - promoted);
}

function settle(results: PromiseSettledResult<RotationResult>[]): Array<{ ok: boolean; action?: string }> {
  return results.map((r) => {
    if (r.status === 'fulfilled') return { ok: true, action: r.value.action };
    expect(r.reason).toBeInstanceOf(KeyringConflictError);
    return { ok: false };
  });
}

/** `count` independent database handles on one database: stores of their own where that is possible. */
async function handles(target: StoreTarget, base: TestStore, count: number): Promise<{ dbs: EventStore[]; close(): Promise<void> }> {
  if (target.name === 'sqlite') {
    // In one process, two better-sqlite3 connections on one file would block each other's
    // event loop; in-process instances share the connection (the cross-process test below
    // covers separate connections).
    return { dbs: Array(count).fill(base.store), close: async () => {} };
  }
  const dbs = await Promise.all(Array.from({ length: count }, () => openStore(base.config)));
  return { dbs, close: async () => void (await Promise.all(dbs.map((d) => d.close()))) };
}

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`several instances on ${target.name}`, () => {
    let t: TestKeyring;
    let b: Keyring;
    beforeEach(async () => {
      t = await openTestKeyring(target, { file: true });
      b = target.name === 'sqlite' ? await t.sibling() : (await t.secondInstance()).keyring;
    });
    afterEach(() => t.dispose());

    it('sign and verify each other\'s tokens', async () => {
      const a = t.keyring;
      const fromA = await a.accessTokenSigner(ISSUER).sign(claimsAt(t.clock.ms));
      const fromB = await b.accessTokenSigner(ISSUER).sign(claimsAt(t.clock.ms));
      await expect(b.accessTokenVerifier({ issuer: ISSUER }).verify(fromA, { audience: RESOURCE })).resolves.toMatchObject({ sub: 'upstream-subject-1' });
      await expect(a.accessTokenVerifier({ issuer: ISSUER }).verify(fromB, { audience: RESOURCE })).resolves.toMatchObject({ sub: 'upstream-subject-1' });
      expect(await a.jwks()).toEqual(await b.jwks());
      expect((await a.cookieKey()).active).toEqual((await b.cookieKey()).active);
    });

    it('see each other\'s rotation: a new kid at once, a state change within the refresh interval', async () => {
      const a = t.keyring;
      const first = (await a.activeAccessTokenKey()).kid;
      const staged = await b.rotate();
      const promoted = await b.rotate();
      if (staged.action !== 'staged' || promoted.action !== 'promoted') throw new Error('expected stage then promote');
      const second = promoted.active.kid;

      // B signs with the new key; A has never seen it and re-reads on the unknown kid.
      const fromB = await b.accessTokenSigner(ISSUER).sign(claimsAt(t.clock.ms));
      await expect(a.accessTokenVerifier({ issuer: ISSUER }).verify(fromB, { audience: RESOURCE })).resolves.toMatchObject({ kid: second });

      // A signed with its cached view until the refresh interval passes: still valid (the old
      // key is retired, not untrusted), and B verifies it.
      t.clock.advance(1000);
      const stale = await a.accessTokenSigner(ISSUER).sign(claimsAt(t.clock.ms));
      await expect(b.accessTokenVerifier({ issuer: ISSUER }).verify(stale, { audience: RESOURCE })).resolves.toBeDefined();
      t.clock.advance(t.keyring.options.refreshIntervalMs);
      expect((await a.activeAccessTokenKey()).kid).toBe(second);
      expect((await a.jwks()).keys.map((k) => k.kid)).toEqual([second, first]);
      expect(await a.jwks()).toEqual(await b.jwks());
    });

    it('see a staged next key in the JWKS within the refresh interval', async () => {
      const staged = await b.rotate();
      if (staged.action !== 'staged') throw new Error('expected a staged key');
      expect((await t.keyring.jwks()).keys.map((k) => k.kid)).not.toContain(staged.next.kid);
      t.clock.advance(t.keyring.options.refreshIntervalMs);
      expect((await t.keyring.jwks()).keys.map((k) => k.kid)).toContain(staged.next.kid);
    });

    it('re-read for unknown kids at most once per retry interval while they stay unknown', async () => {
      const verifierA = t.keyring.accessTokenVerifier({ issuer: ISSUER });
      const { generateKeyPair } = await import('jose');
      const { forge } = await import('./support/tokens.js');
      const junk = await forge({ alg: 'ES256', kid: 'made-up', typ: 'at+jwt' }, { ...claimsAt(t.clock.ms), iss: ISSUER }, (await generateKeyPair('ES256')).privateKey);
      await expectRejected(verifierA.verify(junk, { audience: RESOURCE }), 'unknown_key');
      // B promotes a new key right after; within the retry interval A does not re-read yet…
      await b.rotate();
      await b.rotate();
      const fromB = await b.accessTokenSigner(ISSUER).sign(claimsAt(t.clock.ms));
      await expectRejected(verifierA.verify(fromB, { audience: RESOURCE }), 'unknown_key');
      // …and after it, it does.
      t.clock.advance(t.keyring.options.unknownKidRetryMs);
      await expect(verifierA.verify(fromB, { audience: RESOURCE })).resolves.toBeDefined();
    });
  });

  describe.skipIf(!target.available)(`races on ${target.name}`, () => {
    let base: TestStore;
    beforeEach(async () => {
      base = await target.open({ file: true });
    });
    afterEach(() => base.dispose());

    async function openMany(count: number, clock: TestClock, masterKey: Uint8Array): Promise<{ keyrings: Keyring[]; close(): Promise<void> }> {
      const h = await handles(target, base, count);
      const options: KeyringOptions = { accessTokenTtlMs: HOUR_MS, clock: clock.now };
      const keyrings = await Promise.all(h.dbs.map((s) => Keyring.open(s.db, new Vault(s.db, masterKey, clock.now), options)));
      return { keyrings, close: h.close };
    }

    it('concurrent first opens create exactly one active key per purpose, which every instance uses', async () => {
      const clock = new TestClock();
      const masterKey = new Uint8Array(randomBytes(32));
      const { keyrings, close } = await openMany(6, clock, masterKey);
      try {
        const keys = await keyrings[0]!.list();
        expect(keys).toHaveLength(3);
        expectOneActivePerPurpose(keys);
        const kids = await Promise.all(keyrings.map(async (k) => (await k.activeAccessTokenKey()).kid));
        expect(new Set(kids).size).toBe(1);
        const tokens = await Promise.all(keyrings.map((k) => k.accessTokenSigner(ISSUER).sign(claimsAt(clock.ms))));
        for (const keyring of keyrings) {
          for (const token of tokens) await keyring.accessTokenVerifier({ issuer: ISSUER }).verify(token, { audience: RESOURCE });
        }
      } finally {
        await close();
      }
    });

    it('concurrent rotations leave exactly one active key, and a history matching the rotations that won', async () => {
      const clock = new TestClock();
      const { keyrings, close } = await openMany(4, clock, new Uint8Array(randomBytes(32)));
      try {
        const outcomes: Array<{ ok: boolean; action?: string }> = [];
        for (let round = 0; round < 4; round += 1) {
          const results = await Promise.allSettled(keyrings.flatMap((k) => [k.rotate(), k.rotate()]));
          const settled = settle(results);
          expect(settled.some((o) => o.ok)).toBe(true);
          outcomes.push(...settled);
          clock.advance(1000);
          const keys = await keyrings[0]!.list();
          expectOneActivePerPurpose(keys);
          expectHistoryMatches(keys, outcomes);
        }
        // Every instance ends up signing with the one active key.
        clock.advance(keyrings[0]!.options.refreshIntervalMs);
        const active = (await keyrings[0]!.list()).find((k) => k.purpose === 'access_token' && k.state === 'active')!;
        for (const keyring of keyrings) expect((await keyring.activeAccessTokenKey()).kid).toBe(active.kid);
      } finally {
        await close();
      }
    });
  });

  describe.skipIf(!target.available)(`races across processes on ${target.name}`, () => {
    it('first opens and rotations from three processes leave one active key per purpose; all sign alike', async () => {
      const base = await target.open({ file: true });
      const masterKey = randomBytes(32).toString('hex');
      try {
        const where =
          target.name === 'sqlite'
            ? { FLOWGATE_DB: base.config.store.sqlitePath! }
            : { FLOWGATE_DATABASE_URL: base.config.store.databaseUrl!, FLOWGATE_DATABASE_SCHEMA: base.config.store.postgresSchema };
        const env = {
          ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOWGATE_'))),
          ...where,
          FLOWGATE_MASTER_KEY: masterKey,
          KEYRING_START_AT: String(Date.now() + 3000),
          KEYRING_ROTATIONS: '3',
          KEYRING_ISSUER: ISSUER,
          KEYRING_RESOURCE: RESOURCE,
        };
        const children = await Promise.all(
          [0, 1, 2].map(() => run(process.execPath, ['--import', 'tsx', 'test/keys/support/keyring-child.ts'], { env })),
        );
        const reports = children.map((c) => JSON.parse(c.stdout.trim().split('\n').pop()!) as { token: string; rotations: Array<{ ok: boolean; action?: string; error?: string }> });
        const outcomes = reports.flatMap((r) => r.rotations);
        for (const o of outcomes.filter((x) => !x.ok)) expect(o.error).toBe('ERR_KEYRING_CONFLICT');

        const keyring = await Keyring.open(base.store.db, new Vault(base.store.db, new Uint8Array(Buffer.from(masterKey, 'hex'))), {
          accessTokenTtlMs: HOUR_MS,
        });
        const keys = await keyring.list();
        expectOneActivePerPurpose(keys);
        expect(keys.filter((k) => k.purpose !== 'access_token')).toHaveLength(2);
        expectHistoryMatches(keys, outcomes);
        const verifier = keyring.accessTokenVerifier({ issuer: ISSUER });
        for (const report of reports) await expect(verifier.verify(report.token, { audience: RESOURCE })).resolves.toMatchObject({ sub: 'child' });
      } finally {
        await base.dispose();
      }
    }, 60_000);
  });
}

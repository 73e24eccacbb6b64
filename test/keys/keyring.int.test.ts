/**
 * The keyring in the store: the first open creates the keys, private parts are sealed with
 * the master key and bound to their row, rotation and retirement keep exactly one active
 * key per purpose, pruning erases retired keys past `not_after`, anchor keys are permanent,
 * cookie keys rotate without invalidating recent cookies. On SQLite and PostgreSQL.
 *
 * Checked by hand (each protection removed once, then restored):
 * - without the `kid`/purpose/alg comparison in `openPrivateJwk`, "binds a cookie secret to
 *   its row" fails (the swapped secret is used), and "binds a sealed private part" fails on
 *   its message (the public-key comparison still refuses the swapped key pair);
 * - without the anchor refusals in `rotation.ts`, "anchor keys never rotate…" fails (the
 *   table's check constraint then refuses with a database error instead of the clear one);
 * - without the triggers of migration 0004, "the database itself refuses…" fails.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Vault } from '../../src/crypto/vault.js';
import { KeyMaterialError, KeyringRefusedError, UnknownKeyError } from '../../src/keys/errors.js';
import { Keyring } from '../../src/keys/keyring.js';
import type { KeyInfo, KeyPurpose } from '../../src/keys/types.js';
import { storeTargets } from '../support/stores.js';
import { HOUR_MS, openTestKeyring, type TestKeyring } from './support/keyring-fixture.js';

const SKEW_MS = 60_000;
const REFRESH_MS = 5_000;

function byPurpose(keys: readonly KeyInfo[], purpose: KeyPurpose): KeyInfo[] {
  return keys.filter((k) => k.purpose === purpose);
}

function active(keys: readonly KeyInfo[], purpose: KeyPurpose): KeyInfo | undefined {
  return keys.find((k) => k.purpose === purpose && k.state === 'active');
}

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`keyring on ${target.name}`, () => {
    let t: TestKeyring;
    beforeEach(async () => {
      t = await openTestKeyring(target);
    });
    afterEach(() => t.dispose());

    it('creates one active key per purpose on first open, and none on the next open', async () => {
      const keys = await t.keyring.list();
      expect(keys.map((k) => [k.purpose, k.state, k.alg]).sort()).toEqual([
        ['access_token', 'active', 'ES256'],
        ['anchor', 'active', 'ES256'],
        ['cookie', 'active', 'HS256'],
      ]);
      for (const key of keys) {
        expect(key.createdAt).toBe(t.clock.ms);
        expect(key.activatedAt).toBe(t.clock.ms);
        expect([key.retiredAt, key.notAfter, key.removedAt]).toEqual([null, null, null]);
      }
      expect(byPurpose(keys, 'cookie')[0]!.publicJwk).toBeNull();
      expect(byPurpose(keys, 'access_token')[0]!.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256' });

      await t.sibling();
      expect(await t.keyring.list()).toEqual(keys);
    });

    it('makes EdDSA keys when asked to', async () => {
      const other = await openTestKeyring(target, { accessTokenAlg: 'EdDSA', anchorAlg: 'EdDSA' });
      try {
        const keys = await other.keyring.list();
        expect(active(keys, 'access_token')).toMatchObject({ alg: 'EdDSA', publicJwk: { kty: 'OKP', crv: 'Ed25519' } });
        expect(active(keys, 'anchor')?.alg).toBe('EdDSA');
      } finally {
        await other.dispose();
      }
    });

    it('keeps private key material sealed with the master key: no "d" or "k" in plaintext anywhere in the table', async () => {
      await t.keyring.rotate('access_token');
      await t.keyring.rotate('cookie');
      const rows = await t.store.store.db.selectFrom('signing_keys').selectAll().execute();
      expect(rows).toHaveLength(5);
      for (const row of rows) {
        const text = JSON.stringify(row);
        expect(text).not.toMatch(/\\?"d\\?"\s*:/);
        expect(text).not.toMatch(/\\?"k\\?"\s*:/);
        // A compact JWE (dir, A256GCM) sealed for the keyring with the master key.
        expect(row.private_sealed.split('.')).toHaveLength(5);
        const header = JSON.parse(Buffer.from(row.private_sealed.split('.')[0], 'base64url').toString());
        expect(header).toMatchObject({ alg: 'dir', enc: 'A256GCM', kid: 'master:v1', fgp: 'keyring' });
      }
      // Another master key cannot use these keys.
      const wrong = new Vault(t.store.store.db, new Uint8Array(32).fill(7));
      await expect(Keyring.open(t.store.store.db, wrong, t.options)).rejects.toBeInstanceOf(KeyMaterialError);
    });

    it('binds a sealed private part to its row: moved to another row, it does not open', async () => {
      await t.keyring.rotate('access_token');
      const keys = await t.keyring.list();
      const current = active(keys, 'access_token')!;
      const next = keys.find((k) => k.state === 'next')!;
      const db = t.store.store.db;
      const nextSealed = (await db.selectFrom('signing_keys').select('private_sealed').where('kid', '=', next.kid).executeTakeFirstOrThrow())
        .private_sealed;
      // An attacker who can write the table swaps the next key's private part into the active row.
      await db.updateTable('signing_keys').set({ private_sealed: nextSealed }).where('kid', '=', current.kid).execute();
      // Opening checks the active key, so a swapped private part fails loudly at start.
      await expect(t.sibling()).rejects.toThrow(KeyMaterialError);
      await expect(t.sibling()).rejects.toThrow(/was sealed for .+, not for this row/);
    });

    it('binds a cookie secret to its row too (it has no public part to compare)', async () => {
      await t.keyring.rotate('cookie');
      const keys = await t.keyring.list();
      const current = active(keys, 'cookie')!;
      const next = keys.find((k) => k.purpose === 'cookie' && k.state === 'next')!;
      const db = t.store.store.db;
      const nextSealed = (await db.selectFrom('signing_keys').select('private_sealed').where('kid', '=', next.kid).executeTakeFirstOrThrow())
        .private_sealed;
      await db.updateTable('signing_keys').set({ private_sealed: nextSealed }).where('kid', '=', current.kid).execute();
      const fresh = await t.sibling();
      await expect(fresh.cookieKey()).rejects.toThrow(/was sealed for .+, not for this row/);
    });

    it('rotates in two steps: stage a next key, then promote it and retire the old one until not_after', async () => {
      const first = active(await t.keyring.list(), 'access_token')!;
      const staged = await t.keyring.rotate();
      expect(staged.action).toBe('staged');
      if (staged.action !== 'staged') return;
      expect(staged.next).toMatchObject({ purpose: 'access_token', state: 'next', activatedAt: null });
      expect(active(await t.keyring.list(), 'access_token')!.kid).toBe(first.kid);

      t.clock.advance(60_000);
      const promoted = await t.keyring.rotate('access_token');
      expect(promoted.action).toBe('promoted');
      if (promoted.action !== 'promoted') return;
      expect(promoted.active).toMatchObject({ kid: staged.next.kid, state: 'active', activatedAt: t.clock.ms });
      expect(promoted.retired).toMatchObject({
        kid: first.kid,
        state: 'retired',
        retiredAt: t.clock.ms,
        notAfter: t.clock.ms + HOUR_MS + SKEW_MS + REFRESH_MS,
      });
      const keys = await t.keyring.list();
      expect(byPurpose(keys, 'access_token').filter((k) => k.state === 'active')).toHaveLength(1);
      expect(byPurpose(keys, 'access_token').filter((k) => k.state === 'next')).toHaveLength(0);
    });

    it('refuses to rotate, retire or prune anchor keys, with a reason', async () => {
      const anchor = active(await t.keyring.list(), 'anchor')!;
      await expect(t.keyring.rotate('anchor')).rejects.toThrow(KeyringRefusedError);
      await expect(t.keyring.rotate('anchor')).rejects.toThrow(/anchor keys are never rotated/);
      await expect(t.keyring.retire(anchor.kid)).rejects.toThrow(/anchor keys are never retired/);
      t.clock.advance(10 * 365 * 24 * HOUR_MS);
      await t.keyring.prune();
      expect(active(await t.keyring.list(), 'anchor')).toEqual(anchor);
    });

    it('the database itself refuses to change or delete an anchor key, or to keep two active keys of a purpose', async () => {
      const db = t.store.store.db;
      const anchor = active(await t.keyring.list(), 'anchor')!;
      await expect(db.updateTable('signing_keys').set({ state: 'retired' }).where('kid', '=', anchor.kid).execute()).rejects.toThrow(
        /anchor keys are permanent/,
      );
      await expect(db.deleteFrom('signing_keys').where('kid', '=', anchor.kid).execute()).rejects.toThrow(/anchor keys are permanent/);
      await expect(sql`DELETE FROM signing_keys WHERE purpose = 'anchor'`.execute(db)).rejects.toThrow(/anchor keys are permanent/);
      const accessKey = active(await t.keyring.list(), 'access_token')!;
      await expect(
        db
          .insertInto('signing_keys')
          .values({ kid: 'second-active', purpose: 'access_token', alg: 'ES256', state: 'active', created_at: 1 })
          .execute(),
      ).rejects.toThrow(/unique|UNIQUE/);
      expect(active(await t.keyring.list(), 'access_token')).toEqual(accessKey);
    });

    it('names an unknown kid', async () => {
      await expect(t.keyring.retire('no-such-kid')).rejects.toThrow(UnknownKeyError);
      await expect(t.keyring.retire('no-such-kid')).rejects.toThrow(/no signing key with kid no-such-kid/);
    });

    it('retiring the active key promotes the next one, or creates a new active key', async () => {
      const first = active(await t.keyring.list(), 'access_token')!;
      const staged = await t.keyring.rotate();
      const withNext = await t.keyring.retire(first.kid);
      expect(withNext.changed).toBe(true);
      expect(withNext.key).toMatchObject({ state: 'retired', notAfter: t.clock.ms + HOUR_MS + SKEW_MS + REFRESH_MS });
      expect(withNext.replacement?.kid).toBe(staged.action === 'staged' ? staged.next.kid : undefined);

      const withoutNext = await t.keyring.retire(withNext.replacement!.kid);
      expect(withoutNext.replacement).toMatchObject({ purpose: 'access_token', state: 'active', alg: 'ES256' });
      const keys = byPurpose(await t.keyring.list(), 'access_token');
      expect(keys.map((k) => k.state).sort()).toEqual(['active', 'retired', 'retired']);
    });

    it('retiring a next key unpublishes it at once; --immediate stops trusting a key now', async () => {
      const staged = await t.keyring.rotate();
      if (staged.action !== 'staged') throw new Error('expected a staged key');
      const retiredNext = await t.keyring.retire(staged.next.kid);
      expect(retiredNext.key).toMatchObject({ state: 'retired', notAfter: t.clock.ms });

      const current = active(await t.keyring.list(), 'access_token')!;
      const compromised = await t.keyring.retire(current.kid, { immediate: true });
      expect(compromised.key.notAfter).toBe(t.clock.ms);
      // Retiring again changes nothing; --immediate on a retired key brings not_after forward.
      const replacement = compromised.replacement!;
      await t.keyring.retire(replacement.kid);
      expect((await t.keyring.retire(replacement.kid)).changed).toBe(false);
      const now = await t.keyring.retire(replacement.kid, { immediate: true });
      expect(now).toMatchObject({ changed: true, key: { notAfter: t.clock.ms } });
    });

    it('prune erases the private part of retired access-token and cookie keys past not_after, and keeps the row', async () => {
      await t.keyring.rotate('access_token');
      const promoted = await t.keyring.rotate('access_token');
      await t.keyring.rotate('cookie');
      await t.keyring.rotate('cookie');
      if (promoted.action !== 'promoted') throw new Error('expected a promotion');
      const old = promoted.retired!;

      expect((await t.keyring.prune()).removed).toEqual([]);
      t.clock.ms = old.notAfter! - 1;
      expect((await t.keyring.prune()).removed).toEqual([]);
      t.clock.ms = 24 * HOUR_MS + old.notAfter!;
      const { removed } = await t.keyring.prune();
      expect(removed).toHaveLength(2);
      expect(removed).toContain(old.kid);

      const rows = await t.store.store.db.selectFrom('signing_keys').selectAll().where('kid', 'in', removed).execute();
      for (const row of rows) {
        expect(row.private_sealed).toBeNull();
        expect(Number(row.removed_at)).toBe(t.clock.ms);
        expect(row.state).toBe('retired');
      }
      expect(rows.find((r) => r.kid === old.kid)?.public_jwk).toBe(JSON.stringify(old.publicJwk));
      expect((await t.keyring.prune()).removed).toEqual([]);
      expect(active(await t.keyring.list(), 'anchor')?.removedAt).toBeNull();
    });

    it('cookie keys: the active secret signs, older secrets still verify until their not_after', async () => {
      const first = await t.keyring.cookieKey();
      expect(first.active.secret).toHaveLength(32);
      expect(first.verification.map((k) => k.kid)).toEqual([first.active.kid]);

      await t.keyring.rotate('cookie');
      const staged = await t.keyring.cookieKey();
      expect(staged.active.kid).toBe(first.active.kid);
      expect(staged.verification).toHaveLength(2);

      await t.keyring.rotate('cookie');
      const rotated = await t.keyring.cookieKey();
      expect(rotated.active.kid).not.toBe(first.active.kid);
      expect(rotated.verification.map((k) => k.kid)).toEqual([rotated.active.kid, first.active.kid]);
      expect(Buffer.from(rotated.verification[1]!.secret)).toEqual(Buffer.from(first.active.secret));

      t.clock.advance(t.keyring.options.cookieMaxAgeMs + SKEW_MS + REFRESH_MS);
      const later = await t.keyring.cookieKey();
      expect(later.verification.map((k) => k.kid)).toEqual([rotated.active.kid]);
    });
  });
}

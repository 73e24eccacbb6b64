/**
 * Master-key rotation (`rewrapMasterKey`, src/keys/master-key-rewrap.ts): after it a Vault
 * and a Keyring with the new key open every data key and signing key (tokens signed before
 * still verify, sealed values open), the old key opens nothing, destroyed and removed keys
 * stay so; it is all or nothing, refuses a wrong current key and new == old, and can be run
 * again to pick up rows still written with the old key. Also the narrowed anchor trigger of
 * migration 0008. On SQLite and PostgreSQL.
 *
 * Checked by hand (the protection removed once, then restored): without the read-back
 * `verify` before commit in `rewrapMasterKey`, "rolls everything back when a re-wrapped
 * value does not read back…" fails: the mangled value is committed and that data key is lost.
 */
import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { grantKeyId, SealError, subjectKeyId, Vault } from '../../src/crypto/vault.js';
import { Keyring } from '../../src/keys/keyring.js';
import { MasterKeyRewrapError, rewrapMasterKey } from '../../src/keys/master-key-rewrap.js';
import { storeTargets, type StoreTarget } from '../support/stores.js';
import { HOUR_MS, ISSUER, openTestKeyring, RESOURCE, type TestKeyring } from './support/keyring-fixture.js';
import { claimsAt } from './support/tokens.js';

type Rows = { data: unknown[]; signing: unknown[] };

async function snapshot(db: Kysely<any>): Promise<Rows> {
  return {
    data: await db.selectFrom('data_keys').selectAll().orderBy('key_id').execute(),
    signing: await db.selectFrom('signing_keys').selectAll().orderBy('kid').execute(),
  };
}

/** Makes a store-side trigger that truncates the re-wrapped value of data key `keyId`. */
async function mangleOnUpdate(db: Kysely<any>, target: StoreTarget, keyId: string): Promise<void> {
  if (target.name === 'sqlite') {
    await sql`CREATE TRIGGER test_mangle AFTER UPDATE OF wrapped_key ON data_keys
      WHEN NEW.key_id = ${sql.lit(keyId)} AND length(NEW.wrapped_key) > 40
      BEGIN UPDATE data_keys SET wrapped_key = substr(NEW.wrapped_key, 1, 40) WHERE key_id = NEW.key_id; END`.execute(db);
  } else {
    await sql`CREATE FUNCTION test_mangle() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN NEW.wrapped_key := left(NEW.wrapped_key, 40); RETURN NEW; END $$`.execute(db);
    await sql`CREATE TRIGGER test_mangle BEFORE UPDATE ON data_keys FOR EACH ROW
      WHEN (NEW.key_id = ${sql.lit(keyId)}) EXECUTE FUNCTION test_mangle()`.execute(db);
  }
}

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`master-key rewrap on ${target.name}`, () => {
    let t: TestKeyring;
    let db: Kysely<any>;
    const newKey = new Uint8Array(randomBytes(32));
    const sealedValues: Array<{ keyId: string; purpose: 'upstream_tokens' | 'claims'; sealed: string; value: string; erased: boolean }> = [];
    let token: string;

    beforeEach(async () => {
      t = await openTestKeyring(target);
      db = t.store.store.db;
      sealedValues.length = 0;
      // Signing keys: access token retired then removed, a next cookie key, the anchor.
      await t.keyring.rotate('access_token');
      await t.keyring.rotate('access_token');
      await t.keyring.rotate('cookie');
      const first = (await t.keyring.list()).find((k) => k.purpose === 'access_token' && k.state === 'retired')!;
      token = await t.keyring.accessTokenSigner(ISSUER).sign(claimsAt(t.clock.ms));
      await t.keyring.retire(first.kid, { immediate: true });
      await t.keyring.prune();
      // Data keys: two grants, one subject, one destroyed grant, one slot in its second generation.
      for (const keyId of [grantKeyId('g1'), grantKeyId('g2'), subjectKeyId('s1'), grantKeyId('gone'), grantKeyId('again')]) {
        await t.vault.ensureKey(keyId);
        const value = `secret of ${keyId}`;
        const erased = keyId === grantKeyId('gone') || keyId === grantKeyId('again');
        sealedValues.push({ keyId, purpose: 'upstream_tokens', sealed: await t.vault.seal(keyId, 'upstream_tokens', value), value, erased });
      }
      await t.vault.destroy(grantKeyId('gone'));
      await t.vault.destroy(grantKeyId('again'));
      const pending = (await t.vault.prepareKey(grantKeyId('again')))!;
      await db.transaction().execute((trx) => pending.write(trx));
      const sealed2 = await t.vault.seal(grantKeyId('again'), 'claims', 'gen 2');
      sealedValues.push({ keyId: grantKeyId('again'), purpose: 'claims', sealed: sealed2, value: 'gen 2', erased: false });
    });
    afterEach(() => t.dispose());

    it('re-wraps every live key: the new key opens everything, the old key nothing, destroyed keys stay destroyed', async () => {
      const before = await snapshot(db);
      const result = await rewrapMasterKey(db, t.masterKey, newKey);
      // data keys: g1, g2, s1, again#2 live; gone, again destroyed. signing: 4 sealed + 1 removed.
      expect(result).toEqual({
        dataKeys: { rewrapped: 4, alreadyNew: 0, skipped: 2 },
        signingKeys: { rewrapped: 4, alreadyNew: 0, skipped: 1 },
      });
      const after = await snapshot(db);
      expect(after.data.map((r: any) => [r.key_id, r.destroyed_at === null])).toEqual(before.data.map((r: any) => [r.key_id, r.destroyed_at === null]));
      for (const [i, row] of (after.data as any[]).entries()) {
        const old = before.data[i] as any;
        if (old.wrapped_key === null) expect(row).toEqual(old);
        else expect(row.wrapped_key).not.toBe(old.wrapped_key);
      }
      for (const [i, row] of (after.signing as any[]).entries()) {
        const { private_sealed: sealedNow, ...rest } = row;
        const { private_sealed: sealedBefore, ...restBefore } = before.signing[i] as any;
        expect(rest).toEqual(restBefore);
        expect(sealedNow === null).toBe(sealedBefore === null);
        if (sealedBefore !== null) expect(sealedNow).not.toBe(sealedBefore);
      }

      const vault = new Vault(db, newKey, t.clock.now);
      for (const { keyId, purpose, sealed, value, erased } of sealedValues) {
        expect(await vault.open(keyId, purpose, sealed)).toEqual(erased ? { ok: false, reason: 'erased' } : { ok: true, value });
      }
      const keyring = await Keyring.open(db, vault, t.options);
      expect((await keyring.accessTokenVerifier({ issuer: ISSUER }).verify(token, { audience: RESOURCE })).sub).toBe('upstream-subject-1');
      const fresh = await keyring.accessTokenSigner(ISSUER).sign(claimsAt(t.clock.ms));
      expect((await keyring.accessTokenVerifier({ issuer: ISSUER }).verify(fresh, { audience: RESOURCE })).sub).toBe('upstream-subject-1');
      await keyring.anchorSigningKey();
      expect((await keyring.cookieKey()).active).toBeDefined();
      expect((await keyring.jwks()).keys).toHaveLength(1);
      expect(await keyring.list()).toHaveLength(5);

      const oldVault = new Vault(db, t.masterKey, t.clock.now);
      await expect(oldVault.open(grantKeyId('g1'), 'upstream_tokens', sealedValues[0]!.sealed)).rejects.toThrow(SealError);
      await expect(Keyring.open(db, oldVault, t.options)).rejects.toThrow(/does not open with the master key/);
      await expect(rewrapMasterKey(db, t.masterKey, newKey)).resolves.toEqual({
        dataKeys: { rewrapped: 0, alreadyNew: 4, skipped: 2 },
        signingKeys: { rewrapped: 0, alreadyNew: 4, skipped: 1 },
      });
    });

    it('picks up, when run again, a key an instance still on the old key wrote after the rotation', async () => {
      await rewrapMasterKey(db, t.masterKey, newKey);
      const straggler = new Vault(db, t.masterKey, t.clock.now);
      await straggler.ensureKey(grantKeyId('late'));
      const sealed = await straggler.seal(grantKeyId('late'), 'upstream_tokens', 'late');
      expect(await rewrapMasterKey(db, t.masterKey, newKey)).toMatchObject({ dataKeys: { rewrapped: 1, alreadyNew: 4 } });
      expect(await new Vault(db, newKey).open(grantKeyId('late'), 'upstream_tokens', sealed)).toEqual({ ok: true, value: 'late' });
    });

    it('refuses new == old, and a current key that opens the keys not, changing nothing', async () => {
      const before = await snapshot(db);
      await expect(rewrapMasterKey(db, t.masterKey, new Uint8Array(t.masterKey))).rejects.toThrow(/the new master key is the current one/);
      const wrong = new Uint8Array(randomBytes(32));
      await expect(rewrapMasterKey(db, wrong, newKey)).rejects.toThrow(MasterKeyRewrapError);
      await expect(rewrapMasterKey(db, wrong, newKey)).rejects.toThrow(/does not open with the current master key/);
      expect(await snapshot(db)).toEqual(before);
    });

    it('is all or nothing: a corrupted row after others were re-wrapped rolls them all back', async () => {
      // Sorted last among the data keys, so every other one was already re-wrapped when it fails.
      const good = await db.selectFrom('data_keys').select('wrapped_key').where('key_id', '=', grantKeyId('g1')).executeTakeFirstOrThrow();
      await db.insertInto('data_keys').values({ key_id: 'zzz-corrupt', wrapped_key: good.wrapped_key, created_at: 1, destroyed_at: null }).execute();
      const before = await snapshot(db);
      await expect(rewrapMasterKey(db, t.masterKey, newKey)).rejects.toThrow(/data key zzz-corrupt does not open/);
      expect(await snapshot(db)).toEqual(before);
      await db.deleteFrom('data_keys').where('key_id', '=', 'zzz-corrupt').execute();
      const clean = await snapshot(db);

      // A signing key row the master key never vouched for (another row's sealed part): refused too.
      const rows = (await db.selectFrom('signing_keys').selectAll().where('private_sealed', 'is not', null).execute()) as any[];
      const cookie = rows.find((r) => r.purpose === 'cookie')!;
      await db.insertInto('signing_keys').values({ ...cookie, kid: 'zzz-copied', state: 'retired' }).execute();
      await expect(rewrapMasterKey(db, t.masterKey, newKey)).rejects.toThrow(/signing key zzz-copied .*not bound to its row/);
      await db.deleteFrom('signing_keys').where('kid', '=', 'zzz-copied').execute();
      expect(await snapshot(db)).toEqual(clean);
    });

    it('rolls everything back when a re-wrapped value does not read back as written (verify before commit)', async () => {
      await mangleOnUpdate(db, target, grantKeyId('g2'));
      const before = await snapshot(db);
      await expect(rewrapMasterKey(db, t.masterKey, newKey)).rejects.toThrow(/data_keys row grant:g2 does not open with the new master key after re-wrapping/);
      expect(await snapshot(db)).toEqual(before);
      expect(await t.vault.open(grantKeyId('g2'), 'upstream_tokens', sealedValues[1]!.sealed)).toEqual({ ok: true, value: 'secret of grant:g2' });
    });

    it('the database lets an anchor key be re-sealed, and nothing else about it change (migration 0008)', async () => {
      const anchor = (await db.selectFrom('signing_keys').selectAll().where('purpose', '=', 'anchor').executeTakeFirstOrThrow()) as any;
      const set = (values: Record<string, unknown>) => db.updateTable('signing_keys').set(values).where('kid', '=', anchor.kid).execute();
      await expect(set({ private_sealed: null })).rejects.toThrow(/anchor keys are permanent/);
      await expect(set({ public_jwk: '{}' })).rejects.toThrow(/anchor keys are permanent/);
      await expect(set({ removed_at: 5 })).rejects.toThrow(/anchor keys are permanent/);
      await expect(set({ created_at: 5 })).rejects.toThrow(/anchor keys are permanent/);
      await expect(set({ private_sealed: 'forged' })).resolves.toBeDefined();
      // A forged sealed part makes the anchor key unusable, never replaceable.
      await expect(Keyring.open(db, new Vault(db, t.masterKey, t.clock.now), { ...t.options, accessTokenTtlMs: HOUR_MS }).then((k) => k.anchorSigningKey())).rejects.toThrow(
        /does not open with the master key/,
      );
    });
  });
}

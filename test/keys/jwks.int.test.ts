/**
 * What `/.well-known/jwks.json` publishes in each state: only access-token keys, public
 * parts only; `next` before it signs, `retired` until its `not_after`, nothing once removed;
 * cookie and anchor keys never. On SQLite and PostgreSQL.
 *
 * Checked by hand: with the purpose filter of `jwks.ts` removed, "publishes only the active
 * access-token key" fails (the anchor key appears); with `isTrustedAt` dropped from it,
 * "keeps a retired key until not_after" fails.
 */
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyInfo } from '../../src/keys/types.js';
import { storeTargets } from '../support/stores.js';
import { ISSUER, RESOURCE, openTestKeyring, type TestKeyring } from './support/keyring-fixture.js';
import { claimsAt } from './support/tokens.js';

const kids = async (t: TestKeyring) => (await t.keyring.jwks()).keys.map((k) => k.kid);

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`JWKS on ${target.name}`, () => {
    let t: TestKeyring;
    let keys: KeyInfo[];
    const kidOf = (purpose: string) => keys.find((k) => k.purpose === purpose && k.state === 'active')!.kid;

    beforeEach(async () => {
      t = await openTestKeyring(target);
      keys = await t.keyring.list();
    });
    afterEach(() => t.dispose());

    it('publishes only the active access-token key at first: public part, kid, alg, use', async () => {
      const jwks = await t.keyring.jwks();
      expect(jwks.keys).toHaveLength(1);
      const [jwk] = jwks.keys;
      expect(Object.keys(jwk!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
      expect(jwk).toMatchObject({ kid: kidOf('access_token'), alg: 'ES256', use: 'sig', kty: 'EC', crv: 'P-256' });
      expect(JSON.stringify(jwks)).not.toContain('"d"');
      expect(await kids(t)).not.toContain(kidOf('cookie'));
      expect(await kids(t)).not.toContain(kidOf('anchor'));
    });

    it('publishes the anchor key apart, and never a cookie key', async () => {
      const anchors = await t.keyring.anchorJwks();
      expect(anchors.keys.map((k) => k.kid)).toEqual([kidOf('anchor')]);
      expect(anchors.keys[0]).toMatchObject({ alg: 'ES256', use: 'sig' });
      expect(anchors.keys[0]).not.toHaveProperty('d');
      await t.keyring.rotate('cookie');
      await t.keyring.rotate('cookie');
      const everything = JSON.stringify([await t.keyring.jwks(), await t.keyring.anchorJwks()]);
      for (const key of (await t.keyring.list()).filter((k) => k.purpose === 'cookie')) expect(everything).not.toContain(key.kid);
    });

    it('publishes a next key before it signs', async () => {
      const staged = await t.keyring.rotate();
      if (staged.action !== 'staged') throw new Error('expected a staged key');
      expect(await kids(t)).toEqual([kidOf('access_token'), staged.next.kid]);
      const token = await t.keyring.accessTokenSigner(ISSUER).sign(claimsAt(t.clock.ms));
      const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(await t.keyring.jwks()), {
        issuer: ISSUER,
        audience: RESOURCE,
        currentDate: new Date(t.clock.ms),
      });
      expect(protectedHeader.kid).toBe(kidOf('access_token'));
    });

    it('keeps a retired key until not_after, then drops it (before and after prune)', async () => {
      const old = kidOf('access_token');
      const token = await t.keyring.accessTokenSigner(ISSUER).sign(claimsAt(t.clock.ms));
      await t.keyring.rotate();
      const promoted = await t.keyring.rotate();
      if (promoted.action !== 'promoted') throw new Error('expected a promotion');
      expect(await kids(t)).toEqual([promoted.active.kid, old]);
      // A resource server holding this JWKS still verifies tokens the old key signed.
      await jwtVerify(token, createLocalJWKSet(await t.keyring.jwks()), { issuer: ISSUER, audience: RESOURCE, currentDate: new Date(t.clock.ms) });

      t.clock.ms = promoted.retired!.notAfter! - 1;
      expect(await kids(t)).toContain(old);
      t.clock.ms = promoted.retired!.notAfter!;
      expect(await kids(t)).toEqual([promoted.active.kid]);
      await t.keyring.prune();
      expect(await kids(t)).toEqual([promoted.active.kid]);
    });

    it('drops a next key retired before it ever signed, and an immediately retired key, at once', async () => {
      const staged = await t.keyring.rotate();
      if (staged.action !== 'staged') throw new Error('expected a staged key');
      await t.keyring.retire(staged.next.kid);
      expect(await kids(t)).toEqual([kidOf('access_token')]);
      const replaced = await t.keyring.retire(kidOf('access_token'), { immediate: true });
      expect(await kids(t)).toEqual([replaced.replacement!.kid]);
    });
  });
}

/**
 * Access tokens: the keyring signs RFC 9068 JWTs, and the verifier refuses everything that
 * is not exactly such a token for the expected resource (RFC 8725; security invariants 28,
 * 30, 38). On SQLite and PostgreSQL.
 *
 * Checked by hand (each protection removed once, then restored; the named test failed):
 * - the `alg` allow-list and the key-alg equality in the verifier, and `algorithms` in the
 *   `jwtVerify` call: each alone refuses "alg: none", HS256 and mismatched algs with
 *   `alg_not_allowed` (removing one leaves the tests green); with all three removed those
 *   three tests fail (jose still refuses the tokens, for another reason);
 * - the embedded-key check: "a header that brings its own key" fails (bad_signature instead);
 * - the purpose check in `Keyring.accessTokenVerificationKey`: "a JWT signed with the anchor
 *   key" verifies, and fails;
 * - `isTrustedAt` in the same place: "a token signed by a retired-and-removed key" verifies;
 * - `typ` in `jwtVerify`: "wrong typ" and "an ID-token-shaped JWT" fail;
 * - `issuer`: "wrong iss" fails; the `aud` comparison: "wrong aud" fails;
 * - `requiredClaims`: "missing jti" fails (reason `malformed` instead of `missing_claim`);
 * - the `iat` comparison: "iat in the future" fails; `currentDate`: "expired" fails;
 * - opening the sealed private part in `Keyring.#authenticPublicKey` (security-model F1):
 *   "a key row written into the database without the master key" verifies the forged
 *   token and finds the rogue kid in the JWKS, and fails.
 */
import { randomBytes } from 'node:crypto';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  exportSPKI,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type CryptoKey,
} from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Vault } from '../../src/crypto/vault.js';
import type { AccessTokenVerifier } from '../../src/keys/access-token-verifier.js';
import { generateKeyMaterial, KEYRING_SEAL_PURPOSE } from '../../src/keys/key-material.js';
import type { KeyringAccessTokenSigner } from '../../src/keys/access-token-signer.js';
import { InvalidToken } from '../../src/oauth/errors.js';
import { storeTargets } from '../support/stores.js';
import { HOUR_MS, ISSUER, RESOURCE, openTestKeyring, type TestKeyring } from './support/keyring-fixture.js';
import { claimsAt, expectRejected, forge, unsecured } from './support/tokens.js';

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`access tokens on ${target.name}`, () => {
    let t: TestKeyring;
    let signer: KeyringAccessTokenSigner;
    let verifier: AccessTokenVerifier;
    let ours: { kid: string; alg: string; privateKey: CryptoKey };
    const verify = (token: string, audience = RESOURCE) => verifier.verify(token, { audience });

    beforeEach(async () => {
      t = await openTestKeyring(target);
      signer = t.keyring.accessTokenSigner(ISSUER);
      verifier = t.keyring.accessTokenVerifier({ issuer: ISSUER });
      ours = await t.keyring.activeAccessTokenKey();
    });
    afterEach(() => t.dispose());

    it('signs an RFC 9068 JWT that verifies, with kid, typ at+jwt and iss', async () => {
      const claims = claimsAt(t.clock.ms);
      const token = await signer.sign(claims);
      expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: ours.kid, typ: 'at+jwt' });
      const verified = await verify(token);
      expect(verified).toEqual({ ...claims, iss: ISSUER, kid: ours.kid });
      // A resource server with only the published JWKS accepts it too.
      const { payload } = await jwtVerify(token, createLocalJWKSet(await t.keyring.jwks()), {
        issuer: ISSUER,
        audience: RESOURCE,
        typ: 'at+jwt',
        currentDate: new Date(t.clock.ms),
      });
      expect(payload.jti).toBe(claims.jti);
    });

    it('signs and verifies with EdDSA keys', async () => {
      const ed = await openTestKeyring(target, { accessTokenAlg: 'EdDSA' });
      try {
        const token = await ed.keyring.accessTokenSigner(ISSUER).sign(claimsAt(ed.clock.ms));
        expect(decodeProtectedHeader(token).alg).toBe('EdDSA');
        expect((await ed.keyring.accessTokenVerifier({ issuer: ISSUER }).verify(token, { audience: RESOURCE })).sub).toBe(
          'upstream-subject-1',
        );
      } finally {
        await ed.dispose();
      }
    });

    it('accepts typ in any case and as application/at+jwt (RFC 8725 §3.11)', async () => {
      for (const typ of ['AT+JWT', 'application/at+jwt', 'Application/AT+JWT']) {
        const token = await forge({ alg: 'ES256', kid: ours.kid, typ }, { ...claimsAt(t.clock.ms), iss: ISSUER }, ours.privateKey);
        await expect(verify(token)).resolves.toMatchObject({ iss: ISSUER });
      }
    });

    it('refuses a wrong typ, or none', async () => {
      for (const typ of ['JWT', 'jwt', 'at+jwe', 'application/jwt', undefined]) {
        const header = { alg: 'ES256', kid: ours.kid, ...(typ === undefined ? {} : { typ }) };
        const token = await forge(header, { ...claimsAt(t.clock.ms), iss: ISSUER }, ours.privateKey);
        await expectRejected(verify(token), 'wrong_typ');
      }
    });

    it('refuses an ID-token-shaped JWT signed with the right key (typ JWT)', async () => {
      const iat = Math.floor(t.clock.ms / 1000);
      const idToken = await forge(
        { alg: 'ES256', kid: ours.kid, typ: 'JWT' },
        { iss: ISSUER, sub: 'upstream-subject-1', aud: RESOURCE, nonce: 'n-0S6', auth_time: iat, iat, exp: iat + 600, jti: 'id-1', client_id: 'client-1', scope: 'openid' },
        ours.privateKey,
      );
      await expectRejected(verify(idToken), 'wrong_typ');
    });

    it('refuses a refresh token or any opaque string, and junk', async () => {
      await expectRejected(verify(randomBytes(32).toString('base64url')), 'malformed');
      await expectRejected(verify('a.b.c'), 'malformed');
      await expectRejected(verify(''), 'malformed');
      await expectRejected(verify('x'.repeat(10_000)), 'malformed');
    });

    it('refuses a wrong iss', async () => {
      for (const iss of ['https://auth.example.test/', 'https://evil.example', 'HTTPS://auth.example.test']) {
        const token = await forge({ alg: 'ES256', kid: ours.kid, typ: 'at+jwt' }, { ...claimsAt(t.clock.ms), iss }, ours.privateKey);
        await expectRejected(verify(token), 'wrong_issuer');
      }
      const other = t.keyring.accessTokenSigner('https://other-issuer.example');
      await expectRejected(verify(await other.sign(claimsAt(t.clock.ms))), 'wrong_issuer');
    });

    it('refuses a wrong aud: prefix, lookalike, trailing slash, other resource, array', async () => {
      const token = await signer.sign(claimsAt(t.clock.ms));
      for (const audience of ['https://mcp.example.test', 'https://mcp.example.test/mcp/', 'https://mcp.example.test/mcpx', 'https://mcp.example.test/m']) {
        await expectRejected(verify(token, audience), 'wrong_audience');
      }
      for (const aud of ['https://mcp.example.test.evil/mcp', 'https://mcp.example.test/mcp/../mcp', [RESOURCE], [RESOURCE, 'https://other.example']]) {
        const forged = await forge({ alg: 'ES256', kid: ours.kid, typ: 'at+jwt' }, { ...claimsAt(t.clock.ms), aud, iss: ISSUER }, ours.privateKey);
        await expectRejected(verify(forged), 'wrong_audience');
      }
    });

    it('refuses an expired token, allowing the clock skew', async () => {
      const claims = claimsAt(t.clock.ms);
      const token = await signer.sign(claims);
      t.clock.ms = claims.exp * 1000 + 59_000;
      await expect(verify(token)).resolves.toBeDefined();
      t.clock.ms = claims.exp * 1000 + 61_000;
      const error = await expectRejected(verify(token), 'expired');
      expect(error).toBeInstanceOf(InvalidToken);
      expect(error.toJSON()).toEqual({ error: 'invalid_token', error_description: 'the access token has expired' });
    });

    it('refuses a token whose iat is in the future beyond the skew', async () => {
      const iat = Math.floor(t.clock.ms / 1000) + 120;
      const token = await signer.sign(claimsAt(t.clock.ms, { iat, exp: iat + 3600 }));
      await expectRejected(verify(token), 'not_yet_valid');
      const within = Math.floor(t.clock.ms / 1000) + 30;
      await expect(verify(await signer.sign(claimsAt(t.clock.ms, { iat: within, exp: within + 3600 })))).resolves.toBeDefined();
    });

    it('refuses a token missing a required claim (jti, sub, client_id, scope, exp, iat)', async () => {
      for (const claim of ['jti', 'sub', 'client_id', 'scope', 'exp', 'iat'] as const) {
        const payload: Record<string, unknown> = { ...claimsAt(t.clock.ms), iss: ISSUER };
        delete payload[claim];
        const token = await forge({ alg: 'ES256', kid: ours.kid, typ: 'at+jwt' }, payload, ours.privateKey);
        await expectRejected(verify(token), 'missing_claim');
      }
      const wrongType = await forge({ alg: 'ES256', kid: ours.kid, typ: 'at+jwt' }, { ...claimsAt(t.clock.ms), iss: ISSUER, jti: 42 as unknown as string }, ours.privateKey);
      await expectRejected(verify(wrongType), 'malformed');
    });

    it('refuses alg: none', async () => {
      const payload = { ...claimsAt(t.clock.ms), iss: ISSUER };
      await expectRejected(verify(unsecured({ kid: ours.kid, typ: 'at+jwt' }, payload)), 'alg_not_allowed');
      await expectRejected(verify(unsecured({ kid: ours.kid, typ: 'at+jwt' }, payload) + 'c2ln'), 'alg_not_allowed');
    });

    it('refuses HS256 with the public key as the HMAC secret', async () => {
      const publicJwk = (await t.keyring.list()).find((k) => k.kid === ours.kid)!.publicJwk!;
      const pem = await exportSPKI((await importJWK({ ...publicJwk }, 'ES256', { extractable: true })) as CryptoKey);
      const payload = { ...claimsAt(t.clock.ms), iss: ISSUER };
      for (const secret of [new TextEncoder().encode(pem), new TextEncoder().encode(JSON.stringify(publicJwk))]) {
        for (const alg of ['HS256', 'HS384', 'HS512']) {
          await expectRejected(verify(await forge({ alg, kid: ours.kid, typ: 'at+jwt' }, payload, secret)), 'alg_not_allowed');
        }
      }
    });

    it('refuses an allowed alg that is not the key\'s alg (EdDSA header, ES256 key)', async () => {
      const attacker = await generateKeyPair('EdDSA');
      const token = await forge({ alg: 'EdDSA', kid: ours.kid, typ: 'at+jwt' }, { ...claimsAt(t.clock.ms), iss: ISSUER }, attacker.privateKey);
      await expectRejected(verify(token), 'alg_not_allowed');
    });

    it('refuses a token signed by an unknown key, or by another key under our kid', async () => {
      const attacker = await generateKeyPair('ES256');
      const payload = { ...claimsAt(t.clock.ms), iss: ISSUER };
      await expectRejected(verify(await forge({ alg: 'ES256', kid: 'attacker-key', typ: 'at+jwt' }, payload, attacker.privateKey)), 'unknown_key');
      await expectRejected(verify(await forge({ alg: 'ES256', typ: 'at+jwt' }, payload, attacker.privateKey)), 'unknown_key');
      await expectRejected(verify(await forge({ alg: 'ES256', kid: ours.kid, typ: 'at+jwt' }, payload, attacker.privateKey)), 'bad_signature');
      // A tampered payload breaks our own signature.
      const [h, , s] = (await signer.sign(claimsAt(t.clock.ms))).split('.');
      const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, scope: 'admin' })).toString('base64url')}.${s}`;
      await expectRejected(verify(tampered), 'bad_signature');
    });

    it('refuses a header that brings its own key (jwk, jku, x5c, x5u)', async () => {
      const attacker = await generateKeyPair('ES256', { extractable: true });
      const { exportJWK } = await import('jose');
      const jwk = await exportJWK(attacker.publicKey);
      const payload = { ...claimsAt(t.clock.ms), iss: ISSUER };
      await expectRejected(verify(await forge({ alg: 'ES256', kid: ours.kid, typ: 'at+jwt', jwk }, payload, attacker.privateKey)), 'embedded_key');
      await expectRejected(
        verify(await forge({ alg: 'ES256', kid: ours.kid, typ: 'at+jwt', jku: 'https://evil.example/jwks' }, payload, attacker.privateKey)),
        'embedded_key',
      );
    });

    it('refuses a JWT signed with the anchor key (another purpose, RFC 8725 §3.12)', async () => {
      const anchor = await t.keyring.anchorSigningKey();
      const token = await forge({ alg: anchor.alg, kid: anchor.kid, typ: 'at+jwt' }, { ...claimsAt(t.clock.ms), iss: ISSUER }, anchor.privateKey);
      await expectRejected(verify(token), 'wrong_key_purpose');
    });

    it('verifies tokens of a retired key until not_after, and refuses a token signed by a retired-and-removed key', async () => {
      const old = await t.keyring.activeAccessTokenKey();
      const before = await signer.sign(claimsAt(t.clock.ms));
      await t.keyring.rotate();
      await t.keyring.rotate();
      expect((await t.keyring.activeAccessTokenKey()).kid).not.toBe(old.kid);
      await expect(verify(before)).resolves.toMatchObject({ kid: old.kid });
      const notAfter = (await t.keyring.list()).find((k) => k.kid === old.kid)!.notAfter!;
      expect(notAfter).toBe(t.clock.ms + HOUR_MS + 65_000);

      // Suppose the old private key leaked: a fresh token signed with it after not_after.
      t.clock.ms = notAfter;
      const leaked = () => forge({ alg: 'ES256', kid: old.kid, typ: 'at+jwt' }, { ...claimsAt(t.clock.ms), iss: ISSUER }, old.privateKey);
      await expectRejected(verify(await leaked()), 'key_retired');
      expect((await t.keyring.prune()).removed).toContain(old.kid);
      await expectRejected(verify(await leaked()), 'key_retired');
      // A new instance, which never saw the key in use, refuses it too.
      const fresh = await t.sibling();
      await expectRejected(fresh.accessTokenVerifier({ issuer: ISSUER }).verify(await leaked(), { audience: RESOURCE }), 'key_retired');
    });

    it('refuses a key row written into the database without the master key, and never publishes it', async () => {
      // Someone with write access to the database but not the master key makes a key the
      // way flowgate does (sealed with a master key of their own) and inserts it as `next`.
      const theirVault = new Vault(t.store.store.db, new Uint8Array(randomBytes(32)), t.clock.now);
      const rogue = await generateKeyMaterial(theirVault, 'access_token', 'ES256');
      await t.store.store.db
        .insertInto('signing_keys')
        .values({
          kid: rogue.kid,
          purpose: rogue.purpose,
          alg: rogue.alg,
          state: 'next',
          public_jwk: rogue.publicJwk,
          private_sealed: rogue.privateSealed,
          created_at: t.clock.ms,
        })
        .execute();
      const theirKey = await importJWK(
        { ...(await theirVault.openWithMaster(KEYRING_SEAL_PURPOSE, rogue.privateSealed).then((text) => JSON.parse(text).jwk)) },
        'ES256',
      );
      const forged = await forge({ alg: 'ES256', kid: rogue.kid, typ: 'at+jwt' }, { ...claimsAt(t.clock.ms), iss: ISSUER }, theirKey as CryptoKey);
      // A fresh instance reads the row, and so does this one once it re-reads the table.
      const fresh = await t.sibling();
      await expectRejected(fresh.accessTokenVerifier({ issuer: ISSUER }).verify(forged, { audience: RESOURCE }), 'unauthenticated_key');
      await expectRejected(verify(forged), 'unauthenticated_key');
      expect((await fresh.jwks()).keys.map((k) => k.kid)).toEqual([ours.kid]);
      // Our own tokens still verify.
      await expect(verify(await signer.sign(claimsAt(t.clock.ms)))).resolves.toMatchObject({ kid: ours.kid });
    });

    it('refuses, at once, tokens of a key retired immediately (compromise)', async () => {
      const token = await signer.sign(claimsAt(t.clock.ms));
      await t.keyring.retire(ours.kid, { immediate: true });
      await expectRejected(verify(token), 'key_retired');
      const next = await t.keyring.activeAccessTokenKey();
      expect(next.kid).not.toBe(ours.kid);
      await expect(verify(await signer.sign(claimsAt(t.clock.ms)))).resolves.toMatchObject({ kid: next.kid });
    });
  });
}

/**
 * Making keys, and sealing and opening their private parts with the master key.
 *
 * The sealed text binds the private JWK to its row: it carries the key's `kid`, purpose and
 * algorithm, and for asymmetric keys its public coordinates must equal the row's public JWK.
 * A sealed blob copied to another row therefore does not open as that row's key.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, generateSecret, type JWK } from 'jose';
import type { Vault } from '../crypto/vault.js';
import { KeyMaterialError } from './errors.js';
import type { KeyAlg, KeyPurpose, SignatureAlg } from './types.js';

/** The `purpose` every private key is sealed for (`Vault.sealWithMaster`). */
export const KEYRING_SEAL_PURPOSE = 'keyring';

/** A key just made, private part already sealed: what gets inserted. */
export interface NewKeyMaterial {
  readonly kid: string;
  readonly purpose: KeyPurpose;
  readonly alg: KeyAlg;
  /** Public JWK as JSON text; null for cookie keys. */
  readonly publicJwk: string | null;
  readonly privateSealed: string;
}

interface SealedPrivate {
  readonly kid: string;
  readonly purpose: KeyPurpose;
  readonly alg: KeyAlg;
  readonly jwk: JWK;
}

/** The public members of an EC or OKP JWK (RFC 7517 §4, RFC 7518 §6.2.1, RFC 8037 §2). */
function publicPart(jwk: JWK): JWK {
  const { kty, crv, x, y } = jwk;
  return kty === 'EC' ? { kty, crv, x, y } : { kty, crv, x };
}

/**
 * Makes a key for `purpose`: an ES256 or EdDSA key pair (the `kid` is its RFC 7638
 * thumbprint), or for cookies a 256-bit HMAC secret with a random `kid` (a thumbprint of a
 * secret would be a hash of it).
 */
export async function generateKeyMaterial(vault: Vault, purpose: KeyPurpose, alg: SignatureAlg): Promise<NewKeyMaterial> {
  let kid: string;
  let keyAlg: KeyAlg;
  let publicJwk: JWK | null;
  let privateJwk: JWK;
  if (purpose === 'cookie') {
    keyAlg = 'HS256';
    privateJwk = await exportJWK(await generateSecret('HS256', { extractable: true }));
    publicJwk = null;
    kid = randomBytes(16).toString('base64url');
  } else {
    keyAlg = alg;
    const pair = await generateKeyPair(alg, { extractable: true });
    privateJwk = await exportJWK(pair.privateKey);
    publicJwk = publicPart(await exportJWK(pair.publicKey));
    kid = await calculateJwkThumbprint(publicJwk);
  }
  const sealed: SealedPrivate = { kid, purpose, alg: keyAlg, jwk: privateJwk };
  return {
    kid,
    purpose,
    alg: keyAlg,
    publicJwk: publicJwk === null ? null : JSON.stringify(publicJwk),
    privateSealed: await vault.sealWithMaster(KEYRING_SEAL_PURPOSE, JSON.stringify(sealed)),
  };
}

/** The row fields a private part must match. */
export interface KeyIdentity {
  readonly kid: string;
  readonly purpose: KeyPurpose;
  readonly alg: KeyAlg;
  readonly publicJwk: Readonly<JWK> | null;
}

/** Opens a row's sealed private JWK and checks that it belongs to that row. */
export async function openPrivateJwk(vault: Vault, key: KeyIdentity, privateSealed: string): Promise<JWK> {
  let opened: SealedPrivate;
  try {
    opened = JSON.parse(await vault.openWithMaster(KEYRING_SEAL_PURPOSE, privateSealed)) as SealedPrivate;
  } catch (error) {
    throw new KeyMaterialError(key.kid, 'does not open with the master key (another master key, or tampered)', { cause: error });
  }
  if (opened.kid !== key.kid || opened.purpose !== key.purpose || opened.alg !== key.alg) {
    throw new KeyMaterialError(key.kid, `was sealed for ${opened.kid} (${opened.purpose}, ${opened.alg}), not for this row`);
  }
  if (key.publicJwk !== null) {
    const expected = publicPart(key.publicJwk as JWK);
    const actual = publicPart(opened.jwk);
    if (JSON.stringify(expected) !== JSON.stringify(actual)) {
      throw new KeyMaterialError(key.kid, 'does not match its public key');
    }
  }
  return opened.jwk;
}

/**
 * Signs flowgate's access tokens with the keyring's active `access_token` key: a JWT with
 * header `{ alg, kid, typ: "at+jwt" }` (RFC 9068 §2.1) and the engine's claims plus `iss`
 * (RFC 9068 §2.2).
 *
 * @module
 */
import { SignJWT, type CryptoKey } from 'jose';
import type { AccessTokenClaims, AccessTokenSigner } from '../engine/context.js';
import type { SignatureAlg } from './types.js';

/** The media type of flowgate's access tokens (RFC 9068 §2.1), as the `typ` header. */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** A private key ready to sign. */
export interface SigningKey {
  readonly kid: string;
  readonly alg: SignatureAlg;
  readonly privateKey: CryptoKey;
}

/** Where the signer gets its key (the keyring). */
export interface ActiveAccessTokenKey {
  activeAccessTokenKey(): Promise<SigningKey>;
}

/**
 * The keyring's {@link AccessTokenSigner}.
 *
 * @example
 * ```ts
 * const signer = keyring.accessTokenSigner('https://auth.example.com');
 * const jwt = await signer.sign({ sub, aud: resource, client_id, scope, jti, iat, exp });
 * ```
 */
export class KeyringAccessTokenSigner implements AccessTokenSigner {
  constructor(
    private readonly keys: ActiveAccessTokenKey,
    readonly issuer: string,
  ) {
    if (issuer === '') throw new TypeError('the access-token issuer must not be empty');
  }

  async sign(claims: AccessTokenClaims): Promise<string> {
    const key = await this.keys.activeAccessTokenKey();
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYP })
      .setIssuer(this.issuer)
      .sign(key.privateKey);
  }
}

/**
 * The keyring: signing keys in the store, the JWKS, the access-token signer and verifier,
 * and the cookie keys.
 *
 * @module
 */
export { Keyring, KEYRING_DEFAULTS, type KeyringOptions, type PruneResult } from './keyring.js';
export { keyringOptionsFrom } from './settings.js';
export type { RetireResult, RotationResult } from './rotation.js';
export { ACCESS_TOKEN_TYP, KeyringAccessTokenSigner, type SigningKey } from './access-token-signer.js';
export { ACCESS_TOKEN_ALGS, AccessTokenVerifier, type VerifiedAccessToken } from './access-token-verifier.js';
export { accessTokenJwks, anchorJwks } from './jwks.js';
export type { CookieKeys, CookieSecret } from './cookie-key.js';
export {
  AccessTokenRejected,
  KeyMaterialError,
  KeyringConflictError,
  KeyringRefusedError,
  NoActiveKeyError,
  UnknownKeyError,
  type AccessTokenRejection,
} from './errors.js';
export { KEY_PURPOSES, type KeyAlg, type KeyInfo, type KeyPurpose, type KeyState, type SignatureAlg } from './types.js';

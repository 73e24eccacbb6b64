/**
 * Verifies flowgate's access tokens (RFC 9068 §4, RFC 8725). In order:
 *
 * - a compact JWS of bounded size, whose header carries no key of its own (`jwk`, `jku`,
 *   `x5c`, `x5u`): keys come from the keyring only;
 * - `alg` on the allow-list (ES256, EdDSA: never `none`, never HMAC) and equal to the
 *   algorithm of the keyring key named by `kid` (RFC 8725 §3.1);
 * - that key signs access tokens (not a cookie or anchor key, RFC 8725 §3.12), is still
 *   trusted: `next`, `active`, or `retired` before its `not_after`, never removed, and is
 *   vouched for by the master key (its sealed private part opens and matches its public
 *   key), so a row written straight into the database cannot mint tokens;
 * - the signature, then `typ` = `at+jwt` (case-insensitive, `application/at+jwt` too;
 *   RFC 8725 §3.11), `iss` exactly the issuer, every RFC 9068 §2.2 claim present;
 * - `aud` a single string exactly equal to the expected resource (no prefix, no lookalike,
 *   no array), `exp` not passed and `iat` not in the future, each within the clock skew.
 *
 * Every refusal is an {@link AccessTokenRejected} (`invalid_token`) whose `reason` names
 * the check.
 *
 * @module
 */
import { decodeProtectedHeader, errors, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import type { AccessTokenClaims } from '../engine/context.js';
import { ACCESS_TOKEN_TYP } from './access-token-signer.js';
import { AccessTokenRejected, type AccessTokenRejection } from './errors.js';
import type { KeyInfo, SignatureAlg } from './types.js';

/** Algorithms an access token may be signed with (asymmetric only). */
export const ACCESS_TOKEN_ALGS: readonly SignatureAlg[] = Object.freeze(['ES256', 'EdDSA']);

/** Longer than any token flowgate issues by far; bounds the work a junk token causes. */
const MAX_TOKEN_LENGTH = 8192;

const EMBEDDED_KEY_PARAMS = ['jwk', 'jku', 'x5c', 'x5u'] as const;

const REQUIRED_CLAIMS = ['iss', 'sub', 'aud', 'client_id', 'scope', 'jti', 'iat', 'exp'] as const;

/** The key for a `kid`, or why there is none to trust. */
export type VerificationKeyLookup =
  | { readonly ok: true; readonly key: KeyInfo; readonly publicKey: CryptoKey }
  | { readonly ok: false; readonly reason: 'unknown_key' | 'wrong_key_purpose' | 'key_retired' | 'unauthenticated_key'; readonly key?: KeyInfo };

/** Where the verifier gets its keys (the keyring). */
export interface AccessTokenVerificationKeys {
  accessTokenVerificationKey(kid: string): Promise<VerificationKeyLookup>;
}

/** How an {@link AccessTokenVerifier} checks. */
export interface AccessTokenVerifierOptions {
  /** The exact `iss` tokens must carry. */
  readonly issuer: string;
  /** Tolerance for `exp` and `iat` (and `nbf`), in milliseconds. */
  readonly clockSkewMs: number;
  readonly now: () => number;
}

/** What a verified token says. */
export interface VerifiedAccessToken extends AccessTokenClaims {
  readonly iss: string;
  /** The keyring key that signed it. */
  readonly kid: string;
}

function reject(reason: AccessTokenRejection, detail: string, cause?: unknown): never {
  throw new AccessTokenRejected(reason, detail, cause === undefined ? {} : { cause });
}

/** Maps a jose verification failure to the check that failed. */
function rejectJoseError(error: unknown): never {
  if (error instanceof errors.JWTExpired) reject('expired', error.message, error);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') reject('missing_claim', error.message, error);
    if (error.claim === 'typ') reject('wrong_typ', error.message, error);
    if (error.claim === 'iss') reject('wrong_issuer', error.message, error);
    if (error.claim === 'aud') reject('wrong_audience', error.message, error);
    if ((error.claim === 'nbf' || error.claim === 'iat') && error.reason === 'check_failed') {
      reject('not_yet_valid', error.message, error);
    }
    reject('malformed', error.message, error);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) reject('bad_signature', error.message, error);
  if (error instanceof errors.JOSEAlgNotAllowed) reject('alg_not_allowed', error.message, error);
  if (error instanceof errors.JOSEError) reject('malformed', error.message, error);
  throw error;
}

function stringClaim(payload: JWTPayload, name: string): string {
  const value = payload[name];
  if (typeof value !== 'string' || value === '') reject('malformed', `"${name}" must be a non-empty string`);
  return value;
}

/**
 * Verifies access tokens against the keyring.
 *
 * @example
 * ```ts
 * const verifier = keyring.accessTokenVerifier({ issuer: 'https://auth.example.com' });
 * const claims = await verifier.verify(bearer, { audience: 'https://mcp.example.com/mcp' });
 * ```
 */
export class AccessTokenVerifier {
  readonly #options: AccessTokenVerifierOptions;

  constructor(
    private readonly keys: AccessTokenVerificationKeys,
    options: AccessTokenVerifierOptions,
  ) {
    if (options.issuer === '') throw new TypeError('the access-token issuer must not be empty');
    this.#options = Object.freeze({ ...options });
  }

  /** The token's claims, or an {@link AccessTokenRejected} naming the failed check. */
  async verify(token: string, expected: { readonly audience: string }): Promise<VerifiedAccessToken> {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
      reject('malformed', 'not a token of a plausible size');
    }
    if (token.split('.').length !== 3) reject('malformed', 'not a compact JWS (three parts)');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch (error) {
      reject('malformed', 'the protected header does not decode', error);
    }
    const embedded = EMBEDDED_KEY_PARAMS.find((param) => param in header);
    if (embedded) reject('embedded_key', `the header carries "${embedded}"; keys come from the keyring only`);
    const { alg, kid } = header;
    if (typeof alg !== 'string' || !(ACCESS_TOKEN_ALGS as readonly string[]).includes(alg)) {
      reject('alg_not_allowed', `alg ${JSON.stringify(alg)} is not one of ${ACCESS_TOKEN_ALGS.join(', ')}`);
    }
    if (typeof kid !== 'string' || kid === '') reject('unknown_key', 'the header has no kid');

    const lookup = await this.keys.accessTokenVerificationKey(kid);
    if (!lookup.ok) reject(lookup.reason, `kid ${kid}`);
    if (alg !== lookup.key.alg) reject('alg_not_allowed', `the token says ${alg}, key ${kid} is ${lookup.key.alg}`);

    const now = this.#options.now();
    const skewSeconds = Math.floor(this.#options.clockSkewMs / 1000);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, lookup.publicKey, {
        algorithms: [lookup.key.alg],
        typ: ACCESS_TOKEN_TYP,
        issuer: this.#options.issuer,
        requiredClaims: [...REQUIRED_CLAIMS],
        clockTolerance: skewSeconds,
        currentDate: new Date(now),
      }));
    } catch (error) {
      rejectJoseError(error);
    }

    // RFC 9068 §4: the resource must be the audience; flowgate issues one resource per token,
    // so anything but exactly that string (an array, a prefix, a lookalike) is refused.
    if (typeof payload.aud !== 'string' || payload.aud !== expected.audience) {
      reject('wrong_audience', `aud ${JSON.stringify(payload.aud)} is not ${JSON.stringify(expected.audience)}`);
    }
    const iat = payload.iat!;
    if (iat > Math.floor(now / 1000) + skewSeconds) reject('not_yet_valid', `iat ${iat} is in the future`);
    return Object.freeze({
      iss: stringClaim(payload, 'iss'),
      sub: stringClaim(payload, 'sub'),
      aud: payload.aud,
      client_id: stringClaim(payload, 'client_id'),
      scope: typeof payload.scope === 'string' ? payload.scope : reject('malformed', '"scope" must be a string'),
      jti: stringClaim(payload, 'jti'),
      iat,
      exp: payload.exp!,
      kid,
    });
  }
}

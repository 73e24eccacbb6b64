/**
 * Errors of the keyring and of access-token verification. Keyring errors name the key and
 * say what to do; a refused access token is an RFC 6750 `invalid_token` whose `reason`
 * (for logs and tests) says which check failed, while its public description stays generic.
 *
 * @module
 */
import { FlowgateError } from '../errors/flowgate-error.js';
import { InvalidToken } from '../oauth/errors.js';
import type { KeyPurpose } from './types.js';

/** No key has this `kid`. */
export class UnknownKeyError extends FlowgateError {
  constructor(readonly kid: string) {
    super('ERR_UNKNOWN_KEY', `there is no signing key with kid ${kid} (\`flowgate keys list\` shows the keys)`);
  }
}

/** The keyring refuses an operation that would break one of its rules (anchor keys, for one). */
export class KeyringRefusedError extends FlowgateError {
  constructor(message: string) {
    super('ERR_KEYRING_REFUSED', message);
  }
}

/**
 * Another instance changed the same purpose's keys at the same time; this operation changed
 * nothing. The database guarantees that one of the racers won and that exactly one key per
 * purpose is active.
 */
export class KeyringConflictError extends FlowgateError {
  constructor(readonly purpose: KeyPurpose) {
    super(
      'ERR_KEYRING_CONFLICT',
      `another instance changed the ${purpose} keys at the same time; nothing was changed here (\`flowgate keys list\` shows the result)`,
    );
  }
}

/** A key's stored material does not open with the master key, or does not belong to its row. */
export class KeyMaterialError extends FlowgateError {
  constructor(readonly kid: string, problem: string, options?: { cause?: unknown }) {
    super('ERR_KEY_MATERIAL', `the private key of ${kid} ${problem}`, options);
  }
}

/** The keyring has no active key for a purpose (it was opened without creating keys, or the table was edited by hand). */
export class NoActiveKeyError extends FlowgateError {
  constructor(readonly purpose: KeyPurpose) {
    super('ERR_NO_ACTIVE_KEY', `there is no active ${purpose} key; reopen the keyring to create one`);
  }
}

/** Why an access token was refused (for logs; clients only ever see `invalid_token`). */
export type AccessTokenRejection =
  /** Not a compact JWS JWT, or a header or claim of the wrong type. */
  | 'malformed'
  /** The header carries its own key (`jwk`, `jku`, `x5c`, `x5u`): keys come from the keyring only. */
  | 'embedded_key'
  /** `alg` is `none`, symmetric, unknown, or not the algorithm of the key named by `kid`. */
  | 'alg_not_allowed'
  /** No key has the token's `kid` (or it has none). */
  | 'unknown_key'
  /** The key exists but does not sign access tokens (a cookie or anchor key). */
  | 'wrong_key_purpose'
  /** The key was retired and every token it signed has expired, or it was removed. */
  | 'key_retired'
  /** The key's row is not vouched for by the master key (written into the database by someone else). */
  | 'unauthenticated_key'
  | 'bad_signature'
  /** `typ` is not `at+jwt` (RFC 9068 §2.1, RFC 8725 §3.11). */
  | 'wrong_typ'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'expired'
  /** `iat` or `nbf` lies in the future (beyond the allowed clock skew). */
  | 'not_yet_valid'
  | 'missing_claim';

/**
 * An access token failed verification (RFC 6750 §3.1 `invalid_token`, HTTP 401).
 *
 * @example
 * ```ts
 * try { await verifier.verify(token, { audience }); }
 * catch (e) { if (e instanceof AccessTokenRejected) log.info({ reason: e.reason, detail: e.detail }); }
 * ```
 */
export class AccessTokenRejected extends InvalidToken {
  constructor(
    readonly reason: AccessTokenRejection,
    detail: string,
    options: { cause?: unknown } = {},
  ) {
    super(reason === 'expired' ? 'the access token has expired' : 'the access token is invalid', {
      detail: `${reason}: ${detail}`,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
  }
}

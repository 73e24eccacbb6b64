/**
 * `private_key_jwt` client authentication at the upstream (RFC 7523 §2.2, OIDC Core §9):
 * instead of a secret, flowgate sends a JWT signed with its private key, which the upstream
 * checks against the public key registered for the client.
 *
 * The assertion (RFC 7523 §3):
 *
 * - `iss` = `sub` = flowgate's `client_id`;
 * - `aud` = the upstream's token endpoint (OIDC Core §9 "SHOULD be the URL of the Authorization
 *   Server's Token Endpoint"), or its issuer identifier (`clientAssertion.audience: 'issuer'`,
 *   as Auth0 and Keycloak take it, and as draft-ietf-oauth-rfc7523bis recommends), the same
 *   for the code exchange, refresh and revocation;
 * - `jti` random (256 bits, from oauth4webapi), `iat` = `nbf` = now, `exp` = `iat` + 60 s;
 * - header `alg` as configured (or the key's default), `kid` when known, and with a
 *   certificate for the key, its thumbprints `x5t#S256` and `x5t` (RFC 7515 §4.1.8, §4.1.7),
 *   by which Microsoft Entra ID finds the credential.
 *
 * The key is a private JWK or a PEM private key (PKCS#8, PKCS#1 or SEC1), checked when the
 * configuration is read and imported, non-extractable, on first use.
 *
 * @module
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { importJWK, type JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { UpstreamError } from './upstream-error.js';


/** JWS algorithms flowgate signs assertions with (RFC 7518 §3.1, RFC 8037, RFC 9864 `Ed25519`). */
export const ASSERTION_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

/** One of {@link ASSERTION_ALGS}. */
export type AssertionAlg = (typeof ASSERTION_ALGS)[number];

/** Lifetime of an assertion, in seconds: long enough for one request, short against replay. */
export const ASSERTION_LIFETIME_SECONDS = 60;

/** The `upstream.clientAssertion` section. */
export interface ClientAssertionConfig {
  /** A private JWK, or a PEM private key. */
  readonly privateKey: string | Readonly<Record<string, unknown>>;
  readonly kid?: string | undefined;
  readonly alg?: AssertionAlg | undefined;
  readonly audience?: 'token_endpoint' | 'issuer' | undefined;
  /** A PEM certificate for the key: its thumbprints go in the header (`x5t#S256`, `x5t`). */
  readonly certificate?: string | undefined;
}

/** A problem with `upstream.clientAssertion` (path relative to it). */
export interface ClientAssertionProblem {
  readonly path: readonly string[];
  readonly message: string;
}

const EC_ALGS: Readonly<Record<string, AssertionAlg>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/** The algorithms a key can sign with; the first is its default. */
function algorithmsFor(key: KeyObject): readonly AssertionAlg[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const alg = EC_ALGS[key.asymmetricKeyDetails?.namedCurve ?? ''];
      return alg === undefined ? [] : [alg];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return [];
  }
}

/** The configured key as a Node.js KeyObject. Throws on anything but a private asymmetric key. */
function keyObjectOf(privateKey: ClientAssertionConfig['privateKey']): KeyObject {
  const key =
    typeof privateKey === 'string'
      ? createPrivateKey(privateKey)
      : createPrivateKey({ key: privateKey as JWK & { kty: string }, format: 'jwk' });
  if (key.type !== 'private') throw new TypeError('not a private key');
  return key;
}

function jwkMember(privateKey: ClientAssertionConfig['privateKey'], name: 'kid' | 'alg'): string | undefined {
  if (typeof privateKey === 'string') return undefined;
  const value = privateKey[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * What is wrong with a `clientAssertion` section: an unreadable or public key, a key type
 * that cannot sign, an `alg` that does not fit the key. Empty when it is usable.
 */
export function clientAssertionProblems(config: ClientAssertionConfig): ClientAssertionProblem[] {
  let key: KeyObject;
  try {
    key = keyObjectOf(config.privateKey);
  } catch {
    // The parser's message can quote key material; keep it out of the error.
    return [{ path: ['privateKey'], message: 'must be a private key: a JWK with its private members, or a PEM "PRIVATE KEY"' }];
  }
  const algorithms = algorithmsFor(key);
  if (algorithms.length === 0) {
    return [{ path: ['privateKey'], message: 'must be an RSA, EC (P-256, P-384, P-521) or Ed25519 key' }];
  }
  const alg = config.alg ?? jwkMember(config.privateKey, 'alg');
  if (alg !== undefined && !(algorithms as readonly string[]).includes(alg)) {
    return [{ path: [config.alg === undefined ? 'privateKey' : 'alg'], message: `${alg} does not fit this key (use ${algorithms.join(', ')})` }];
  }
  if (config.certificate !== undefined) {
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(config.certificate);
    } catch {
      return [{ path: ['certificate'], message: 'must be a PEM certificate ("BEGIN CERTIFICATE")' }];
    }
    if (!certificate.checkPrivateKey(key)) return [{ path: ['certificate'], message: 'is not a certificate for this private key' }];
  }
  return [];
}

/** The certificate thumbprints of the header (RFC 7515 §4.1.7, §4.1.8), or none. */
function thumbprints(certificate: string | undefined): Record<string, string> {
  if (certificate === undefined) return {};
  const der = new X509Certificate(certificate).raw;
  return {
    'x5t#S256': createHash('sha256').update(der).digest('base64url'),
    x5t: createHash('sha1').update(der).digest('base64url'),
  };
}

/** The signing algorithm: configured, else the JWK's `alg`, else the key's default. */
export function assertionAlgorithm(config: ClientAssertionConfig): AssertionAlg {
  const alg = config.alg ?? jwkMember(config.privateKey, 'alg');
  return (alg as AssertionAlg | undefined) ?? algorithmsFor(keyObjectOf(config.privateKey))[0]!;
}

/** The `kid` header: configured, else the JWK's `kid`. */
export function assertionKeyId(config: ClientAssertionConfig): string | undefined {
  return config.kid ?? jwkMember(config.privateKey, 'kid');
}

async function importSigningKey(config: ClientAssertionConfig, alg: AssertionAlg): Promise<oauth.CryptoKey> {
  const jwk = keyObjectOf(config.privateKey).export({ format: 'jwk' }) as JWK;
  const key = await importJWK(jwk, alg === 'Ed25519' ? 'EdDSA' : alg, { extractable: false });
  if (key instanceof Uint8Array) throw new TypeError('not an asymmetric key');
  return key;
}

/**
 * oauth4webapi client authentication that sends a `private_key_jwt` assertion (see the
 * module documentation).
 *
 * @example
 * ```ts
 * const auth = privateKeyJwt({ privateKey: jwk, audience: 'token_endpoint' });
 * await oauth.refreshTokenGrantRequest(as, client, auth, refreshToken);
 * ```
 */
export function privateKeyJwt(config: ClientAssertionConfig): oauth.ClientAuth {
  const alg = assertionAlgorithm(config);
  const kid = assertionKeyId(config);
  const audience = config.audience ?? 'token_endpoint';
  const x5t = thumbprints(config.certificate);
  let key: Promise<oauth.CryptoKey> | undefined;
  return async (as, client, body, headers) => {
    key ??= importSigningKey(config, alg).catch((error: unknown) => {
      key = undefined;
      throw error;
    });
    const aud = audience === 'issuer' ? as.issuer : as.token_endpoint;
    if (aud === undefined) {
      throw new UpstreamError({ reason: 'misconfigured', operation: 'exchange', detail: 'no token endpoint to address the client assertion to' });
    }
    const sign = oauth.PrivateKeyJwt(
      { key: await key, ...(kid === undefined ? {} : { kid }) },
      {
        [oauth.modifyAssertion]: (header, payload) => {
          header.alg = alg;
          Object.assign(header, x5t);
          payload.aud = aud;
          payload.exp = (payload.iat as number) + ASSERTION_LIFETIME_SECONDS;
        },
      },
    );
    await sign(as, client, body, headers);
  };
}

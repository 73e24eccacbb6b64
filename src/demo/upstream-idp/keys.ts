/**
 * Signing keys generated at start: always an EC P-256 key (fast, ~1 ms), plus an RSA-2048
 * key only when id_tokens must be RS256 (70–350 ms).
 *
 * @module
 */
import { generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { JWK } from 'oidc-provider';

const generate = promisify(generateKeyPair);

function toJwk(key: KeyObject, alg: string): JWK {
  const jwk = key.export({ format: 'jwk' }) as JWK;
  return { ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${randomBytes(6).toString('hex')}` };
}

/** Private JWKs for oidc-provider's `jwks.keys`. */
export async function generateSigningKeys(withRsa: boolean): Promise<JWK[]> {
  const ec = generate('ec', { namedCurve: 'P-256' });
  const rsa = withRsa ? generate('rsa', { modulusLength: 2048 }) : undefined;
  const keys = [toJwk((await ec).privateKey, 'ES256')];
  if (rsa) keys.push(toJwk((await rsa).privateKey, 'RS256'));
  return keys;
}

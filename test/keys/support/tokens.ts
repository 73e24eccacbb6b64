/** Claims, forged tokens and rejection checks for the access-token tests. */
import { randomBytes } from 'node:crypto';
import { base64url, SignJWT, type CryptoKey, type JWTHeaderParameters, type JWTPayload } from 'jose';
import { expect } from 'vitest';
import type { AccessTokenClaims } from '../../../src/engine/context.js';
import { AccessTokenRejected, type AccessTokenRejection } from '../../../src/keys/errors.js';
import { RESOURCE } from './keyring-fixture.js';

/** RFC 9068 claims issued at `nowMs`, valid for an hour. */
export function claimsAt(nowMs: number, over: Partial<Record<keyof AccessTokenClaims, unknown>> = {}): AccessTokenClaims {
  const iat = Math.floor(nowMs / 1000);
  return {
    sub: 'upstream-subject-1',
    aud: RESOURCE,
    client_id: 'client-1',
    scope: 'read write',
    jti: randomBytes(16).toString('base64url'),
    iat,
    exp: iat + 3600,
    ...over,
  } as AccessTokenClaims;
}

/** Signs `payload` with `key` under exactly `header` (what an attacker or a bug could produce). */
export function forge(header: JWTHeaderParameters, payload: JWTPayload, key: CryptoKey | Uint8Array): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header).sign(key);
}

/** An unsecured JWT (`alg: none`) with the given header and payload. */
export function unsecured(header: Record<string, unknown>, payload: JWTPayload): string {
  const part = (value: unknown) => base64url.encode(JSON.stringify(value));
  return `${part({ ...header, alg: 'none' })}.${part(payload)}.`;
}

/** Expects `promise` to reject with `invalid_token` for `reason`. */
export async function expectRejected(promise: Promise<unknown>, reason: AccessTokenRejection): Promise<AccessTokenRejected> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected a rejection for ${reason}`).toBeInstanceOf(AccessTokenRejected);
  const rejected = error as AccessTokenRejected;
  expect({ reason: rejected.reason, code: rejected.code, status: rejected.status }).toEqual({
    reason,
    code: 'invalid_token',
    status: 401,
  });
  return rejected;
}

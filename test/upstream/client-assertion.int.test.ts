/**
 * `private_key_jwt` client authentication at the upstream (RFC 7523 §2.2, OIDC Core §9)
 * against oidc-provider with a `private_key_jwt` client that holds flowgate's public keys:
 * the assertion's claims and signature, its audience (token endpoint or issuer), its use
 * for code exchange, refresh and revocation, and refusals.
 *
 * Protection checked by hand: with the `payload.aud = aud` line in client-assertion.ts
 * removed (oauth4webapi then addresses the issuer), "addresses the token endpoint …",
 * "signs code exchange, refresh and revocation …" and "an IdP that accepts only its token
 * endpoint …" fail (tried once, then restored).
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import type { UpstreamIdp } from '../../src/demo/upstream-idp.js';
import { TEST_REDIRECT_URI, withIdp } from '../support/idp.js';
import { clientKeyPair } from './providers/support.js';
import { client, oidcConfig, recordingFetch, signInAndExchange, upstreamFailure, type RecordedRequest } from './support.js';

const ec = clientKeyPair('ec', 'ec-1');
const rsa = clientKeyPair('rsa', 'rsa-1');
const ed = clientKeyPair('ed25519', 'ed-1');
const stranger = clientKeyPair('ec', 'ec-1'); // same kid, another key

/** A key and a self-signed certificate for it (test only; see fixtures/README.md). */
const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const CERT_KEY = fixture('client-assertion-test.key.pem');
const CERT = fixture('client-assertion-test.cert.pem');
const certPublicJwk = { ...(createPublicKey(CERT_KEY).export({ format: 'jwk' }) as Record<string, unknown>), kid: 'cert-1' };

const JWT_CLIENT = {
  client_id: 'jwt-client',
  token_endpoint_auth_method: 'private_key_jwt',
  jwks: { keys: [ec.publicJwk, rsa.publicJwk, ed.publicJwk, certPublicJwk] },
  redirect_uris: [TEST_REDIRECT_URI],
} as const;

/** The assertion of a recorded request, verified with the public key; its header and claims. */
async function assertionOf(request: RecordedRequest, publicJwk: Record<string, unknown>, alg: string) {
  const body = new URLSearchParams(request.body);
  expect(body.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
  expect(body.get('client_id')).toBe('jwt-client');
  expect(body.has('client_secret')).toBe(false);
  expect(request.headers.get('authorization')).toBeNull();
  const jwt = body.get('client_assertion')!;
  const { payload } = await jwtVerify(jwt, await importJWK(publicJwk, alg));
  return { header: decodeProtectedHeader(jwt), payload };
}

describe('upstream private_key_jwt', () => {
  let idp: UpstreamIdp;
  let strict: UpstreamIdp;

  beforeAll(async () => {
    [idp, strict] = await Promise.all([
      withIdp({ clients: [JWT_CLIENT] }),
      withIdp({ clients: [JWT_CLIENT], clientAssertionAudience: 'token_endpoint' }),
    ]);
  });

  function jwtClient(on: UpstreamIdp, clientAssertion: Record<string, unknown>, fetch?: typeof globalThis.fetch) {
    return client(oidcConfig(on, { clientId: 'jwt-client', clientAuthMethod: 'private_key_jwt', clientAssertion } as never), fetch ? { fetch } : {});
  }

  it('addresses the token endpoint: iss = sub = client_id, random jti, exp 60 s after iat, ES256 with the kid', async () => {
    const recorder = recordingFetch();
    const { signIn } = await signInAndExchange(jwtClient(idp, { privateKey: ec.privateJwk }, recorder.fetch));
    expect(signIn.subject).toBe('alice');
    const token = recorder.requests.find((r) => r.url === idp.endpoints.token)!;
    const { header, payload } = await assertionOf(token, ec.publicJwk, 'ES256');
    expect(header).toEqual({ alg: 'ES256', kid: 'ec-1' });
    expect(payload).toMatchObject({ iss: 'jwt-client', sub: 'jwt-client', aud: idp.endpoints.token });
    expect(payload.exp! - payload.iat!).toBe(60);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(5);
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('signs code exchange, refresh and revocation, each with a fresh jti', async () => {
    const recorder = recordingFetch();
    const upstream = jwtClient(idp, { privateKey: ec.privateJwk }, recorder.fetch);
    const { signIn } = await signInAndExchange(upstream);
    const refreshed = await upstream.refresh(signIn.tokenSet);
    expect(refreshed.refreshable).toBe(true);
    expect(await upstream.revoke(refreshed.tokenSet)).toBe(true);
    const sent = recorder.requests.filter((r) => r.method === 'POST');
    expect(sent.map((r) => r.url)).toEqual([idp.endpoints.token, idp.endpoints.token, idp.endpoints.revocation, idp.endpoints.revocation]);
    const jtis = new Set<unknown>();
    for (const request of sent) {
      const { payload } = await assertionOf(request, ec.publicJwk, 'ES256');
      expect(payload.aud).toBe(idp.endpoints.token);
      jtis.add(payload.jti);
    }
    expect(jtis.size).toBe(4);
    // The revoked refresh token is dead upstream.
    expect((await upstreamFailure(upstream.refresh(refreshed.tokenSet))).reason).toBe('invalid_grant');
  });

  it('takes a PEM key (RS256 by default, PS256 when asked) and Ed25519 (EdDSA)', async () => {
    for (const [key, config, alg] of [
      [rsa, { privateKey: rsa.privatePem, kid: 'rsa-1' }, 'RS256'],
      [rsa, { privateKey: rsa.privatePem, kid: 'rsa-1', alg: 'PS256' }, 'PS256'],
      [ed, { privateKey: ed.privateJwk }, 'EdDSA'],
    ] as const) {
      const recorder = recordingFetch();
      const { signIn } = await signInAndExchange(jwtClient(idp, config, recorder.fetch));
      expect(signIn.subject).toBe('alice');
      const { header } = await assertionOf(recorder.requests.find((r) => r.url === idp.endpoints.token)!, key.publicJwk, alg);
      expect(header.alg).toBe(alg);
    }
  });

  it('with a certificate, sends its thumbprints (x5t#S256, x5t) as Entra expects, and checks it fits the key', async () => {
    const recorder = recordingFetch();
    const { signIn } = await signInAndExchange(jwtClient(idp, { privateKey: CERT_KEY, kid: 'cert-1', alg: 'PS256', certificate: CERT }, recorder.fetch));
    expect(signIn.subject).toBe('alice');
    const { header } = await assertionOf(recorder.requests.find((r) => r.url === idp.endpoints.token)!, certPublicJwk, 'PS256');
    const der = new X509Certificate(CERT).raw;
    expect(header).toEqual({
      alg: 'PS256',
      kid: 'cert-1',
      'x5t#S256': createHash('sha256').update(der).digest('base64url'),
      x5t: createHash('sha1').update(der).digest('base64url'),
    });
    expect(() => jwtClient(idp, { privateKey: rsa.privatePem, certificate: CERT })).toThrow(/not a certificate for this private key/);
    expect(() => jwtClient(idp, { privateKey: CERT_KEY, certificate: 'not a certificate' })).toThrow(ConfigError);
  });

  it('addresses the issuer with audience: issuer', async () => {
    const recorder = recordingFetch();
    await signInAndExchange(jwtClient(idp, { privateKey: ec.privateJwk, audience: 'issuer' }, recorder.fetch));
    const { payload } = await assertionOf(recorder.requests.find((r) => r.url === idp.endpoints.token)!, ec.publicJwk, 'ES256');
    expect(payload.aud).toBe(idp.issuer);
  });

  it('an IdP that accepts only its token endpoint as audience: accepted, and refused when addressed to the issuer', async () => {
    const { signIn } = await signInAndExchange(jwtClient(strict, { privateKey: ec.privateJwk }));
    expect(signIn.subject).toBe('alice');
    const error = await upstreamFailure(signInAndExchange(jwtClient(strict, { privateKey: ec.privateJwk, audience: 'issuer' })));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'invalid_client', operation: 'exchange' });
  });

  it('a key the IdP does not hold is invalid_client', async () => {
    const error = await upstreamFailure(signInAndExchange(jwtClient(idp, { privateKey: stranger.privateJwk })));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'invalid_client' });
  });

  it('refuses unusable configurations, naming the field, without quoting the key', () => {
    const problems = (clientAssertion: unknown, extra: Record<string, unknown> = {}) => {
      try {
        client({ kind: 'oidc', issuer: 'https://idp.example', clientId: 'c', clientAuthMethod: 'private_key_jwt', clientAssertion, ...extra } as never);
        return [];
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ privateKey: ec.privateJwk })).toEqual([]);
    expect(problems({ privateKey: ec.publicJwk })).toEqual([{ path: 'upstream.clientAssertion.privateKey', message: expect.stringContaining('private key') }]);
    const garbage = problems({ privateKey: '-----BEGIN PRIVATE KEY-----\nSECRETSECRET\n-----END PRIVATE KEY-----' });
    expect(garbage.map((p) => p.path)).toEqual(['upstream.clientAssertion.privateKey']);
    expect(JSON.stringify(garbage)).not.toContain('SECRETSECRET');
    expect(problems({ privateKey: ec.privateJwk, alg: 'RS256' })).toEqual([{ path: 'upstream.clientAssertion.alg', message: expect.stringContaining('ES256') }]);
    expect(problems({ privateKey: ec.privateJwk }, { clientSecret: 'x' }).map((p) => p.path)).toEqual(['upstream.clientSecret']);
    expect(problems(undefined).map((p) => p.path)).toEqual(['upstream.clientAssertion']);
    expect(problems({ privateKey: ec.privateJwk }, { clientAuthMethod: 'client_secret_basic', clientSecret: 'x' }).map((p) => p.path)).toEqual(['upstream.clientAssertion']);
  });
});

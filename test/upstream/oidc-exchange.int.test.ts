/**
 * The OIDC code exchange against the real IdP, driven by the headless browser: the ID
 * token is validated (signature against the JWKS, iss, aud, nonce, exp), the authorization
 * response's iss (RFC 9207) and state are checked, and a refused response never reaches
 * the token endpoint.
 *
 * Protection checks: each refusal test below was run once with its protection removed and
 * failed, then the protection was restored:
 * - iss: `validateAuthResponse` given the callback without `iss` and metadata claiming no
 *   RFC 9207 support;
 * - state: `validateAuthResponse` given `oauth.skipStateCheck`;
 * - nonce: `expectedNonce` given the ID token's own nonce;
 * - signature: the `validateApplicationLevelSignature` call removed;
 * - aud, iss of the ID token: oauth4webapi's `validateAudience`/`validateIssuer` made no-ops;
 * - exp: the injected clock not passed to oauth4webapi (`clockSkew` 0).
 */
import { decodeProtectedHeader, decodeJwt, SignJWT, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Base64Url } from '../../src/crypto/random.js';
import type { UpstreamIdp } from '../../src/demo/upstream-idp.js';
import { testClients, withIdp } from '../support/idp.js';
import {
  client,
  CLIENTS,
  exchangeParams,
  jsonResponse,
  oidcConfig,
  recordingFetch,
  signInAndExchange,
  signInAtUpstream,
  TEST_REDIRECT_URI,
  upstreamFailure,
} from './support.js';

/** Replaces the body of the token endpoint's response (requests pass through). */
function rewriteTokenResponse(idp: UpstreamIdp, change: (body: Record<string, unknown>) => Promise<Record<string, unknown>> | Record<string, unknown>) {
  return recordingFetch(async (request, response) => {
    if (request.url !== idp.endpoints.token || response.status !== 200) return response;
    return jsonResponse(await change((await response.json()) as Record<string, unknown>));
  });
}

describe('OIDC code exchange', () => {
  let idp: UpstreamIdp;

  beforeAll(async () => {
    idp = await withIdp({ clients: testClients() });
  });

  it('signs in: subject and claims from the validated ID token and UserInfo, the raw token set, expiry, scopes', async () => {
    let now = Date.now();
    const recorder = recordingFetch();
    const upstream = client(oidcConfig(idp, { scopes: ['openid', 'email', 'profile', 'offline_access'], refreshThresholdSeconds: 10 }), {
      clock: () => now,
      fetch: recorder.fetch,
    });
    const { signIn } = await signInAndExchange(upstream);
    // oidc-provider keeps scope claims out of an ID token issued with an access token: UserInfo supplies them.
    expect(decodeJwt(signIn.tokenSet.id_token as string).email).toBeUndefined();
    const userinfo = recorder.requests.find((r) => r.url === idp.endpoints.userinfo)!;
    expect(userinfo.headers.get('authorization')).toBe(`Bearer ${signIn.tokenSet.access_token as string}`);
    expect(signIn.subject).toBe('alice');
    expect(signIn.claims).toEqual({ email: 'alice@example.test', email_verified: true, name: 'Alice Example', preferred_username: 'alice' });
    expect(signIn.tokenSet).toMatchObject({ token_type: 'bearer', expires_in: 60 });
    expect(typeof signIn.tokenSet.access_token).toBe('string');
    expect(typeof signIn.tokenSet.id_token).toBe('string');
    expect(typeof signIn.tokenSet.refresh_token).toBe('string');
    expect(JSON.parse(JSON.stringify(signIn.tokenSet))).toEqual(signIn.tokenSet); // plain JSON, ready to seal
    expect(signIn.expiresAt).toBe(now + 60_000);
    expect(signIn.refreshable).toBe(true);
    expect(signIn.grantedScopes).toEqual(expect.arrayContaining(['openid', 'email', 'profile']));
    expect(decodeJwt(signIn.tokenSet.id_token as string).aud).toBe('test-client');
    // refreshThresholdSeconds early: expiring from 50 s on, not before.
    expect(upstream.isExpiring(signIn.expiresAt)).toBe(false);
    now += 49_999;
    expect(upstream.isExpiring(signIn.expiresAt)).toBe(false);
    now += 1;
    expect(upstream.isExpiring(signIn.expiresAt)).toBe(true);
    expect(upstream.isExpiring(null)).toBe(false);
  });

  it('uses flowgate PKCE: the verifier sent to the token endpoint is the one whose challenge went upstream', async () => {
    const recorder = recordingFetch();
    const upstream = client(oidcConfig(idp), { fetch: recorder.fetch });
    const attempt = await signInAtUpstream(upstream);
    await upstream.exchangeCode(exchangeParams(attempt));
    const token = recorder.requests.find((r) => r.url === idp.endpoints.token)!;
    const body = new URLSearchParams(token.body);
    expect(body.get('grant_type')).toBe('authorization_code');
    expect(body.get('code_verifier')).toBe(attempt.codeVerifier);
    expect(sha256Base64Url(body.get('code_verifier')!)).toBe(attempt.authorizationUrl.searchParams.get('code_challenge'));
    expect(body.get('redirect_uri')).toBe(TEST_REDIRECT_URI);
  });

  it('accepts the callback as parameters, and a nonce known only by its hash', async () => {
    const upstream = client(oidcConfig(idp));
    const attempt = await signInAtUpstream(upstream);
    const signIn = await upstream.exchangeCode({
      params: Object.fromEntries(attempt.callbackUrl.searchParams),
      expectedState: attempt.state,
      codeVerifier: attempt.codeVerifier,
      nonceHash: sha256Base64Url(attempt.nonce),
      redirectUri: TEST_REDIRECT_URI,
    });
    expect(signIn.subject).toBe('alice');
  });

  it('refuses an ID token whose nonce is not the one sent', async () => {
    const upstream = client(oidcConfig(idp));
    const attempt = await signInAtUpstream(upstream);
    const error = await upstreamFailure(upstream.exchangeCode({ ...exchangeParams(attempt), nonce: 'another-nonce-value-0123456789' }));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'id_token_invalid', operation: 'exchange' });
    expect(error.detail).toMatch(/"nonce"/);
    expect(error.toClientError().code).toBe('access_denied');

    const byHash = await signInAtUpstream(upstream);
    const { nonce: _nonce, ...withoutNonce } = exchangeParams(byHash);
    const hashed = await upstreamFailure(upstream.exchangeCode({ ...withoutNonce, nonceHash: sha256Base64Url('another-nonce') }));
    expect(hashed).toMatchObject({ kind: 'definitive', reason: 'id_token_invalid' });
  });

  it('refuses an authorization response whose iss is not the issuer, or lacks it (RFC 9207), before any token request', async () => {
    const upstream = client(oidcConfig(idp));
    const attempt = await signInAtUpstream(upstream);
    const before = idp.stats.tokenRequests.authorization_code;

    const wrong = new URL(attempt.callbackUrl);
    wrong.searchParams.set('iss', 'http://127.0.0.1:1');
    const error = await upstreamFailure(upstream.exchangeCode({ ...exchangeParams(attempt), callbackUrl: wrong }));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'issuer_mismatch', operation: 'authorization' });
    expect(error.toClientError().code).toBe('access_denied');

    const missing = new URL(attempt.callbackUrl);
    missing.searchParams.delete('iss');
    const absent = await upstreamFailure(upstream.exchangeCode({ ...exchangeParams(attempt), callbackUrl: missing }));
    expect(absent.reason).toBe('issuer_mismatch');

    expect(idp.stats.tokenRequests.authorization_code).toBe(before); // the code never left flowgate
    const signIn = await upstream.exchangeCode(exchangeParams(attempt)); // the genuine response still works
    expect(signIn.subject).toBe('alice');
  });

  it('refuses an authorization response whose state is not the one sent, before any token request', async () => {
    const upstream = client(oidcConfig(idp));
    const attempt = await signInAtUpstream(upstream);
    const before = idp.stats.tokenRequests.authorization_code;
    const error = await upstreamFailure(upstream.exchangeCode({ ...exchangeParams(attempt), expectedState: `${attempt.state}x` }));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'state_mismatch', operation: 'authorization' });
    const missing = new URL(attempt.callbackUrl);
    missing.searchParams.delete('state');
    expect((await upstreamFailure(upstream.exchangeCode({ ...exchangeParams(attempt), callbackUrl: missing }))).reason).toBe('state_mismatch');
    expect(idp.stats.tokenRequests.authorization_code).toBe(before);
  });

  it('refuses an ID token not signed by a key of the upstream JWKS', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = rewriteTokenResponse(idp, async (body) => {
      const idToken = body.id_token as string;
      const header = decodeProtectedHeader(idToken);
      // Same claims, same kid: only the signature differs.
      const resigned = await new SignJWT(decodeJwt(idToken)).setProtectedHeader({ alg: 'ES256', kid: header.kid! }).sign(privateKey);
      return { ...body, id_token: resigned };
    });
    const upstream = client(oidcConfig(idp), { fetch: forged.fetch });
    const error = await upstreamFailure(signInAndExchange(upstream));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'id_token_invalid', operation: 'exchange' });
    expect(error.detail).toMatch(/signature verification failed/);
    expect(forged.requests.some((r) => r.url === idp.endpoints.jwks)).toBe(true);
  });

  it('refuses an ID token issued to another client (aud)', async () => {
    // A genuine token response of test-client …
    let captured: Record<string, unknown> | undefined;
    const capture = rewriteTokenResponse(idp, (body) => (captured = body));
    const first = await signInAndExchange(client(oidcConfig(idp), { fetch: capture.fetch }));
    // … replayed to flowgate configured as gh-client, with the nonce that token carries.
    const replay = rewriteTokenResponse(idp, () => captured!);
    const upstream = client(oidcConfig(idp, CLIENTS.post), { fetch: replay.fetch });
    const attempt = await signInAtUpstream(upstream);
    const error = await upstreamFailure(upstream.exchangeCode({ ...exchangeParams(attempt), nonce: first.attempt.nonce }));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'id_token_invalid' });
    expect(error.detail).toMatch(/"aud"/);
  });

  it('refuses an ID token from another issuer (mix-up)', async () => {
    const other = await withIdp({ clients: testClients() });
    let captured: Record<string, unknown> | undefined;
    const capture = rewriteTokenResponse(other, (body) => (captured = body));
    const first = await signInAndExchange(client(oidcConfig(other), { fetch: capture.fetch }));
    const replay = rewriteTokenResponse(idp, () => captured!);
    const upstream = client(oidcConfig(idp), { fetch: replay.fetch });
    const attempt = await signInAtUpstream(upstream);
    const error = await upstreamFailure(upstream.exchangeCode({ ...exchangeParams(attempt), nonce: first.attempt.nonce }));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'id_token_invalid' });
    expect(error.detail).toMatch(/"iss"/);
  });

  it('refuses an expired ID token (the injected clock reaches the exp check)', async () => {
    const later = () => Date.now() + 2 * 3600_000; // the IdP's ID tokens live 60 s
    const upstream = client(oidcConfig(idp), { clock: later });
    const error = await upstreamFailure(signInAndExchange(upstream));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'id_token_invalid' });
    expect(error.detail).toMatch(/"exp"/);
  });

  it('refuses a token response without an ID token', async () => {
    const stripped = rewriteTokenResponse(idp, ({ id_token: _idToken, ...rest }) => rest);
    const error = await upstreamFailure(signInAndExchange(client(oidcConfig(idp), { fetch: stripped.fetch })));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'id_token_invalid' });
  });

  it('refuses to exchange without a nonce', async () => {
    const upstream = client(oidcConfig(idp));
    const attempt = await signInAtUpstream(upstream);
    const { nonce: _nonce, ...params } = exchangeParams(attempt);
    await expect(upstream.exchangeCode(params)).rejects.toThrow(/nonce/);
  });
});

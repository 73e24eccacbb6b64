/**
 * Upstream refresh and revocation against the real IdP: rotation, a kept refresh token when
 * the upstream does not rotate, a validated ID token on refresh, RFC 7009 revocation.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamIdp } from '../../src/demo/upstream-idp.js';
import { clientPost, testClients, withIdp } from '../support/idp.js';
import { client, githubConfig, jsonResponse, oidcConfig, recordingFetch, signInAndExchange, upstreamFailure } from './support.js';

describe('upstream refresh', () => {
  let idp: UpstreamIdp;

  beforeAll(async () => {
    idp = await withIdp({ clients: testClients() }); // rotates refresh tokens on every use
  });

  it('refreshes with rotation: a new refresh token; the old one is then refused as invalid_grant', async () => {
    let now = Date.now();
    const upstream = client(oidcConfig(idp, { extraTokenParams: { audience: 'x' } }), { clock: () => now });
    const { signIn } = await signInAndExchange(upstream);
    now += 30_000;
    const refreshed = await upstream.refresh(signIn.tokenSet);
    expect(refreshed.tokenSet.refresh_token).toEqual(expect.any(String));
    expect(refreshed.tokenSet.refresh_token).not.toBe(signIn.tokenSet.refresh_token);
    expect(refreshed.tokenSet.access_token).not.toBe(signIn.tokenSet.access_token);
    expect(refreshed.expiresAt).toBe(now + 60_000);
    expect(refreshed.refreshable).toBe(true);
    expect(refreshed.grantedScopes).toEqual(signIn.grantedScopes);
    expect(typeof refreshed.tokenSet.id_token).toBe('string'); // a new ID token, validated (same sub)

    const reused = await upstreamFailure(upstream.refresh(signIn.tokenSet));
    expect(reused).toMatchObject({ kind: 'definitive', reason: 'invalid_grant', operation: 'refresh', upstreamError: 'invalid_grant' });
    expect(reused.toClientError().code).toBe('invalid_grant');
  });

  it('keeps the refresh token when the upstream does not rotate', async () => {
    const steady = await withIdp({ clients: testClients(), rotateRefreshToken: false });
    const upstream = client(oidcConfig(steady));
    const { signIn } = await signInAndExchange(upstream);
    const once = await upstream.refresh(signIn.tokenSet);
    expect(once.tokenSet.refresh_token).toBe(signIn.tokenSet.refresh_token);
    const twice = await upstream.refresh(once.tokenSet);
    expect(twice.tokenSet.refresh_token).toBe(signIn.tokenSet.refresh_token);

    // An upstream that sends no refresh_token back at all (RFC 6749 §6 allows it): the old one is kept.
    const withoutRt = recordingFetch(async (request, response) => {
      if (request.url !== steady.endpoints.token || response.status !== 200) return response;
      const { refresh_token: _rt, id_token: _id, scope: _scope, ...rest } = (await response.json()) as Record<string, unknown>;
      return jsonResponse(rest);
    });
    const silent = client(oidcConfig(steady), { fetch: withoutRt.fetch });
    const kept = await silent.refresh(twice.tokenSet);
    expect(kept.tokenSet.refresh_token).toBe(signIn.tokenSet.refresh_token);
    expect(kept.tokenSet.id_token).toBe(twice.tokenSet.id_token);
    expect(kept.refreshable).toBe(true);
    expect(kept.grantedScopes).toEqual(twice.grantedScopes);
  });

  it('refreshes a GitHub-like token set (no ID token) with client_secret_post', async () => {
    const github = await withIdp({ clients: testClients(), mode: 'github' });
    const recorder = recordingFetch();
    const upstream = client(githubConfig(github), { fetch: recorder.fetch });
    const { signIn } = await signInAndExchange(upstream);
    const refreshed = await upstream.refresh(signIn.tokenSet);
    expect(refreshed.tokenSet.id_token).toBeUndefined();
    expect(refreshed.refreshable).toBe(true);
    const body = new URLSearchParams(recorder.requests.filter((r) => r.url === github.endpoints.token).at(-1)!.body);
    expect(body.get('grant_type')).toBe('refresh_token');
    expect(body.get('client_secret')).toBe('gh-secret');
  });

  // Protection check: with the subject comparison in src/upstream/refresh.ts removed, this
  // refresh succeeds (tried once, then restored).
  it("refuses a refreshed ID token naming another subject (OIDC Core §12.2)", async () => {
    const bob = await signInAndExchange(client(oidcConfig(idp)), { user: 'bob' });
    const swap = recordingFetch(async (request, response) => {
      if (request.url !== idp.endpoints.token || response.status !== 200) return response;
      const body = (await response.json()) as Record<string, unknown>;
      return new URLSearchParams(request.body).get('grant_type') === 'refresh_token'
        ? jsonResponse({ ...body, id_token: bob.signIn.tokenSet.id_token })
        : jsonResponse(body);
    });
    const upstream = client(oidcConfig(idp), { fetch: swap.fetch });
    const { signIn } = await signInAndExchange(upstream);
    const error = await upstreamFailure(upstream.refresh(signIn.tokenSet));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'id_token_invalid', operation: 'refresh' });
    expect(error.toClientError().code).toBe('invalid_grant');
  });

  it('a token set without a refresh token cannot be refreshed (definitive)', async () => {
    const error = await upstreamFailure(client(oidcConfig(idp)).refresh({ access_token: 'x', token_type: 'bearer' }));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'invalid_grant', operation: 'refresh' });
  });
});

describe('upstream revocation (RFC 7009)', () => {
  let idp: UpstreamIdp;

  beforeAll(async () => {
    idp = await withIdp({ clients: testClients() });
  });

  async function active(token: string): Promise<boolean> {
    const response = await clientPost<{ active: boolean }>(idp.endpoints.introspection, { token }, {
      client_id: 'test-client',
      client_secret: 'test-secret',
      method: 'client_secret_basic',
    });
    return response.json.active;
  }

  it('revokes the upstream refresh and access tokens at the discovered endpoint', async () => {
    const recorder = recordingFetch();
    const upstream = client(oidcConfig(idp), { fetch: recorder.fetch });
    const { signIn } = await signInAndExchange(upstream);
    expect(await active(signIn.tokenSet.refresh_token as string)).toBe(true);
    expect(await upstream.revoke(signIn.tokenSet)).toBe(true);
    expect(await active(signIn.tokenSet.refresh_token as string)).toBe(false);
    expect(await active(signIn.tokenSet.access_token as string)).toBe(false);
    const sent = recorder.requests.filter((r) => r.url === idp.endpoints.revocation).map((r) => new URLSearchParams(r.body));
    expect(sent.map((b) => [b.get('token'), b.get('token_type_hint')])).toEqual([
      [signIn.tokenSet.refresh_token, 'refresh_token'],
      [signIn.tokenSet.access_token, 'access_token'],
    ]);
    expect((await upstreamFailure(upstream.refresh(signIn.tokenSet))).reason).toBe('invalid_grant');
  });

  it('says false when the upstream has no revocation endpoint', async () => {
    const github = await withIdp({ clients: testClients(), mode: 'github' });
    expect(await client(githubConfig(github)).revoke({ access_token: 'x', token_type: 'bearer' })).toBe(false);
    const configured = client(githubConfig(github, { revocationEndpoint: github.endpoints.revocation }));
    const { signIn } = await signInAndExchange(configured);
    expect(await configured.revoke(signIn.tokenSet)).toBe(true);
  });
});

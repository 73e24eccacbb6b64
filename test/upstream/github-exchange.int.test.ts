/**
 * The plain OAuth 2 (GitHub-like) exchange against the IdP in `github` mode: no ID token,
 * the subject from the user API's `id`, the primary verified e-mail from the emails API
 * when a granted scope allows it, and GitHub's form-encoded token responses.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { UpstreamIdp } from '../../src/demo/upstream-idp.js';
import { testClients, withIdp } from '../support/idp.js';
import { client, exchangeParams, githubConfig, recordingFetch, signInAndExchange, signInAtUpstream, upstreamFailure } from './support.js';

describe('GitHub-like code exchange', () => {
  let idp: UpstreamIdp;

  beforeAll(async () => {
    idp = await withIdp({ clients: testClients(), mode: 'github' });
  });

  it('signs in without an ID token: subject from /user, login and name as claims, verified e-mail from /user/emails', async () => {
    const recorder = recordingFetch();
    const upstream = client(githubConfig(idp), { fetch: recorder.fetch });
    const before = { user: idp.stats.userCalls, emails: idp.stats.userEmailsCalls };
    const { signIn } = await signInAndExchange(upstream);
    expect(signIn.subject).toBe('1001'); // alice's numeric id, stringified
    expect(signIn.claims).toEqual({
      preferred_username: 'alice',
      name: 'Alice Example',
      email: 'alice@example.test',
      email_verified: true,
    });
    expect(signIn.tokenSet.id_token).toBeUndefined();
    expect(signIn.refreshable).toBe(true);
    expect(signIn.grantedScopes).toEqual(['repo', 'read:user', 'user:email']);
    expect(idp.stats.userCalls - before.user).toBe(1);
    expect(idp.stats.userEmailsCalls - before.emails).toBe(1);
    const user = recorder.requests.find((r) => r.url === idp.endpoints.user)!;
    expect(user.headers.get('authorization')).toBe(`Bearer ${signIn.tokenSet.access_token as string}`);
    expect(user.headers.get('user-agent')).toMatch(/flowgate/);
    // The code goes to the configured token endpoint, with Accept: application/json (GitHub answers form-encoded otherwise).
    const token = recorder.requests.find((r) => r.url === idp.endpoints.token)!;
    expect(token.headers.get('accept')).toBe('application/json');
    expect(recorder.requests.some((r) => r.url.includes('/.well-known/'))).toBe(false);
  });

  it('does not call the emails API without a scope that allows it', async () => {
    const upstream = client(githubConfig(idp, { scopes: ['repo', 'read:user'] }));
    const before = idp.stats.userEmailsCalls;
    const { signIn } = await signInAndExchange(upstream, { user: 'bob' });
    expect(signIn.subject).toBe('1002');
    expect(signIn.claims).toEqual({ preferred_username: 'bob', name: 'Bob Example', email: 'bob@example.test' });
    expect(idp.stats.userEmailsCalls).toBe(before);
  });

  it('takes the subject from subjectField, and refuses a user API response without it', async () => {
    const byLogin = await signInAndExchange(client(githubConfig(idp, { subjectField: 'login' })));
    expect(byLogin.signIn.subject).toBe('alice');
    const error = await upstreamFailure(signInAndExchange(client(githubConfig(idp, { subjectField: 'node_id' }))));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'subject_missing', operation: 'userinfo' });
    expect(error.toClientError().code).toBe('access_denied');
  });

  it('copes with a form-encoded token response (comma-separated scope, string expires_in)', async () => {
    const formEncoded = recordingFetch(async (request, response) => {
      if (request.url !== idp.endpoints.token || response.status !== 200) return response;
      const json = (await response.json()) as Record<string, string | number>;
      const form = new URLSearchParams({
        access_token: String(json.access_token),
        refresh_token: String(json.refresh_token),
        expires_in: String(json.expires_in),
        scope: String(json.scope).split(' ').join(','),
        token_type: 'bearer',
      });
      return new Response(form.toString(), { status: 200, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } });
    });
    const now = Date.now();
    const upstream = client(githubConfig(idp), { fetch: formEncoded.fetch, clock: () => now });
    const { signIn } = await signInAndExchange(upstream);
    expect(signIn.subject).toBe('1001');
    expect(signIn.grantedScopes).toEqual(['repo', 'read:user', 'user:email']);
    expect(signIn.expiresAt).toBe(now + 60_000);
    expect(signIn.refreshable).toBe(true);
  });

  it("maps GitHub's error-with-status-200 to a definitive rejection, without its text", async () => {
    const githubError = recordingFetch(async (request, response) => {
      if (request.url !== idp.endpoints.token) return response;
      const form = new URLSearchParams({ error: 'bad_verification_code', error_description: 'SECRET-UPSTREAM-DETAIL' });
      return new Response(form.toString(), { status: 200, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    });
    const upstream = client(githubConfig(idp), { fetch: githubError.fetch });
    const attempt = await signInAtUpstream(upstream);
    const error = await upstreamFailure(upstream.exchangeCode(exchangeParams(attempt)));
    expect(error).toMatchObject({ kind: 'definitive', reason: 'invalid_grant', upstreamError: 'bad_verification_code', status: 400 });
    const clientError = error.toClientError();
    expect(clientError.code).toBe('access_denied');
    expect(JSON.stringify(clientError)).not.toContain('SECRET-UPSTREAM-DETAIL');
    expect(`${error.message} ${error.detail} ${clientError.detail}`).not.toContain('SECRET-UPSTREAM-DETAIL');
  });

  it('checks an RFC 9207 iss against the default issuer (the authorization endpoint origin)', async () => {
    const upstream = client(githubConfig(idp));
    expect(upstream.issuer).toBe(idp.issuer);
    const attempt = await signInAtUpstream(upstream);
    const wrong = new URL(attempt.callbackUrl);
    wrong.searchParams.set('iss', 'https://github.com');
    const error = await upstreamFailure(upstream.exchangeCode({ ...exchangeParams(attempt), callbackUrl: wrong }));
    expect(error.reason).toBe('issuer_mismatch');
    // GitHub sends no iss at all: accepted (its metadata claims no RFC 9207 support).
    const withoutIss = new URL(attempt.callbackUrl);
    withoutIss.searchParams.delete('iss');
    const signIn = await upstream.exchangeCode({ ...exchangeParams(attempt), callbackUrl: withoutIss });
    expect(signIn.subject).toBe('1001');
  });
});

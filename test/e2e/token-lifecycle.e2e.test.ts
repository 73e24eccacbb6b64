/**
 * The token lifecycle over HTTP against the real IdP: refresh and rotation, reuse,
 * revocation (RFC 7009), introspection (RFC 7662), upstream refresh once per grant, and
 * upstream outages versus definitive rejections.
 *
 * Checked by hand: with the lease in `UpstreamTokenService.ensureFresh` bypassed (every
 * caller refreshing), "exactly one upstream refresh" counts several; with
 * `refreshUpstreamFirst` removed from the token endpoint, the outage test rotates the
 * client's refresh token although the upstream is down; with the engine no longer feeding
 * committed events to the `UpstreamRevoker`, both upstream revocation tests fail.
 * Checked once and restored: with `invalid_client` during a refresh made definitive again
 * (src/upstream/upstream-error.ts) and the error-level log removed from
 * `UpstreamTokenService` (src/resource/upstream-tokens.ts), "keeps the grant when the
 * upstream refuses flowgate's own client credentials" fails on the missing error log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGrant } from '../../src/projections/grants.js';
import { UPSTREAM_CLIENT_REJECTED } from '../../src/resource/upstream-tokens.js';
import { startProxy, testLogger, type TestProxy } from '../support/proxy.js';
import { basic, postForm, refresh, tokensFor } from '../support/tokens.js';

const RS_ID = 'mcp-resource-server';
const RS_SECRET = 'resource-server-secret-0123456789';

/** flowgate's logger, silent as usual, keeping what was logged at error level. */
function recordingLogger() {
  const errors: { obj: object; msg: string | undefined }[] = [];
  const inner = testLogger();
  return {
    errors,
    info: (obj: object, msg?: string) => inner.info(obj, msg),
    warn: (obj: object, msg?: string) => inner.warn(obj, msg),
    error: (obj: object, msg?: string) => {
      errors.push({ obj, msg });
      inner.error(obj, msg);
    },
  };
}

describe('token lifecycle', () => {
  let proxy: TestProxy;
  let skew = 0;
  const logger = recordingLogger();
  beforeAll(async () => {
    proxy = await startProxy({
      idp: { ttl: { AccessToken: 120, IdToken: 3600 } },
      config: ({ idp }) => ({
        server: { introspectionClients: [{ clientId: RS_ID, clientSecret: RS_SECRET }] },
        upstream: {
          kind: 'oidc',
          issuer: idp.issuer,
          clientId: 'flowgate',
          clientSecret: 'flowgate-upstream-secret',
          scopes: ['openid', 'email', 'offline_access'],
          revocationEndpoint: idp.endpoints.revocation,
          revokeOnGrantRevocation: true,
          extraAuthorizeParams: { prompt: 'consent' },
        },
      }),
      flowgate: { clock: () => Date.now() + skew, logger },
    });
  });
  afterAll(() => proxy.close());

  const introspect = (token: string, auth = basic(RS_ID, RS_SECRET)) => postForm(proxy, '/introspect', { token }, { authorization: auth });

  it('rotates the refresh token on every use and keeps access tokens valid', async () => {
    const t = await tokensFor(proxy);
    const first = await refresh(proxy, t.client, t.refreshToken);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.body.refresh_token).not.toBe(t.refreshToken);
    expect(first.body.scope).toBe('mcp:tools');
    const narrowed = await refresh(proxy, t.client, first.body.refresh_token, { scope: 'mcp:tools' });
    expect(narrowed.status).toBe(200);
    const wider = await refresh(proxy, t.client, narrowed.body.refresh_token, { scope: 'mcp:tools mcp:admin' });
    expect(wider.body.error).toBe('invalid_scope');
    expect((await introspect(narrowed.body.access_token)).body.active).toBe(true);
  });

  it('revokes the whole family when a rotated refresh token comes back', async () => {
    const t = await tokensFor(proxy);
    const next = await refresh(proxy, t.client, t.refreshToken);
    const replay = await refresh(proxy, t.client, t.refreshToken);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await refresh(proxy, t.client, next.body.refresh_token)).body.error).toBe('invalid_grant');
    expect((await introspect(next.body.access_token)).body).toEqual({ active: false });
    expect((await introspect(t.accessToken)).body).toEqual({ active: false });
  });

  it('introspects for configured resource servers only, with exactly {active:false} for anything inactive', async () => {
    const t = await tokensFor(proxy);
    const active = await introspect(t.accessToken);
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({ active: true, client_id: t.client.clientId, sub: 'alice', scope: 'mcp:tools', aud: `${proxy.url}/mcp`, iss: proxy.url, token_type: 'Bearer' });
    expect((await introspect(t.accessToken, basic(RS_ID, 'wrong-secret-wrong-secret'))).status).toBe(401);
    expect((await postForm(proxy, '/introspect', { token: t.accessToken, client_id: t.client.clientId })).status).toBe(401);
    for (const token of [t.refreshToken, 'garbage', t.accessToken.slice(0, -4) + 'AAAA']) {
      expect((await introspect(token)).body).toEqual({ active: false });
    }
  });

  it('revokes one access token by itself, and a refresh token with its whole grant (RFC 7009)', async () => {
    const t = await tokensFor(proxy);
    const other = await refresh(proxy, t.client, t.refreshToken);
    const revokeAccess = await postForm(proxy, '/revoke', { token: t.accessToken, token_type_hint: 'access_token', client_id: t.client.clientId });
    expect(revokeAccess.status).toBe(200);
    expect((await introspect(t.accessToken)).body.active).toBe(false);
    expect((await introspect(other.body.access_token)).body.active).toBe(true);
    const stranger = await tokensFor(proxy);
    const foreign = await postForm(proxy, '/revoke', { token: other.body.refresh_token, client_id: stranger.client.clientId });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toBe('unauthorized_client');
    expect((await postForm(proxy, '/revoke', { token: 'unknown-token', client_id: t.client.clientId })).status).toBe(200);
    const revokeGrant = await postForm(proxy, '/revoke', { token: other.body.refresh_token, client_id: t.client.clientId });
    expect(revokeGrant.status).toBe(200);
    expect((await introspect(other.body.access_token)).body.active).toBe(false);
    expect((await refresh(proxy, t.client, other.body.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('revokes the upstream tokens at the upstream (never flowgate tokens) when the grant is revoked', async () => {
    const t = await tokensFor(proxy);
    const grantId = (await proxy.flowgate.verifyAccessToken(t.accessToken)).grantId;
    const upstream = await proxy.flowgate.upstreamTokens.tokenSet(grantId);
    const upstreamAccess = upstream!.access_token as string;
    const before = await postForm(proxy, '', {}); // keep the connection pool warm
    void before;
    const active = await fetch(proxy.idp.endpoints.introspection, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('flowgate', 'flowgate-upstream-secret') },
      body: new URLSearchParams({ token: upstream!.refresh_token as string }),
    });
    expect(((await active.json()) as any).active).toBe(true);
    await postForm(proxy, '/revoke', { token: t.refreshToken, client_id: t.client.clientId });
    await new Promise((r) => setTimeout(r, 300));
    const after = await fetch(proxy.idp.endpoints.introspection, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('flowgate', 'flowgate-upstream-secret') },
      body: new URLSearchParams({ token: upstream!.refresh_token as string }),
    });
    expect(((await after.json()) as any).active).toBe(false);
    expect(upstreamAccess).not.toBe(t.accessToken);
  });

  it('revokes the upstream tokens too when flowgate revokes a grant itself (a reused refresh token)', async () => {
    const t = await tokensFor(proxy);
    const grantId = (await proxy.flowgate.verifyAccessToken(t.accessToken)).grantId;
    const upstreamRefresh = (await proxy.flowgate.upstreamTokens.tokenSet(grantId))!.refresh_token as string;
    const upstreamActive = async () => {
      const response = await fetch(proxy.idp.endpoints.introspection, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('flowgate', 'flowgate-upstream-secret') },
        body: new URLSearchParams({ token: upstreamRefresh }),
      });
      return ((await response.json()) as any).active as boolean;
    };
    expect(await upstreamActive()).toBe(true);
    expect((await refresh(proxy, t.client, t.refreshToken)).status).toBe(200);
    // The stolen copy comes back: flowgate revokes the family, and the upstream grant with it.
    expect((await refresh(proxy, t.client, t.refreshToken)).body.error).toBe('invalid_grant');
    expect((await findGrant(proxy.flowgate.store.db, grantId))?.revokedReason).toBe('refresh_token_reuse');
    const deadline = Date.now() + 5_000;
    let active = true;
    while (active && Date.now() < deadline) {
      active = await upstreamActive();
      if (active) await new Promise((r) => setTimeout(r, 50));
    }
    expect(active).toBe(false);
  });

  it('refreshes the upstream tokens once, however many requests need them at the same time', async () => {
    const t = await tokensFor(proxy);
    const access = await proxy.flowgate.verifyAccessToken(t.accessToken);
    const original = await access.upstreamAccessToken();
    const before = proxy.idp.stats.tokenRequests.refresh_token;
    skew = 200_000; // past the upstream access token's 120 s lifetime
    try {
      const tokens = await Promise.all(Array.from({ length: 6 }, async () => (await proxy.flowgate.verifyAccessToken(t.accessToken)).upstreamAccessToken()));
      expect(new Set(tokens).size).toBe(1);
      expect(tokens[0]).not.toBe(original);
      expect(proxy.idp.stats.tokenRequests.refresh_token - before).toBe(1);
      const clientRefresh = await refresh(proxy, t.client, t.refreshToken);
      expect(clientRefresh.status).toBe(200);
      expect(proxy.idp.stats.tokenRequests.refresh_token - before).toBe(1);
    } finally {
      skew = 0;
    }
  });

  it('answers temporarily_unavailable during an upstream outage and keeps the grant', async () => {
    const t = await tokensFor(proxy);
    skew = 200_000;
    proxy.idp.setTokenFault({ kind: 'error', status: 503, error: 'temporarily_unavailable', grantType: 'refresh_token' });
    try {
      const during = await refresh(proxy, t.client, t.refreshToken);
      expect(during.status).toBe(503);
      expect(during.body.error).toBe('temporarily_unavailable');
      const grantId = (await proxy.flowgate.verifyAccessToken(t.accessToken)).grantId;
      expect((await findGrant(proxy.flowgate.store.db, grantId))?.status).toBe('active');
      proxy.idp.setTokenFault(null);
      const after = await refresh(proxy, t.client, t.refreshToken);
      expect(after.status, JSON.stringify(after.body)).toBe(200);
    } finally {
      proxy.idp.setTokenFault(null);
      skew = 0;
    }
  });

  it("keeps the grant when the upstream refuses flowgate's own client credentials (invalid_client), and logs an error", async () => {
    const t = await tokensFor(proxy);
    skew = 200_000;
    proxy.idp.setTokenFault({ kind: 'error', status: 401, error: 'invalid_client', grantType: 'refresh_token', error_description: 'SECRET-UPSTREAM-TEXT' });
    logger.errors.length = 0;
    try {
      const during = await refresh(proxy, t.client, t.refreshToken);
      expect(during.status).toBe(503);
      expect(during.body.error).toBe('temporarily_unavailable');
      expect(JSON.stringify(during.body)).not.toContain('SECRET-UPSTREAM-TEXT');
      const grantId = (await proxy.flowgate.verifyAccessToken(t.accessToken)).grantId;
      expect((await findGrant(proxy.flowgate.store.db, grantId))?.status).toBe('active');
      const logged = logger.errors.filter((e) => e.msg === UPSTREAM_CLIENT_REJECTED);
      expect(logged).toHaveLength(1);
      expect(logged[0]!.obj).toMatchObject({ grantId, reason: 'invalid_client', upstreamError: 'invalid_client', status: 401 });
      const text = JSON.stringify(logger.errors);
      for (const secret of ['flowgate-upstream-secret', 'SECRET-UPSTREAM-TEXT', t.refreshToken]) expect(text).not.toContain(secret);
      proxy.idp.setTokenFault(null); // the operator fixed the configuration: the same grant refreshes
      const after = await refresh(proxy, t.client, t.refreshToken);
      expect(after.status, JSON.stringify(after.body)).toBe(200);
    } finally {
      proxy.idp.setTokenFault(null);
      skew = 0;
    }
  });

  it('revokes the grant when the upstream definitively rejects its refresh token', async () => {
    const t = await tokensFor(proxy);
    skew = 200_000;
    proxy.idp.setTokenFault({ kind: 'error', status: 400, error: 'invalid_grant', grantType: 'refresh_token', error_description: 'SECRET-UPSTREAM-TEXT' });
    try {
      const result = await refresh(proxy, t.client, t.refreshToken);
      expect(result.status).toBe(400);
      expect(result.body.error).toBe('invalid_grant');
      expect(JSON.stringify(result.body)).not.toContain('SECRET-UPSTREAM-TEXT');
      expect((await introspect(t.accessToken)).body.active).toBe(false);
    } finally {
      proxy.idp.setTokenFault(null);
      skew = 0;
    }
  });
});

describe('upstream revocation is opt-in', () => {
  it('leaves the upstream grant alone when revokeOnGrantRevocation is off (the default)', async () => {
    // The IdP advertises a revocation endpoint; without the option flowgate never calls it,
    // since at some providers one revocation signs the user out of every client of the app.
    const proxy = await startProxy({ idp: { ttl: { AccessToken: 120, IdToken: 3600 } } });
    try {
      const t = await tokensFor(proxy);
      const grantId = (await proxy.flowgate.verifyAccessToken(t.accessToken)).grantId;
      const upstream = await proxy.flowgate.upstreamTokens.tokenSet(grantId);
      const introspectUpstream = async () => {
        const response = await fetch(proxy.idp.endpoints.introspection, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('flowgate', 'flowgate-upstream-secret') },
          body: new URLSearchParams({ token: upstream!.refresh_token as string }),
        });
        return ((await response.json()) as any).active as boolean;
      };
      expect(await introspectUpstream()).toBe(true);
      expect((await postForm(proxy, '/revoke', { token: t.refreshToken, client_id: t.client.clientId })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      expect(await introspectUpstream()).toBe(true);
      expect((await findGrant(proxy.flowgate.store.db, grantId))?.status).toBe('revoked');
    } finally {
      await proxy.close();
    }
  });
});

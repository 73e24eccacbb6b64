/**
 * Token confusion (security-invariants item 30, fastmcp #3524): every artefact that is not
 * a live flowgate access token for this resource is refused by `verifyAccessToken` and is
 * `{"active":false}` at `/introspect` — a refresh token, an upstream ID token, an upstream
 * access token, a token for another resource, a token signed by a retired-and-removed key.
 *
 * Checked by hand: with the audience comparison of the access-token verifier removed, the
 * other-resource case is accepted; with the jti lookup of `AccessTokenGate` removed, the
 * revoked case is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type TestProxy } from '../support/proxy.js';
import { basic, postForm, tokensFor, type ClientTokens } from '../support/tokens.js';

const RS = { id: 'rs', secret: 'resource-server-secret-0123456789' };

describe('token confusion', () => {
  let proxy: TestProxy;
  let skew = 0;
  let t: ClientTokens;
  beforeAll(async () => {
    proxy = await startProxy({
      config: ({ url }) => ({
        server: {
          resources: [{ uri: `${url}/mcp` }, { uri: `${url}/other` }],
          introspectionClients: [{ clientId: RS.id, clientSecret: RS.secret }],
        },
      }),
      flowgate: { clock: () => Date.now() + skew },
    });
    t = await tokensFor(proxy);
  });
  afterAll(() => proxy.close());

  async function refused(token: string, resource?: string): Promise<void> {
    await expect(proxy.flowgate.verifyAccessToken(token, resource ? { resource } : {})).rejects.toMatchObject({ code: 'invalid_token' });
    const introspection = await postForm(proxy, '/introspect', { token }, { authorization: basic(RS.id, RS.secret) });
    if (!resource) expect(introspection.body).toEqual({ active: false });
  }

  it('accepts the real access token for its resource', async () => {
    const access = await proxy.flowgate.verifyAccessToken(t.accessToken);
    expect(access).toMatchObject({ subject: 'alice', clientId: t.client.clientId, scopes: ['mcp:tools'], resource: `${proxy.url}/mcp` });
  });

  it('refuses a refresh token, an upstream ID token and an upstream access token', async () => {
    await refused(t.refreshToken);
    const grantId = (await proxy.flowgate.verifyAccessToken(t.accessToken)).grantId;
    const upstream = (await proxy.flowgate.upstreamTokens.tokenSet(grantId))!;
    expect(typeof upstream.id_token).toBe('string');
    await refused(upstream.id_token as string);
    await refused(upstream.access_token as string);
  });

  it('refuses a token for another resource', async () => {
    await refused(t.accessToken, `${proxy.url}/other`);
    await expect(proxy.flowgate.verifyAccessToken(t.accessToken, { resource: 'https://unknown.example/mcp' })).rejects.toMatchObject({
      code: 'invalid_token',
    });
  });

  it('refuses a revoked token at once', async () => {
    const other = await tokensFor(proxy);
    await postForm(proxy, '/revoke', { token: other.accessToken, client_id: other.client.clientId, token_type_hint: 'access_token' });
    await refused(other.accessToken);
  });

  it('refuses a token signed by a key that was retired and removed', async () => {
    const old = await tokensFor(proxy);
    await proxy.flowgate.keyring.rotate('access_token');
    await proxy.flowgate.keyring.rotate('access_token');
    expect((await proxy.flowgate.verifyAccessToken(old.accessToken)).subject).toBe('alice');
    skew = 3 * 3600_000;
    try {
      const pruned = await proxy.flowgate.keyring.prune();
      expect(pruned.removed.length).toBeGreaterThan(0);
      skew = 0; // back to real time: the old token has not expired, only its key is gone
      await refused(old.accessToken);
      const fresh = await tokensFor(proxy);
      expect((await proxy.flowgate.verifyAccessToken(fresh.accessToken)).subject).toBe('alice');
    } finally {
      skew = 0;
    }
  });
});

/**
 * Token-family rules at the engine: rotation on every use, reuse revokes the family (with
 * the grace window G), concurrent refreshes, revocation, expiry, erasure.
 *
 * Checked by hand: with the token-grant machine's `isReuse`/`canRotate` grace rule made
 * permissive (`graceEligible` returning true), the G = 0 race test sees several rotations
 * and fails; with the client check in `refresh-grant.ts` removed, "another client" fails.
 * With the cap at the grant's absolute deadline removed from `issueAccessToken`
 * (src/engine/commands/grant-support.ts), "never outlives the grant" fails: the refreshed
 * token's `exp` is an hour out and an offline verifier still accepts it after the deadline.
 */
import { decodeJwt, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Base64Url } from '../../src/crypto/random.js';
import { subjectKeyId } from '../../src/crypto/vault.js';
import { findJti } from '../../src/projections/jti-mappings.js';
import { findRefreshToken } from '../../src/projections/refresh-tokens.js';
import { findGrant } from '../../src/projections/grants.js';
import { openTestEngine, type TestEngine } from '../support/engine.js';
import { flowToCode } from '../support/flows.js';
import { storeTargets } from '../support/stores.js';

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`token grant rules on ${target.name}`, () => {
    let t: TestEngine;
    afterEach(() => t.dispose());

    async function tokens(graceSeconds = 0, settings: Partial<TestEngine['settings']> = {}) {
      t = await openTestEngine(target, { settings: { refreshGraceMs: graceSeconds * 1000, ...settings } });
      const f = await flowToCode(t.engine);
      const issued = await t.engine.execute({
        type: 'RedeemCode',
        code: f.issued.code,
        clientId: f.client.clientId,
        codeVerifier: f.client.verifier,
        redirectUri: f.client.redirectUri,
        resource: null,
        issueRefreshToken: true,
      });
      return { f, issued };
    }

    const refresh = (refreshToken: string, clientId: string, scopes: string[] | null = null) =>
      t.engine.execute({ type: 'RefreshGrant', refreshToken, clientId, scopes, resource: null });

    it('rotates on every use and revokes the family when a retired token comes back', async () => {
      const { f, issued } = await tokens();
      const first = await refresh(issued.refreshToken!, f.client.clientId);
      const second = await refresh(first.refreshToken!, f.client.clientId);
      expect(new Set([issued.refreshToken, first.refreshToken, second.refreshToken]).size).toBe(3);
      const db = t.store.store.db;
      expect((await findRefreshToken(db, sha256Base64Url(issued.refreshToken!)))?.status).toBe('rotated');
      const replay = await refresh(issued.refreshToken!, f.client.clientId).catch((e: unknown) => e);
      expect(replay).toMatchObject({ code: 'invalid_grant' });
      expect((await findGrant(db, issued.grantId))?.status).toBe('revoked');
      expect((await findRefreshToken(db, sha256Base64Url(second.refreshToken!)))?.status).toBe('revoked');
      for (const jti of [issued.jti, first.jti, second.jti]) expect((await findJti(db, jti))?.status).toBe('revoked');
      await expect(refresh(second.refreshToken!, f.client.clientId)).rejects.toMatchObject({ code: 'invalid_grant' });
      const types = (await t.store.store.readStream(`grant:${issued.grantId}`)).map((e) => e.type);
      expect(types.slice(-2)).toEqual(['refresh_token.reuse_detected', 'grant.revoked']);
    });

    it('refuses another client and a wider scope without rotating', async () => {
      const { f, issued } = await tokens();
      await expect(refresh(issued.refreshToken!, 'another-client')).rejects.toMatchObject({ code: 'invalid_grant' });
      await expect(refresh(issued.refreshToken!, f.client.clientId, ['mcp:tools', 'mcp:admin'])).rejects.toMatchObject({ code: 'invalid_scope' });
      expect((await findRefreshToken(t.store.store.db, sha256Base64Url(issued.refreshToken!)))?.status).toBe('active');
      const narrowed = await refresh(issued.refreshToken!, f.client.clientId, []);
      expect(narrowed.scopes).toEqual([]);
    });

    it('with G = 0, N concurrent refreshes with one token make one rotation and then revoke the family', async () => {
      const { f, issued } = await tokens(0);
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => refresh(issued.refreshToken!, f.client.clientId)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const types = (await t.store.store.readStream(`grant:${issued.grantId}`)).map((e) => e.type);
      expect(types.filter((e) => e === 'refresh_token.rotated')).toHaveLength(1);
      expect(types.filter((e) => e === 'grant.revoked')).toHaveLength(1);
      expect((await findGrant(t.store.store.db, issued.grantId))?.status).toBe('revoked');
    });

    it('with G > 0, the first late use within G rotates a second branch; any other reuse revokes', async () => {
      const { f, issued } = await tokens(30);
      const a = await refresh(issued.refreshToken!, f.client.clientId);
      t.clock.advance(5_000);
      const b = await refresh(issued.refreshToken!, f.client.clientId);
      expect(b.refreshToken).not.toBe(a.refreshToken);
      await refresh(a.refreshToken!, f.client.clientId);
      expect((await findGrant(t.store.store.db, issued.grantId))?.status).toBe('active');
      await expect(refresh(issued.refreshToken!, f.client.clientId)).rejects.toMatchObject({ code: 'invalid_grant' });
      expect((await findGrant(t.store.store.db, issued.grantId))?.status).toBe('revoked');
    });

    it('with G > 0, a use after G is reuse', async () => {
      const { f, issued } = await tokens(10);
      await refresh(issued.refreshToken!, f.client.clientId);
      t.clock.advance(10_000);
      await expect(refresh(issued.refreshToken!, f.client.clientId)).rejects.toMatchObject({ code: 'invalid_grant' });
      expect((await findGrant(t.store.store.db, issued.grantId))?.status).toBe('revoked');
    });

    it('with G > 0, N concurrent refreshes: the first loser gets the second branch and the later ones revoke', async () => {
      const { f, issued } = await tokens(30);
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => refresh(issued.refreshToken!, f.client.clientId)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      const types = (await t.store.store.readStream(`grant:${issued.grantId}`)).map((e) => e.type);
      expect(types.filter((e) => e === 'refresh_token.rotated')).toHaveLength(2);
      expect(types.at(-1)).toBe('grant.revoked');
    });

    it('revokes a grant by refresh token, and one access token by jti, for the owning client only', async () => {
      const { f, issued } = await tokens();
      const other = await refresh(issued.refreshToken!, f.client.clientId);
      await expect(t.engine.execute({ type: 'RevokeAccessToken', jti: issued.jti, clientId: 'intruder' })).rejects.toMatchObject({ code: 'unauthorized_client' });
      expect(await t.engine.execute({ type: 'RevokeAccessToken', jti: issued.jti, clientId: f.client.clientId })).toMatchObject({ outcome: 'revoked' });
      const db = t.store.store.db;
      expect((await findJti(db, issued.jti))?.status).toBe('revoked');
      expect((await findJti(db, other.jti))?.status).toBe('active');
      expect(await t.engine.execute({ type: 'RevokeRefreshToken', refreshToken: 'nope', clientId: f.client.clientId })).toEqual({ outcome: 'unknown' });
      await expect(t.engine.execute({ type: 'RevokeRefreshToken', refreshToken: other.refreshToken!, clientId: 'intruder' })).rejects.toMatchObject({ code: 'unauthorized_client' });
      expect(await t.engine.execute({ type: 'RevokeRefreshToken', refreshToken: other.refreshToken!, clientId: f.client.clientId })).toMatchObject({ outcome: 'revoked' });
      expect((await findJti(db, other.jti))?.status).toBe('revoked');
      expect((await findGrant(db, issued.grantId))?.revokedReason).toBe('client_revoked');
    });

    it('expires grants at the idle and absolute deadlines', async () => {
      const { f, issued } = await tokens();
      t.clock.advance(t.settings.refreshIdleTtlMs);
      await expect(refresh(issued.refreshToken!, f.client.clientId)).rejects.toMatchObject({ code: 'invalid_grant' });
      expect((await findGrant(t.store.store.db, issued.grantId))?.status).toBe('expired');
      expect((await findJti(t.store.store.db, issued.jti))?.status).toBe('revoked');
    });

    it('an access token never outlives the grant: exp and expires_in stop at the absolute deadline', async () => {
      const hour = 3600_000;
      const { f, issued } = await tokens(0, { accessTokenTtlMs: hour, refreshAbsoluteTtlMs: 2 * hour });
      const deadline = t.clock.now() + 2 * hour;
      expect(issued.expiresIn).toBe(3600); // far from the deadline: the full lifetime
      t.clock.advance(1.5 * hour);
      const late = await refresh(issued.refreshToken!, f.client.clientId);
      expect(late.expiresIn).toBe(1800);
      expect(decodeJwt(late.accessToken).exp).toBe(deadline / 1000);
      const event = (await t.store.store.readStream(`grant:${issued.grantId}`)).filter((e) => e.type === 'access_token.issued').at(-1)!;
      expect((event.data as { expiresAt: number }).expiresAt).toBe(deadline);
      // An offline verifier (the JWKS only) accepts it until the deadline and not a second after.
      await expect(jwtVerify(late.accessToken, t.signer.publicKey, { currentDate: new Date(deadline - 1000) })).resolves.toBeDefined();
      await expect(jwtVerify(late.accessToken, t.signer.publicKey, { currentDate: new Date(deadline + 1000) })).rejects.toMatchObject({
        code: 'ERR_JWT_EXPIRED',
      });
    });

    it('an access token issued with the code is capped too when the grant is shorter than the token TTL', async () => {
      const { issued } = await tokens(0, { accessTokenTtlMs: 3600_000, refreshAbsoluteTtlMs: 600_000 });
      expect(issued.expiresIn).toBe(600);
      expect(decodeJwt(issued.accessToken).exp).toBe((t.clock.now() + 600_000) / 1000);
    });

    it('the sweeper expires overdue grants', async () => {
      const { issued } = await tokens();
      t.clock.advance(t.settings.refreshAbsoluteTtlMs);
      expect((await t.engine.sweep()).grants).toBe(1);
      expect((await findGrant(t.store.store.db, issued.grantId))).toMatchObject({ status: 'expired', revokedReason: 'expired_absolute' });
    });

    it('one upstream refresh at a time: the lease goes to one caller and can be taken over after it ends', async () => {
      const { issued } = await tokens();
      const leases = await Promise.allSettled(
        Array.from({ length: 4 }, () => t.engine.execute({ type: 'RequestUpstreamRefresh', grantId: issued.grantId })),
      );
      const granted = leases.filter((l) => l.status === 'fulfilled' && l.value.acquired);
      expect(granted).toHaveLength(1);
      const busy = await t.engine.execute({ type: 'RequestUpstreamRefresh', grantId: issued.grantId });
      expect(busy).toMatchObject({ acquired: false, reason: 'busy' });
      t.clock.advance(t.settings.upstreamRefreshLeaseMs);
      const takeover = await t.engine.execute({ type: 'RequestUpstreamRefresh', grantId: issued.grantId });
      expect(takeover.acquired).toBe(true);
      if (!takeover.acquired) return;
      await t.engine.execute({
        type: 'CompleteUpstreamRefresh',
        grantId: issued.grantId,
        requestId: takeover.requestId,
        tokenSet: { access_token: 'new-upstream' },
        upstreamExpiresAt: t.clock.now() + 3600_000,
        refreshable: true,
      });
      const stale = (granted[0] as PromiseFulfilledResult<{ acquired: true; requestId: string }>).value;
      await expect(
        t.engine.execute({ type: 'FailUpstreamRefresh', grantId: issued.grantId, requestId: stale.requestId, error: 'x', definitive: true }),
      ).rejects.toMatchObject({ code: 'ERR_ILLEGAL_TRANSITION' });
    });

    it('a definitive upstream refresh failure revokes the grant', async () => {
      const { issued } = await tokens();
      const lease = await t.engine.execute({ type: 'RequestUpstreamRefresh', grantId: issued.grantId });
      if (!lease.acquired) throw new Error('no lease');
      await t.engine.execute({ type: 'FailUpstreamRefresh', grantId: issued.grantId, requestId: lease.requestId, error: 'invalid_grant', definitive: true });
      expect((await findGrant(t.store.store.db, issued.grantId))).toMatchObject({ status: 'revoked', revokedReason: 'upstream_rejected' });
    });

    it('erasing a subject destroys its key: the subject is gone and the log still verifies', async () => {
      const { f, issued } = await tokens();
      const received = (await t.store.store.readStream(`flow:${f.started.flowId}`)).find((e) => e.type === 'upstream.tokens_received')!;
      const { subjectRef, subjectSealed } = received.data as { subjectRef: string; subjectSealed: string };
      expect(await t.vault.open(subjectKeyId(subjectRef), 'subject', subjectSealed)).toEqual({ ok: true, value: 'alice' });
      expect(await t.vault.destroy(subjectKeyId(subjectRef))).toBe(true);
      expect(await t.vault.open(subjectKeyId(subjectRef), 'subject', subjectSealed)).toEqual({ ok: false, reason: 'erased' });
      expect(await t.store.store.verifyChain()).toEqual([]);
      await expect(refresh(issued.refreshToken!, f.client.clientId)).rejects.toMatchObject({ code: 'invalid_grant' });
    });
  });
}

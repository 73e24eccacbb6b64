/**
 * A code is redeemed at most once, even under concurrency (OAuth 2.1 §4.1.3; security
 * invariants 24–26). Single use rests on the stream's expected version in the store, never
 * on process memory, so it holds in one process, across two processes on one SQLite file,
 * and on PostgreSQL. The losers of a race are replays: the grant is revoked.
 *
 * Checked by hand: with the optimistic-concurrency checks of `EventStore.#appendInTransaction`
 * removed (the head-version comparison and the inserted-row count), the in-process race
 * hands out tokens more than once on both databases and "exactly one" fails.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OAuthError } from '../../src/oauth/errors.js';
import { findJti } from '../../src/projections/jti-mappings.js';
import { findRefreshToken } from '../../src/projections/refresh-tokens.js';
import { sha256Base64Url } from '../../src/crypto/random.js';
import { openTestEngine, type TestEngine } from '../support/engine.js';
import { flowToCode } from '../support/flows.js';
import { storeTargets } from '../support/stores.js';
import { randomBytes } from 'node:crypto';

const run = promisify(execFile);

async function eventTypes(t: TestEngine, streamId: string): Promise<string[]> {
  return (await t.store.store.readStream(streamId)).map((e) => e.type);
}

async function expectSingleRedemption(t: TestEngine, flowId: string, grantId: string, winner: { jti: string; refreshToken: string | null }) {
  const flowEvents = await eventTypes(t, `flow:${flowId}`);
  expect(flowEvents.filter((e) => e === 'code.redeemed')).toHaveLength(1);
  expect(flowEvents.filter((e) => e === 'code.reuse_detected')).toHaveLength(1);
  expect(flowEvents.at(-1)).toBe('code.reuse_detected');
  const grantEvents = await eventTypes(t, `grant:${grantId}`);
  expect(grantEvents.filter((e) => e === 'grant.created')).toHaveLength(1);
  expect(grantEvents.at(-1)).toBe('grant.revoked');
  expect((await findJti(t.store.store.db, winner.jti))?.status).toBe('revoked');
  if (winner.refreshToken) {
    expect((await findRefreshToken(t.store.store.db, sha256Base64Url(winner.refreshToken)))?.status).toBe('revoked');
  }
}

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`code redemption race on ${target.name}`, () => {
    let t: TestEngine;
    beforeEach(async () => {
      t = await openTestEngine(target, { file: true });
    });
    afterEach(() => t.dispose());

    it('gives tokens to exactly one of N parallel valid redemptions and revokes the grant for the rest', async () => {
      const f = await flowToCode(t.engine);
      const attempts = await Promise.allSettled(
        Array.from({ length: 6 }, () =>
          t.engine.execute({
            type: 'RedeemCode',
            code: f.issued.code,
            clientId: f.client.clientId,
            codeVerifier: f.client.verifier,
            redirectUri: f.client.redirectUri,
            resource: f.resource,
            issueRefreshToken: true,
          }),
        ),
      );
      const winners = attempts.filter((a) => a.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      for (const a of attempts.filter((x) => x.status === 'rejected')) {
        expect((a as PromiseRejectedResult).reason).toBeInstanceOf(OAuthError);
        expect((a as PromiseRejectedResult).reason.code).toBe('invalid_grant');
      }
      const winner = (winners[0] as PromiseFulfilledResult<{ jti: string; refreshToken: string | null }>).value;
      await expectSingleRedemption(t, f.started.flowId, f.issued.grantId, winner);
    });

    it('changes nothing when N parallel redemptions carry a wrong verifier, and the code still works', async () => {
      const f = await flowToCode(t.engine);
      const before = await t.store.store.readStream(`flow:${f.started.flowId}`);
      const attempts = await Promise.allSettled(
        Array.from({ length: 6 }, () =>
          t.engine.execute({
            type: 'RedeemCode',
            code: f.issued.code,
            clientId: f.client.clientId,
            codeVerifier: randomBytes(32).toString('base64url'),
            redirectUri: f.client.redirectUri,
            resource: null,
            issueRefreshToken: true,
          }),
        ),
      );
      expect(attempts.every((a) => a.status === 'rejected' && a.reason.code === 'invalid_grant')).toBe(true);
      expect(await t.store.store.readStream(`flow:${f.started.flowId}`)).toEqual(before);
      expect(await t.store.store.readStream(`grant:${f.issued.grantId}`)).toEqual([]);
      const ok = await t.engine.execute({
        type: 'RedeemCode',
        code: f.issued.code,
        clientId: f.client.clientId,
        codeVerifier: f.client.verifier,
        redirectUri: null,
        resource: null,
        issueRefreshToken: false,
      });
      expect(ok.accessToken.split('.')).toHaveLength(3);
    });
  });
}

describe('code redemption race across two processes on one SQLite file', () => {
  it('gives tokens to exactly one redemption of all the processes fire', async () => {
    const masterKey = randomBytes(32).toString('hex');
    const target = storeTargets()[0]!;
    const t = await openTestEngine(target, { file: true });
    try {
      // The children open the same file with the same master key, so the vault must use it too.
      const { Vault } = await import('../../src/crypto/vault.js');
      const { Engine } = await import('../../src/engine/engine.js');
      const vault = new Vault(t.store.store.db, new Uint8Array(Buffer.from(masterKey, 'hex')), t.clock.now);
      const engine = new Engine({ ...t.engine.options, vault, clock: Date.now });
      const f = await flowToCode(engine);
      await t.store.store.close();
      const env = {
        ...process.env,
        FLOWGATE_DB: t.store.config.store.sqlitePath!,
        FLOWGATE_MASTER_KEY: masterKey,
        REDEEM_CODE: f.issued.code,
        REDEEM_CLIENT_ID: f.client.clientId,
        REDEEM_VERIFIER: f.client.verifier,
        REDEEM_REDIRECT_URI: f.client.redirectUri,
        REDEEM_PARALLEL: '3',
        REDEEM_START_AT: String(Date.now() + 2500),
      };
      const children = await Promise.all(
        [0, 1].map(() => run(process.execPath, ['--import', 'tsx', 'test/support/redeem-child.ts'], { env })),
      );
      const results = children.flatMap((c) => JSON.parse(c.stdout.trim().split('\n').pop()!) as Array<{ ok: boolean; jti?: string; error?: string }>);
      expect(results).toHaveLength(6);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok).map((r) => r.error)).toEqual(Array(5).fill('invalid_grant'));
      const { openStore } = await import('../../src/store/open-store.js');
      const store = await openStore(t.store.config);
      const types = (await store.readStream(`flow:${f.started.flowId}`)).map((e) => e.type);
      expect(types.filter((e) => e === 'code.redeemed')).toHaveLength(1);
      expect(types.at(-1)).toBe('code.reuse_detected');
      expect((await store.readStream(`grant:${f.issued.grantId}`)).at(-1)?.type).toBe('grant.revoked');
      await store.close();
    } finally {
      await t.dispose().catch(() => {});
    }
  }, 60_000);
});

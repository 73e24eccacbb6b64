/**
 * N concurrent refreshes with the same refresh token — in one process, across two
 * processes on one SQLite file, and on PostgreSQL: with G = 0 exactly one rotation happens
 * and then the family is revoked (the losers were reuse); with G > 0 the first loser gets
 * the second branch and any later one revokes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { findGrant } from '../../src/projections/grants.js';
import { startProxy, type TestProxy } from '../support/proxy.js';
import { pgUrl } from '../support/stores.js';
import { refresh, tokensFor } from '../support/tokens.js';

const run = promisify(execFile);

async function grantOf(proxy: TestProxy, accessToken: string): Promise<string> {
  return (await proxy.flowgate.verifyAccessToken(accessToken)).grantId;
}

async function rotations(proxy: TestProxy, grantId: string): Promise<number> {
  return (await proxy.flowgate.store.readStream(`grant:${grantId}`)).filter((e) => e.type === 'refresh_token.rotated').length;
}

const databases = [{ name: 'sqlite' as const }, ...(pgUrl() ? [{ name: 'postgres' as const }] : [])];

for (const { name } of databases) {
  describe(`refresh races on ${name}`, () => {
    it('G = 0: one rotation, then the family is revoked', async () => {
      const proxy = await startProxy({ database: name });
      try {
        const t = await tokensFor(proxy);
        const results = await Promise.all(Array.from({ length: 5 }, () => refresh(proxy, t.client, t.refreshToken)));
        expect(results.filter((r) => r.status === 200)).toHaveLength(1);
        expect(results.filter((r) => r.status !== 200).every((r) => r.body.error === 'invalid_grant')).toBe(true);
        const grants = await proxy.flowgate.store.db.selectFrom('grants').select('grant_id').execute();
        expect(grants).toHaveLength(1);
        const grantId = grants[0]!.grant_id as string;
        expect(await findGrant(proxy.flowgate.store.db, grantId)).toMatchObject({ status: 'revoked', revokedReason: 'refresh_token_reuse' });
        expect(await rotations(proxy, grantId)).toBe(1);
      } finally {
        await proxy.close();
      }
    });

    it('G > 0: the first loser gets a second branch, later ones revoke', async () => {
      const proxy = await startProxy({ database: name, config: () => ({ tokens: { refreshGraceSeconds: 30 } }) });
      try {
        const t = await tokensFor(proxy);
        const grantId = await grantOf(proxy, t.accessToken);
        const results = await Promise.all(Array.from({ length: 4 }, () => refresh(proxy, t.client, t.refreshToken)));
        expect(results.filter((r) => r.status === 200)).toHaveLength(2);
        expect(await rotations(proxy, grantId)).toBe(2);
        expect((await findGrant(proxy.flowgate.store.db, grantId))?.status).toBe('revoked');
      } finally {
        await proxy.close();
      }
    });
  });
}

describe('refresh race across two processes on one SQLite file', () => {
  it('G = 0: one rotation in all, then the family is revoked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowgate-race-'));
    const proxy = await startProxy({ sqlitePath: join(dir, 'flowgate.db') });
    try {
      const t = await tokensFor(proxy);
      const grantId = await grantOf(proxy, t.accessToken);
      const env = {
        ...process.env,
        FLOWGATE_CHILD_CONFIG: JSON.stringify(proxy.config),
        REFRESH_TOKEN: t.refreshToken,
        REFRESH_CLIENT_ID: t.client.clientId,
        REFRESH_PARALLEL: '3',
        REFRESH_START_AT: String(Date.now() + 3000),
      };
      const children = await Promise.all(
        [0, 1].map(() => run(process.execPath, ['--import', 'tsx', 'test/support/refresh-child.ts'], { env, timeout: 60_000 })),
      );
      const results = children.flatMap((c) => JSON.parse(c.stdout.trim().split('\n').pop()!) as Array<{ status: number; error: string | null }>);
      expect(results).toHaveLength(6);
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status !== 200).map((r) => r.error)).toEqual(Array(5).fill('invalid_grant'));
      expect(await rotations(proxy, grantId)).toBe(1);
      expect((await findGrant(proxy.flowgate.store.db, grantId))?.status).toBe('revoked');
    } finally {
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe.skipIf(!pgUrl())('upstream refresh across two instances on PostgreSQL', () => {
  it('refreshes the upstream tokens once when both instances need them at the same time', async () => {
    let skew = 0;
    const clock = () => Date.now() + skew;
    const proxy = await startProxy({ database: 'postgres', idp: { ttl: { AccessToken: 120, IdToken: 3600 } }, flowgate: { clock } });
    const { createFlowgate } = await import('../../src/flowgate.js');
    const { testLogger } = await import('../support/proxy.js');
    const second = await createFlowgate(proxy.config, { clock, logger: testLogger() });
    try {
      const t = await tokensFor(proxy);
      const before = proxy.idp.stats.tokenRequests.refresh_token;
      skew = 200_000;
      const tokens = await Promise.all(
        [proxy.flowgate, second, proxy.flowgate, second].map(async (instance) =>
          (await instance.verifyAccessToken(t.accessToken)).upstreamAccessToken(),
        ),
      );
      expect(new Set(tokens).size).toBe(1);
      expect(proxy.idp.stats.tokenRequests.refresh_token - before).toBe(1);
    } finally {
      await second.close();
      await proxy.close();
    }
  });
});

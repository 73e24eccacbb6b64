/**
 * A log written by the real engine — complete flows, refreshes, a replayed code, a reused
 * refresh token, revocations, a sweep — audits clean on both databases: every chain
 * verifies, every stream re-folds through its recorded machine without an illegal event or
 * drift, every invariant holds, the projections equal a rebuild; the incidents are reported
 * as notices. Signed anchors chain, verify from the database and from a file, and the
 * anchors table is append-only.
 */
import { sql } from 'kysely';
import { compactVerify, importJWK } from 'jose';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit, type AnchorPayload, type AuditReport } from '../../src/audit/index.js';
import { AppendOnlyError } from '../../src/store/errors.js';
import { storeTargets } from '../support/stores.js';
import { engineWithTraffic } from './support/traffic.js';

function createdOf(report: AuditReport) {
  expect(report.anchor).not.toBeNull();
  if (!report.anchor || !('created' in report.anchor)) throw new Error(`no anchor: ${JSON.stringify(report.anchor)}`);
  return report.anchor.created;
}

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`a real log audits clean on ${target.name}`, () => {
    let ctx: Awaited<ReturnType<typeof engineWithTraffic>>;
    let dir: string;
    beforeAll(async () => {
      ctx = await engineWithTraffic(target);
      dir = mkdtempSync(join(tmpdir(), 'flowgate-audit-'));
    });
    afterAll(async () => {
      await ctx?.t.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    it('finds nothing, re-folds every stream and reports the incidents as notices', async () => {
      const report = await runAudit(ctx.t.store.store);
      expect(report.findings.listed).toEqual([]);
      expect(report.findings.total).toBe(0);
      const streams = 1 + ctx.traffic.flows.length * 2 + 1;
      expect(report.streams).toBe(streams);
      expect(report.refolded).toEqual({ streams, notRefolded: 0 });
      expect(report.period.byType['code.reuse_detected']).toBe(1);
      expect(report.period.byType['refresh_token.reuse_detected']).toBe(1);
      expect(report.period.byType['flow.expired']).toBe(1);
      const notices = report.period.notices.map((n) => `${n.type} ${n.streamId} ${n.detail}`.trim());
      expect(notices).toEqual([
        `code.reuse_detected ${ctx.traffic.codeReplay.flow}`,
        `grant.revoked ${ctx.traffic.codeReplay.grant} reason code_reuse`,
        `refresh_token.reuse_detected ${ctx.traffic.refreshReuse.grant}`,
        `grant.revoked ${ctx.traffic.refreshReuse.grant} reason refresh_token_reuse`,
        `grant.revoked ${ctx.traffic.flows[3]!.grant} reason operator`,
      ]);
      const tables = report.projections!.tables;
      expect(Object.values(tables).every((t) => t.differing === 0 && t.live === t.rebuilt)).toBe(true);
      expect(tables.grants!.live).toBe(ctx.traffic.flows.length);
      expect(tables.clients!.live).toBe(1);
    });

    it('signs anchors that verify with the anchor JWKS, chain on each other and verify from the database and a file', async () => {
      const store = ctx.t.store.store;
      const first = createdOf(await runAudit(store, { anchor: ctx.anchorKey }));
      const jwks = await ctx.keyring.anchorJwks();
      const jwk = jwks.keys.find((k) => k.kid === first.payload.kid)!;
      const verified = await compactVerify(first.jws, await importJWK(jwk, jwk.alg));
      expect(verified.protectedHeader).toMatchObject({ kid: jwk.kid, typ: 'flowgate-anchor+json' });
      const payload = JSON.parse(new TextDecoder().decode(verified.payload)) as AnchorPayload;
      expect(payload).toEqual(first.payload);
      const end = Number((await sql<{ p: number }>`SELECT max(global_position) AS p FROM events`.execute(store.db)).rows[0]!.p);
      expect(payload).toMatchObject({ v: 1, position: end, streams: 1 + ctx.traffic.flows.length * 2 + 1, previous: null });
      expect(Object.keys(payload.heads!)).toHaveLength(payload.streams);

      // More traffic, then a second anchor continuing the first.
      const { clientSide, flowToCode } = await import('../support/flows.js');
      await flowToCode(ctx.t.engine, clientSide('client-audit'));
      const second = createdOf(await runAudit(store, { anchor: ctx.anchorKey }));
      expect(second.payload.previous).toEqual({ position: first.payload.position, digest: first.payload.digest });
      expect(second.payload.events).toBeGreaterThan(first.payload.events);

      const file = join(dir, 'anchors.jws');
      writeFileSync(file, `# flowgate anchors\n${first.jws}\n\n${second.jws}\n`);
      const audited = await runAudit(store, { anchorsFile: file, checks: { projections: false } });
      expect(audited.findings.listed).toEqual([]);
      expect(audited.checks.anchors).toBe(2);
      expect(readFileSync(file, 'utf8')).toContain(second.jws);
    });

    it('keeps audit_anchors append-only', async () => {
      const db = ctx.t.store.store.db;
      const translate = (error: unknown) => ctx.t.store.store.dialect.translateError(error);
      await expect(sql`UPDATE audit_anchors SET digest = 'x'`.execute(db).catch((e) => Promise.reject(translate(e)))).rejects.toBeInstanceOf(AppendOnlyError);
      await expect(sql`DELETE FROM audit_anchors`.execute(db).catch((e) => Promise.reject(translate(e)))).rejects.toThrow(/audit_anchors is append-only/);
      if (target.name === 'postgres') {
        await expect(sql`TRUNCATE audit_anchors`.execute(db)).rejects.toThrow(/append-only/);
      }
    });

    it('refuses to sign an anchor over a log with findings', async () => {
      const store = ctx.t.store.store;
      const { tamper } = await import('./support/forge.js');
      const victim = ctx.traffic.flows[0]!.flow;
      await tamper(store, sql`UPDATE events SET occurred_at = occurred_at + 1 WHERE stream_id = ${victim} AND stream_version = 2`);
      const before = await sql<{ n: number }>`SELECT count(*) AS n FROM audit_anchors`.execute(store.db);
      const report = await runAudit(store, { anchor: ctx.anchorKey, checks: { projections: false } });
      expect(report.findings.byKind['chain.hash']).toBe(1);
      expect(report.anchor).toEqual({ refused: expect.stringMatching(/found \d+ problems?/) });
      const after = await sql<{ n: number }>`SELECT count(*) AS n FROM audit_anchors`.execute(store.db);
      expect(Number(after.rows[0]!.n)).toBe(Number(before.rows[0]!.n));
    });
  });
}

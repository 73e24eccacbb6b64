/**
 * "Valid-looking" forgeries: events appended with raw SQL, canonical JSON, the engine's
 * metadata and a correct hash chain, so no chain check can object. The machine re-fold
 * catches an illegal event and drifted states; each security invariant catches its own
 * forgery — also with the re-fold switched off (`machine: false`), which is the point of
 * checking invariants independently of the machines; the projection diff catches edited
 * read views; global order catches rows moved within a stream or away from their command.
 *
 * Each expectation was checked to fail with its protection removed (once, then restored):
 * e.g. without FlowInvariants' consent rule the redirect forgery passes with `machine:
 * false`; without the command rules the lone code.reuse_detected passes.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runAudit, type AuditOptions, type AuditReport } from '../../src/audit/index.js';
import { sha256Base64Url } from '../../src/crypto/random.js';
import type { JsonValue } from '../../src/events/canonical-json.js';
import { openTestEngine, type TestEngine } from '../support/engine.js';
import { clientSide, flowToCode } from '../support/flows.js';
import { storeTargets } from '../support/stores.js';
import { forgeCommand, swapPositions, tamper } from './support/forge.js';

const NO_PROJECTIONS: AuditOptions = { checks: { projections: false } };
const INVARIANTS_ONLY: AuditOptions = { checks: { projections: false, machine: false } };

function kindsOf(report: AuditReport): Record<string, number> {
  return { ...report.findings.byKind };
}

interface Base {
  /** A redeemed flow with a live, once-refreshed grant. */
  flow: string;
  grant: string;
  data: (streamId: string, type: string) => Promise<Record<string, JsonValue>>;
  /** The refresh token hash retired by the refresh. */
  retired: string;
  /** A flow with an issued, unredeemed code. */
  issued: string;
}

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`forgeries on ${target.name}`, () => {
    let t: TestEngine;
    let base: Base;
    const store = () => t.store.store;
    const at = () => t.clock.now() + 1000;

    beforeEach(async () => {
      t = await openTestEngine(target);
      const client = clientSide();
      const f = await flowToCode(t.engine, client);
      const tokens = await t.engine.execute({
        type: 'RedeemCode',
        code: f.issued.code,
        clientId: client.clientId,
        codeVerifier: client.verifier,
        redirectUri: client.redirectUri,
        resource: null,
        issueRefreshToken: true,
      });
      await t.engine.execute({ type: 'RefreshGrant', refreshToken: tokens.refreshToken!, clientId: client.clientId, scopes: null, resource: null });
      const pending = await flowToCode(t.engine, clientSide());
      base = {
        flow: `flow:${f.started.flowId}`,
        grant: `grant:${tokens.grantId}`,
        retired: sha256Base64Url(tokens.refreshToken!),
        issued: `flow:${pending.started.flowId}`,
        async data(streamId, type) {
          const events = await store().readStream(streamId);
          return events.find((e) => e.type === type)!.data as Record<string, JsonValue>;
        },
      };
      expect((await runAudit(store())).findings.total).toBe(0);
    });
    afterEach(() => t.dispose());

    it('an illegal event with a correct chain: the machine re-fold catches it, the chain cannot', async () => {
      const issued = await base.data(base.flow, 'code.issued');
      const [position] = await forgeCommand(store(), [{ streamId: base.flow, type: 'code.issued', data: issued }], at());
      const report = await runAudit(store(), NO_PROJECTIONS);
      expect(kindsOf(report)).toEqual({ 'machine.illegal': 1 });
      expect(report.findings.listed[0]).toMatchObject({
        streamId: base.flow,
        position,
        version: 9,
        reason: 'code.issued is not accepted in state code_redeemed (authorization-flow@1); the rest of the stream is not re-folded',
      });
      expect((await runAudit(store(), { checks: { projections: false, machine: false } })).findings.total).toBe(0);
    });

    it('states recorded differently from what the machine does: drift', async () => {
      const [position] = await forgeCommand(
        store(),
        [{ streamId: base.grant, type: 'grant.revoked', data: { reason: 'operator' }, states: { from: 'live.idle', to: 'live.idle' } }],
        at(),
      );
      const report = await runAudit(store(), NO_PROJECTIONS);
      expect(kindsOf(report)).toEqual({ 'machine.drift': 1 });
      expect(report.findings.listed[0]).toMatchObject({ position, reason: 'recorded live.idle → live.idle, replay gives live.idle → revoked' });
    });

    it('a code redeemed twice in one flow', async () => {
      const redeemed = await base.data(base.flow, 'code.redeemed');
      const [position] = await forgeCommand(store(), [{ streamId: base.flow, type: 'code.redeemed', data: redeemed }], at());
      expect(kindsOf(await runAudit(store(), NO_PROJECTIONS))).toMatchObject({ 'machine.illegal': 1, 'invariant.code_redeemed_twice': 1 });
      const report = await runAudit(store(), INVARIANTS_ONLY);
      expect(report.findings.listed.filter((f) => f.kind === 'invariant.code_redeemed_twice')).toEqual([
        expect.objectContaining({ streamId: base.flow, position, reason: expect.stringContaining('already redeemed at position') }),
      ]);
    });

    it('one code redeemed in two flows, every event legal: only the invariant sees it', async () => {
      // A second, complete flow whose code has the same hash, redeemed with its own grant.
      const flow = 'flow:forged-flow';
      const grant = 'grant:forged-grant';
      const source = await store().readStream(base.flow);
      const swap = (data: JsonValue): Record<string, JsonValue> =>
        JSON.parse(JSON.stringify(data).replaceAll(base.flow.slice(5), 'forged-flow').replaceAll(base.grant.slice(6), 'forged-grant'));
      for (const event of source.slice(0, 7)) {
        await forgeCommand(store(), [{ streamId: flow, type: event.type, data: swap(event.data) }], event.occurredAt);
      }
      const redeemedAt = source[7]!.occurredAt;
      const created = await base.data(base.grant, 'grant.created');
      const [position] = await forgeCommand(
        store(),
        [
          { streamId: flow, type: 'code.redeemed', data: source[7]!.data as Record<string, JsonValue> },
          { streamId: grant, type: 'grant.created', data: swap(created) },
        ],
        redeemedAt,
      );
      const report = await runAudit(store(), NO_PROJECTIONS);
      expect(kindsOf(report)).toEqual({ 'invariant.code_redeemed_twice': 1 });
      expect(report.findings.listed[0]).toMatchObject({ streamId: flow, position, reason: expect.stringContaining(`already redeemed in ${base.flow}`) });
    });

    it('a code reuse detected without revoking the live grant', async () => {
      const redeemed = await base.data(base.flow, 'code.redeemed');
      const [position] = await forgeCommand(store(), [{ streamId: base.flow, type: 'code.reuse_detected', data: redeemed }], at());
      const report = await runAudit(store(), NO_PROJECTIONS);
      expect(kindsOf(report)).toEqual({ 'invariant.code_reuse_without_revocation': 1 });
      expect(report.findings.listed[0]).toMatchObject({ streamId: base.flow, position, reason: expect.stringContaining(`${base.grant} was live`) });
      // With the revocation in the same command it is what the engine writes: clean.
      await tamper(store(), sql`DELETE FROM events WHERE global_position = ${position}`);
      await forgeCommand(
        store(),
        [
          { streamId: base.flow, type: 'code.reuse_detected', data: redeemed },
          { streamId: base.grant, type: 'grant.revoked', data: { reason: 'code_reuse' } },
        ],
        at(),
      );
      expect((await runAudit(store(), NO_PROJECTIONS)).findings.total).toBe(0);
    });

    it('an upstream redirect without consent', async () => {
      const started = await base.data(base.flow, 'flow.started');
      const redirected = await base.data(base.flow, 'upstream.redirected');
      const flow = 'flow:no-consent';
      await forgeCommand(store(), [{ streamId: flow, type: 'flow.started', data: { ...started, flowId: 'no-consent' } }], at());
      const [position] = await forgeCommand(store(), [{ streamId: flow, type: 'upstream.redirected', data: redirected }], at());
      expect(kindsOf(await runAudit(store(), NO_PROJECTIONS))).toEqual({ 'machine.illegal': 1, 'invariant.redirect_without_consent': 1 });
      const report = await runAudit(store(), INVARIANTS_ONLY);
      expect(report.findings.listed).toEqual([
        { kind: 'invariant.redirect_without_consent', streamId: flow, position, version: 2, reason: 'upstream.redirected with no consent.approved earlier in this flow' },
      ]);
    });

    it('a code issued without an accepted upstream callback', async () => {
      const source = await store().readStream(base.flow);
      const flow = 'flow:no-callback';
      for (const event of source.slice(0, 4)) {
        const data = event.type === 'flow.started' ? { ...(event.data as Record<string, JsonValue>), flowId: 'no-callback' } : event.data;
        await forgeCommand(store(), [{ streamId: flow, type: event.type, data: data as Record<string, JsonValue> }], event.occurredAt);
      }
      const [position] = await forgeCommand(store(), [{ streamId: flow, type: 'code.issued', data: source[6]!.data as Record<string, JsonValue> }], at());
      expect(kindsOf(await runAudit(store(), NO_PROJECTIONS))).toEqual({ 'machine.illegal': 1, 'invariant.code_without_callback': 1 });
      const report = await runAudit(store(), INVARIANTS_ONLY);
      expect(report.findings.listed).toEqual([expect.objectContaining({ kind: 'invariant.code_without_callback', streamId: flow, position })]);
    });

    it('a rotated refresh token accepted again outside the grace rule', async () => {
      const [position] = await forgeCommand(
        store(),
        [{ streamId: base.grant, type: 'refresh_token.rotated', data: { presentedHash: base.retired, newHash: 'forged-successor', scopes: ['mcp:tools'] } }],
        at(),
      );
      expect(kindsOf(await runAudit(store(), NO_PROJECTIONS))).toMatchObject({ 'machine.illegal': 1, 'invariant.refresh_after_rotation': 1 });
      const report = await runAudit(store(), INVARIANTS_ONLY);
      expect(report.findings.listed).toEqual([
        expect.objectContaining({
          kind: 'invariant.refresh_after_rotation',
          streamId: base.grant,
          position,
          reason: expect.stringMatching(/accepted again after its rotation at position \d+ \(\d+ ms later; grace 0 ms\)/),
        }),
      ]);
    });

    it('a token issued for a revoked grant', async () => {
      await t.engine.execute({ type: 'RevokeGrant', grantId: base.grant.slice(6) });
      const [position] = await forgeCommand(
        store(),
        [{ streamId: base.grant, type: 'access_token.issued', data: { jti: 'forged-jti', expiresAt: at() + 3_600_000, scopes: ['mcp:tools'] } }],
        at(),
      );
      expect(kindsOf(await runAudit(store(), NO_PROJECTIONS))).toEqual({ 'machine.illegal': 1, 'invariant.token_for_revoked_grant': 1 });
      const report = await runAudit(store(), INVARIANTS_ONLY);
      expect(report.findings.listed).toEqual([
        expect.objectContaining({ kind: 'invariant.token_for_revoked_grant', streamId: base.grant, position, reason: expect.stringMatching(/after grant.revoked at position \d+/) }),
      ]);
    });

    it('a refresh-token reuse detected without revoking the grant', async () => {
      const [position] = await forgeCommand(
        store(),
        [{ streamId: base.grant, type: 'refresh_token.reuse_detected', data: { presentedHash: base.retired } }],
        at(),
      );
      const report = await runAudit(store(), NO_PROJECTIONS);
      expect(kindsOf(report)).toEqual({ 'invariant.refresh_reuse_without_revocation': 1 });
      expect(report.findings.listed[0]).toMatchObject({ streamId: base.grant, position });
    });

    it('a redemption without its grant, and a grant without its redemption', async () => {
      const issued = await base.data(base.issued, 'code.issued');
      const started = await base.data(base.issued, 'flow.started');
      const [redeemedAt] = await forgeCommand(
        store(),
        [
          {
            streamId: base.issued,
            type: 'code.redeemed',
            data: { codeHash: issued.codeHash!, clientId: issued.clientId!, redirectUri: null, verifierChallenge: started.codeChallenge!, resource: null },
          },
        ],
        at(),
      );
      const created = await base.data(base.grant, 'grant.created');
      const [createdAt] = await forgeCommand(store(), [{ streamId: 'grant:orphan', type: 'grant.created', data: { ...created, grantId: 'orphan', flowId: 'nowhere' } }], at());
      const report = await runAudit(store(), NO_PROJECTIONS);
      expect(kindsOf(report)).toEqual({ 'invariant.redemption_without_grant': 1, 'invariant.grant_without_redemption': 1 });
      expect(report.findings.listed.map((f) => [f.kind, f.streamId, f.position])).toEqual([
        ['invariant.redemption_without_grant', base.issued, redeemedAt],
        ['invariant.grant_without_redemption', 'grant:orphan', createdAt],
      ]);
    });

    it('edited read views: the projection diff names the rows', async () => {
      const db = store().db;
      await sql`UPDATE grants SET status = 'revoked' WHERE grant_id = ${base.grant.slice(6)}`.execute(db);
      await sql`DELETE FROM refresh_tokens WHERE token_hash = ${base.retired}`.execute(db);
      await sql`INSERT INTO jti_mappings (jti, grant_id, scopes, status, issued_at, expires_at)
        VALUES ('planted', ${base.grant.slice(6)}, '["mcp:tools"]', 'active', 0, 9999999999999)`.execute(db);
      const report = await runAudit(store());
      expect(kindsOf(report)).toEqual({ 'projection.differs': 1, 'projection.missing_row': 1, 'projection.extra_row': 1 });
      const byKind = Object.fromEntries(report.findings.listed.map((f) => [f.kind, f]));
      expect(byKind['projection.differs']).toMatchObject({
        streamId: base.grant,
        reason: expect.stringContaining('status is "revoked" in the live table, "active" in a rebuild'),
      });
      expect(byKind['projection.missing_row']!.reason).toContain(`refresh_tokens (token_hash=${base.retired})`);
      expect(byKind['projection.extra_row']!.reason).toContain('jti_mappings (jti=planted)');
      expect(report.projections!.tables.grants).toEqual({ live: 1, rebuilt: 1, differing: 1 });
    });

    it("rows moved in global order: a stream's versions out of order, a command torn apart", async () => {
      const events = await store().readStream(base.grant);
      // grant.created and access_token.issued of one command, swapped: versions out of order.
      await swapPositions(store(), events[0]!.globalPosition, events[1]!.globalPosition);
      const report = await runAudit(store(), NO_PROJECTIONS);
      expect(report.findings.listed.filter((f) => f.kind === 'order.position')).toEqual([
        expect.objectContaining({ streamId: base.grant, version: 2, position: events[0]!.globalPosition }),
      ]);
      // An event of a two-event command moved next to another command.
      await swapPositions(store(), events[0]!.globalPosition, events[1]!.globalPosition);
      const flow = await store().readStream(base.issued);
      await swapPositions(store(), events[1]!.globalPosition, flow[0]!.globalPosition);
      const moved = await runAudit(store(), NO_PROJECTIONS);
      expect(moved.findings.byKind['order.command_split']).toBeGreaterThanOrEqual(1);
    });
  });
}

describe.skipIf(!storeTargets()[0]!.available)('the grace rule agrees with the machine', () => {
  it('a concurrent refresh within the grace window is legal, a later reuse revokes: the audit is clean', async () => {
    const t = await openTestEngine(storeTargets()[0]!, { settings: { refreshGraceMs: 10_000 } });
    try {
      const client = clientSide();
      const f = await flowToCode(t.engine, client);
      const tokens = await t.engine.execute({
        type: 'RedeemCode',
        code: f.issued.code,
        clientId: client.clientId,
        codeVerifier: client.verifier,
        redirectUri: client.redirectUri,
        resource: null,
        issueRefreshToken: true,
      });
      const refresh = () => t.engine.execute({ type: 'RefreshGrant', refreshToken: tokens.refreshToken!, clientId: client.clientId, scopes: null, resource: null });
      await refresh();
      t.clock.advance(2_000);
      await refresh();
      t.clock.advance(2_000);
      await expect(refresh()).rejects.toThrow(/invalid/);
      const report = await runAudit(t.store.store);
      expect(report.period.byType['refresh_token.rotated']).toBe(2);
      expect(report.period.byType['refresh_token.reuse_detected']).toBe(1);
      expect(report.findings.listed).toEqual([]);
    } finally {
      await t.dispose();
    }
  });
});

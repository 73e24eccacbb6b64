/**
 * token-grant: the shortest path to every state — `live.idle` and `live.refreshing`
 * included — and through every transition, over an abstraction of the refresh-token family
 * (rotated, branched within the grace window) and of its access tokens, computed with
 * xstate/graph from the machine definition. Each grant belongs to a flow redeemed first (one
 * command, as `RedeemCode` would leave it), then every step of the path runs through the
 * engine's core loop on SQLite and PostgreSQL; the replay, the projections (`grants`,
 * `jti_mappings`, `refresh_tokens`, `upstream_token_sets`), a full rebuild and the hash chain
 * are checked.
 */
import { expect } from 'vitest';
import { authorizationFlowModel, FLOW_TO_REDEEMED, ids, tokenGrantModel } from './support/models.js';
import { executeCommand, num, STEP_MS, T0, tableRows, type ExecutedStep } from './support/paths.js';
import { definePathSuite } from './support/suite.js';

function last(executed: readonly ExecutedStep[], type: string): ExecutedStep | undefined {
  return [...executed].reverse().find((s) => s.type === type);
}

/** What each refresh token's row must say after the path (the projection's rules, restated). */
function expectedRefreshTokens(executed: readonly ExecutedStep[]) {
  const rows = new Map<string, { status: string; issuedAt: number; rotatedAt: number | null; successor: string | null }>();
  for (const step of executed) {
    const p = step.payload;
    if (step.type === 'grant.created' && typeof p.refreshTokenHash === 'string') {
      rows.set(p.refreshTokenHash, { status: 'active', issuedAt: step.at, rotatedAt: null, successor: null });
    }
    if (step.type === 'refresh_token.rotated') {
      const presented = rows.get(p.presentedHash as string)!;
      // Within the grace window the presented token is already `rotated`: it keeps its first successor.
      if (presented.status === 'active') Object.assign(presented, { status: 'rotated', rotatedAt: step.at, successor: p.newHash });
      rows.set(p.newHash as string, { status: 'active', issuedAt: step.at, rotatedAt: null, successor: null });
    }
    if (step.type === 'grant.revoked' || step.type === 'grant.expired') {
      for (const row of rows.values()) row.status = 'revoked';
    }
  }
  return rows;
}

/** What each access token's mapping must say after the path. */
function expectedJtis(executed: readonly ExecutedStep[]) {
  const rows = new Map<string, { status: string; issuedAt: number; expiresAt: number; scopes: unknown }>();
  for (const step of executed) {
    const p = step.payload;
    if (step.type === 'access_token.issued') {
      rows.set(p.jti as string, { status: 'active', issuedAt: step.at, expiresAt: p.expiresAt as number, scopes: p.scopes });
    }
    if (step.type === 'access_token.revoked') rows.get(p.jti as string)!.status = 'revoked';
    if (step.type === 'grant.revoked' || step.type === 'grant.expired') {
      for (const row of rows.values()) row.status = 'revoked';
    }
  }
  return rows;
}

definePathSuite({
  model: tokenGrantModel,
  streamId: (ns) => `grant:${ids(ns).grantId}`,
  async seed(store, ns) {
    // The flow the grant comes from, redeemed in one command at T0.
    const flow = await executeCommand(store, authorizationFlowModel, `flow:${ids(ns).flowId}`, ns, FLOW_TO_REDEEMED, T0);
    expect(flow[flow.length - 1]!.stateAfter).toBe('code_redeemed');
    return { start: T0 + STEP_MS, seed: flow };
  },
  async expectRows({ store, ns, path, executed, seed }) {
    const id = ids(ns);
    const flow = seed as ExecutedStep[];
    const mine = (table: string) => tableRows(store, table, { column: 'grant_id', value: id.grantId });
    const created = last(executed, 'grant.created')!;
    expect(created).toBeDefined();
    const revoked = last(executed, 'grant.revoked');
    const expired = last(executed, 'grant.expired');
    const rotations = executed.filter((s) => s.type === 'refresh_token.rotated');

    // grants: status and reason follow the path's end; rotations move `last_used_at`.
    const grants = await mine('grants');
    expect(grants).toHaveLength(1);
    const grant = grants[0]!;
    expect(grant).toMatchObject({
      flow_id: id.flowId,
      client_id: id.clientId,
      subject_ref: id.subjectRef,
      scopes: JSON.stringify(created.payload.scopes),
      resource: created.payload.resource,
      status: revoked ? 'revoked' : expired ? 'expired' : 'active',
      revoked_reason: revoked ? revoked.payload.reason : expired ? `expired_${expired.payload.reason}` : null,
    });
    expect(grant.status === 'active').toBe(path.target.startsWith('live') || path.target === 'reuse_detected');
    expect(num(grant.created_at)).toBe(created.at);
    expect(num(grant.absolute_expires_at)).toBe(created.payload.absoluteExpiresAt);
    expect(num(grant.idle_ttl_ms)).toBe(created.payload.idleTtlMs);
    expect(num(grant.last_used_at)).toBe(rotations.length > 0 ? rotations[rotations.length - 1]!.at : created.at);

    // jti_mappings: every access token, revoked one by one or with its grant.
    const jtis = expectedJtis(executed);
    const jtiRows = await mine('jti_mappings');
    expect(jtiRows.map((r) => r.jti as string).sort()).toEqual([...jtis.keys()].sort());
    for (const row of jtiRows) {
      const want = jtis.get(row.jti as string)!;
      expect(row.status, `jti ${row.jti}`).toBe(want.status);
      expect(row.scopes).toBe(JSON.stringify(want.scopes));
      expect(num(row.issued_at)).toBe(want.issuedAt);
      expect(num(row.expires_at)).toBe(want.expiresAt);
    }
    if (revoked || expired) expect(jtiRows.every((r) => r.status === 'revoked')).toBe(true);

    // refresh_tokens: by hash; active → rotated (with its successor) → revoked with the family.
    const tokens = expectedRefreshTokens(executed);
    const tokenRows = await mine('refresh_tokens');
    expect(tokenRows.map((r) => r.token_hash as string).sort()).toEqual([...tokens.keys()].sort());
    for (const row of tokenRows) {
      const want = tokens.get(row.token_hash as string)!;
      expect(row.status, `refresh token ${row.token_hash}`).toBe(want.status);
      expect(row.successor_hash).toBe(want.successor);
      expect(num(row.issued_at)).toBe(want.issuedAt);
      expect(num(row.rotated_at)).toBe(want.rotatedAt);
      expect(row.scopes).toBe(JSON.stringify(created.payload.scopes));
    }

    // upstream_token_sets: the flow's sealed tokens, replaced by each upstream refresh.
    const received = last(flow, 'upstream.tokens_received')!;
    const refreshed = last(executed, 'upstream.refreshed');
    const sets = await mine('upstream_token_sets');
    expect(sets).toHaveLength(1);
    expect(sets[0]).toMatchObject({
      flow_id: id.flowId,
      token_set_sealed: (refreshed ?? received).payload.tokenSetSealed,
      scopes: JSON.stringify(received.payload.grantedScopes),
    });
    expect(num(sets[0]!.upstream_expires_at)).toBe((refreshed ?? received).payload.upstreamExpiresAt);
    expect(num(sets[0]!.updated_at)).toBe((refreshed ?? received).at);

    // The flow's own rows are untouched by the grant's events.
    const codes = await tableRows(store, 'client_codes', { column: 'flow_id', value: id.flowId });
    expect(codes.map((r) => r.status)).toEqual(['redeemed']);
    const transactions = await tableRows(store, 'transactions', { column: 'flow_id', value: id.flowId });
    expect(transactions.map((r) => r.state)).toEqual(['code_redeemed']);
  },
});

/**
 * authorization-flow: the shortest path to every state (and through every transition, for
 * each way consent can be given) computed with xstate/graph from the machine definition,
 * each executed through the engine's core loop on SQLite and PostgreSQL; the replay, the
 * projections (`transactions`, `client_codes`, `upstream_token_sets`), a full rebuild and
 * the hash chain are checked.
 */
import { expect } from 'vitest';
import { ids } from './support/models.js';
import { authorizationFlowModel } from './support/models.js';
import { num, tableRows, type ExecutedStep } from './support/paths.js';
import { definePathSuite } from './support/suite.js';

function last(executed: readonly ExecutedStep[], type: string): ExecutedStep | undefined {
  return [...executed].reverse().find((s) => s.type === type);
}

definePathSuite({
  model: authorizationFlowModel,
  streamId: (ns) => `flow:${ids(ns).flowId}`,
  async expectRows({ store, ns, path, executed }) {
    const id = ids(ns);
    const mine = (table: string, column: string, value: string) => tableRows(store, table, { column, value });

    const transactions = await mine('transactions', 'flow_id', id.flowId);
    const started = last(executed, 'flow.started')!;
    expect(started).toBeDefined();
    const approved = last(executed, 'consent.approved');
    const redirected = last(executed, 'upstream.redirected');
    const received = last(executed, 'upstream.tokens_received');
    const issued = last(executed, 'code.issued');
    const redeemed = last(executed, 'code.redeemed');
    const reused = last(executed, 'code.reuse_detected');
    const expired = last(executed, 'flow.expired');

    // transactions: one row, in the flow's state, with what each step recorded.
    expect(transactions).toHaveLength(1);
    const tx = transactions[0]!;
    expect(tx).toMatchObject({
      grant_id: id.grantId,
      client_id: id.clientId,
      redirect_uri: started.payload.redirectUri,
      code_challenge: id.codeChallenge,
      scopes: JSON.stringify(started.payload.scopes),
      resource: started.payload.resource,
      client_state_sealed: started.payload.clientStateSealed,
      browser_hash: id.browserHash,
      state: path.target,
      consent_basis: approved?.payload.basis ?? null,
      upstream_state_hash: redirected?.payload.upstreamStateHash ?? null,
      proxy_verifier_sealed: redirected?.payload.proxyVerifierSealed ?? null,
      nonce_hash: redirected?.payload.nonceHash ?? null,
      subject_ref: received?.payload.subjectRef ?? null,
    });
    expect(num(tx.state_expires_at)).toBe((redirected?.payload.stateExpiresAt as number | undefined) ?? null);
    expect(num(tx.created_at)).toBe(started.at);
    expect(num(tx.expires_at)).toBe(started.payload.expiresAt);
    expect(num(tx.updated_at)).toBe(executed[executed.length - 1]!.at);

    // client_codes: the code's binding, and its status after the path.
    const codes = await mine('client_codes', 'flow_id', id.flowId);
    if (!issued) {
      expect(codes).toEqual([]);
    } else {
      expect(codes).toHaveLength(1);
      const code = codes[0]!;
      const status = reused ? 'reused' : redeemed ? 'redeemed' : expired ? 'expired' : 'issued';
      expect(code).toMatchObject({
        code_hash: issued.payload.codeHash,
        grant_id: id.grantId,
        client_id: id.clientId,
        redirect_uri: issued.payload.redirectUri,
        code_challenge: id.codeChallenge,
        scopes: JSON.stringify(issued.payload.scopes),
        resource: issued.payload.resource,
        status,
      });
      expect(num(code.issued_at)).toBe(issued.at);
      expect(num(code.expires_at)).toBe(issued.payload.expiresAt);
      expect(num(code.redeemed_at)).toBe(redeemed?.at ?? null);
    }

    // upstream_token_sets: ciphertext only, from the exchange.
    const sets = await mine('upstream_token_sets', 'flow_id', id.flowId);
    if (!received) {
      expect(sets).toEqual([]);
    } else {
      expect(sets).toHaveLength(1);
      expect(sets[0]).toMatchObject({
        grant_id: id.grantId,
        token_set_sealed: received.payload.tokenSetSealed,
        scopes: JSON.stringify(received.payload.grantedScopes),
      });
      expect(num(sets[0]!.refreshable)).toBe(received.payload.upstreamRefreshable ? 1 : 0);
      expect(num(sets[0]!.upstream_expires_at)).toBe(received.payload.upstreamExpiresAt);
      expect(num(sets[0]!.updated_at)).toBe(received.at);
    }

    // A flow alone never creates a grant (that is `RedeemCode`'s second stream).
    for (const table of ['grants', 'jti_mappings', 'refresh_tokens']) {
      expect(await mine(table, 'grant_id', id.grantId), table).toEqual([]);
    }
  },
});

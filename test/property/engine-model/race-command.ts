/**
 * Races: two different requests on the same flow or grant at once, checked for
 * linearizability by `op.race` (security-invariants items 18, 24, 34, 47).
 */
import type { Model, ModelFlow } from './model.js';
import * as op from './operations.js';
import type { Real } from './real.js';
import { EngineCommand, live, otherBrowser, otherClient, pick, prepare, redeemParams, tokensOf } from './engine-command.js';

export type RaceKind =
  | 'show ∥ approve'
  | 'approve ∥ deny'
  | 'approve ∥ approve from the other browser'
  | 'callback ∥ callback'
  | 'callback ∥ callback from the other browser'
  | 'callback ∥ upstream error'
  | 'exchange ∥ exchange'
  | 'exchange ∥ exchange failure'
  | 'redeem ∥ redeem with a wrong verifier'
  | 'redeem ∥ sweep, at the code deadline'
  | 'refresh ∥ revoke the refresh token'
  | 'refresh ∥ revoke an access token'
  | 'refresh ∥ operator revokes the grant'
  | 'refresh ∥ refresh by the other client'
  | 'refresh ∥ sweep, at the grant deadline'
  | 'revoke an access token ∥ revoke the refresh token';

export const RACE_KINDS: readonly RaceKind[] = [
  'show ∥ approve',
  'approve ∥ deny',
  'approve ∥ approve from the other browser',
  'callback ∥ callback',
  'callback ∥ callback from the other browser',
  'callback ∥ upstream error',
  'exchange ∥ exchange',
  'exchange ∥ exchange failure',
  'redeem ∥ redeem with a wrong verifier',
  'redeem ∥ sweep, at the code deadline',
  'refresh ∥ revoke the refresh token',
  'refresh ∥ revoke an access token',
  'refresh ∥ operator revokes the grant',
  'refresh ∥ refresh by the other client',
  'refresh ∥ sweep, at the grant deadline',
  'revoke an access token ∥ revoke the refresh token',
];

const RACE_FLOW_STATE: Partial<Record<RaceKind, ModelFlow['state']>> = {
  'show ∥ approve': 'started',
  'approve ∥ deny': 'consent_shown',
  'approve ∥ approve from the other browser': 'consent_shown',
  'callback ∥ callback': 'upstream_redirected',
  'callback ∥ callback from the other browser': 'upstream_redirected',
  'callback ∥ upstream error': 'upstream_redirected',
  'exchange ∥ exchange': 'callback_accepted',
  'exchange ∥ exchange failure': 'callback_accepted',
  'redeem ∥ redeem with a wrong verifier': 'code_issued',
  'redeem ∥ sweep, at the code deadline': 'code_issued',
};

export class Race extends EngineCommand {
  readonly name: string;
  constructor(
    readonly kind: RaceKind,
    readonly sel: number,
  ) {
    super();
    this.name = `Race(${kind})`;
  }
  #flows(m: Readonly<Model>): ModelFlow[] {
    return live(m, [RACE_FLOW_STATE[this.kind]!]);
  }
  protected applicable(m: Readonly<Model>): boolean {
    return RACE_FLOW_STATE[this.kind] !== undefined || tokensOf(m, 'active', 'active').length > 0;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    if (RACE_FLOW_STATE[this.kind]) {
      await prepare(m, r, [RACE_FLOW_STATE[this.kind]!], 7);
      if (this.#flows(m).length === 0) return;
    }
    const [a, b] = RACE_FLOW_STATE[this.kind] ? this.#flowSteps(m, r) : this.#grantSteps(m, r);
    await op.race(m, r, a, b, `Race(${this.kind})`);
  }
  #flowSteps(m: Model, r: Real): [op.Step, op.Step] {
    const f = pick(this.#flows(m), this.sel)!;
    const i = f.index;
    switch (this.kind) {
      case 'show ∥ approve':
        return [op.showConsentStep(r, m, i, f.browser), op.approveConsentStep(r, m, i, f.browser)];
      case 'approve ∥ deny':
        return [op.approveConsentStep(r, m, i, f.browser), op.denyConsentStep(r, m, i, f.browser)];
      case 'approve ∥ approve from the other browser':
        return [op.approveConsentStep(r, m, i, f.browser), op.approveConsentStep(r, m, i, otherBrowser(f.browser), 'ApproveConsent(other browser)')];
      case 'callback ∥ callback':
        return [op.acceptCallbackStep(r, f.upstreamState!, f.browser), op.acceptCallbackStep(r, f.upstreamState!, f.browser)];
      case 'callback ∥ callback from the other browser':
        return [
          op.acceptCallbackStep(r, f.upstreamState!, f.browser),
          op.acceptCallbackStep(r, f.upstreamState!, otherBrowser(f.browser), 'AcceptCallback(other browser)'),
        ];
      case 'callback ∥ upstream error':
        return [op.acceptCallbackStep(r, f.upstreamState!, f.browser), op.upstreamErrorStep(r, f.upstreamState!, f.browser)];
      case 'exchange ∥ exchange':
        return [op.completeExchangeStep(r, m, i), op.completeExchangeStep(r, m, i)];
      case 'exchange ∥ exchange failure':
        return [op.completeExchangeStep(r, m, i), op.failExchangeStep(r, m, i)];
      case 'redeem ∥ redeem with a wrong verifier':
        return [op.redeemStep(r, redeemParams(m, f, 'correct', 0)), op.redeemStep(r, redeemParams(m, f, 'wrong verifier', 0), 'RedeemCode(wrong verifier)')];
      default: {
        // 'redeem ∥ sweep, at the code deadline'
        const ms = f.codeExpiresAt! - m.now;
        m.advanceClock(ms);
        r.t.clock.advance(ms);
        r.trace.push(`clock +${ms} ms, to the code deadline of #${i}`);
        return [op.redeemStep(r, redeemParams(m, f, 'correct', 0)), op.sweepStep(r)];
      }
    }
  }
  #grantSteps(m: Model, r: Real): [op.Step, op.Step] {
    const t = pick(tokensOf(m, 'active', 'active'), this.sel)!;
    const g = m.grants.get(t.grantId)!;
    const refresh = op.refreshStep(r, { token: t.token, client: g.client, scopes: null, resource: null });
    const jtis = [...m.jtis.values()].filter((j) => j.grantId === g.grantId);
    const jti = (jtis.filter((j) => j.status === 'active').at(-1) ?? jtis.at(-1))!.jti;
    switch (this.kind) {
      case 'refresh ∥ revoke the refresh token':
        return [refresh, op.revokeRefreshTokenStep(r, t.token, g.client)];
      case 'refresh ∥ revoke an access token':
        return [refresh, op.revokeAccessTokenStep(r, jti, g.client)];
      case 'refresh ∥ operator revokes the grant':
        return [refresh, op.revokeGrantStep(r, g.grantId)];
      case 'refresh ∥ refresh by the other client':
        return [refresh, op.refreshStep(r, { token: t.token, client: otherClient(g.client), scopes: null, resource: null }, 'RefreshGrant(other client)')];
      case 'refresh ∥ sweep, at the grant deadline': {
        const ms = m.grantDeadline(g) - m.now;
        if (ms > 0) {
          m.advanceClock(ms);
          r.t.clock.advance(ms);
          r.trace.push(`clock +${ms} ms, to the deadline of the grant of #${g.flowIndex}`);
        }
        return [refresh, op.sweepStep(r)];
      }
      default:
        return [op.revokeAccessTokenStep(r, jti, g.client), op.revokeRefreshTokenStep(r, t.token, g.client)];
    }
  }
}

/**
 * Boundary tests of the injected clock (security-invariants items 22, 35, 49): bring a
 * flow or grant to the state a deadline applies to, move the clock to 1 ms before or
 * exactly to that deadline, then take the step the deadline guards. Expired ⇔ now ≥
 * deadline.
 */
import type { Model, ModelFlow } from './model.js';
import * as op from './operations.js';
import type { Real } from './real.js';
import { EngineCommand, live, pick, prepare, redeemParams, run, tokensOf } from './engine-command.js';

export type DeadlineKind =
  | 'approve at the flow deadline'
  | 'callback at the upstream-state deadline'
  | 'redeem at the code deadline'
  | 'refresh at the grant deadline'
  | 'revoke an access token at the grant deadline';

export const DEADLINE_KINDS: readonly DeadlineKind[] = [
  'approve at the flow deadline',
  'callback at the upstream-state deadline',
  'redeem at the code deadline',
  'refresh at the grant deadline',
  'revoke an access token at the grant deadline',
];

type GrantKind = 'refresh at the grant deadline' | 'revoke an access token at the grant deadline';

const STATE_OF: Record<Exclude<DeadlineKind, GrantKind>, ModelFlow['state']> = {
  'approve at the flow deadline': 'consent_shown',
  'callback at the upstream-state deadline': 'upstream_redirected',
  'redeem at the code deadline': 'code_issued',
};

function jump(m: Model, r: Real, to: number, what: string): void {
  const ms = to - m.now;
  if (ms <= 0) return;
  m.advanceClock(ms);
  r.t.clock.advance(ms);
  r.trace.push(`clock +${ms} ms (${what})`);
}

export class AtDeadline extends EngineCommand {
  readonly name: string;
  constructor(
    readonly kind: DeadlineKind,
    readonly offset: -1 | 0,
    readonly sel: number,
  ) {
    super();
    this.name = `AtDeadline(${kind}, ${offset === 0 ? 'exactly' : '1 ms before'})`;
  }
  #grantKind(): boolean {
    return this.kind === 'refresh at the grant deadline' || this.kind === 'revoke an access token at the grant deadline';
  }
  protected applicable(m: Readonly<Model>): boolean {
    return !this.#grantKind() || tokensOf(m, 'active', 'active').length > 0;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    if (this.#grantKind()) {
      const t = pick(tokensOf(m, 'active', 'active'), this.sel)!;
      const g = m.grants.get(t.grantId)!;
      jump(m, r, m.grantDeadline(g) + this.offset, `${this.offset} ms from the deadline of the grant of #${g.flowIndex}`);
      if (this.kind === 'refresh at the grant deadline') {
        return run(m, r, op.refreshStep(r, { token: t.token, client: g.client, scopes: null, resource: null }));
      }
      const jti = [...m.jtis.values()].filter((j) => j.grantId === g.grantId && j.status === 'active').at(-1);
      if (!jti) return;
      return run(m, r, op.revokeAccessTokenStep(r, jti.jti, g.client));
    }
    const state = STATE_OF[this.kind as Exclude<DeadlineKind, GrantKind>];
    await prepare(m, r, [state], 7);
    const f = pick(live(m, [state]), this.sel);
    if (!f) return;
    switch (this.kind) {
      case 'approve at the flow deadline':
        jump(m, r, f.expiresAt + this.offset, `${this.offset} ms from the deadline of #${f.index}`);
        return run(m, r, op.approveConsentStep(r, m, f.index, f.browser));
      case 'callback at the upstream-state deadline':
        jump(m, r, f.stateExpiresAt! + this.offset, `${this.offset} ms from the upstream state deadline of #${f.index}`);
        return run(m, r, op.acceptCallbackStep(r, f.upstreamState!, f.browser));
      default:
        jump(m, r, f.codeExpiresAt! + this.offset, `${this.offset} ms from the code deadline of #${f.index}`);
        return run(m, r, op.redeemStep(r, redeemParams(m, f, 'correct', 0)));
    }
  }
}

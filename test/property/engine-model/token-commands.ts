/**
 * Commands of the token endpoint and revocation: redeem (correct, with each binding
 * wrong, replayed, unknown), concurrent redemption, refresh (current, retired, other
 * client, wrong scope or resource, dead grant), concurrent refresh, and revocation of
 * refresh tokens, access tokens (by the jti of the token response) and grants.
 */
import { OTHER_RESOURCE, RESOURCE, type FlowState, type Model } from './model.js';
import * as op from './operations.js';
import type { Real } from './real.js';
import { EngineCommand, choose, live, otherClient, pick, prepare, redeemParams, run, tokensOf, type RedeemVariant } from './engine-command.js';

export class Redeem extends EngineCommand {
  readonly name: string;
  constructor(
    readonly variant: RedeemVariant,
    readonly sel: number,
    readonly relevant: boolean,
  ) {
    super();
    this.name = `Redeem(${variant})`;
  }
  protected applicable(m: Readonly<Model>): boolean {
    return this.relevant || m.flows.some((f) => f.code !== null);
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const wanted: FlowState[] = this.variant === 'replay of a redeemed code' ? ['code_redeemed'] : ['code_issued'];
    if (this.relevant) await prepare(m, r, wanted, 7);
    const withCode = m.flows.filter((f) => f.code !== null);
    const f = choose(live(m, wanted), withCode, this.sel, this.relevant);
    if (!f) return;
    return run(m, r, op.redeemStep(r, redeemParams(m, f, this.variant, this.sel), `RedeemCode(${this.variant})`));
  }
}

export class ConcurrentRedeem extends EngineCommand {
  readonly name: string;
  constructor(
    readonly n: number,
    readonly sel: number,
  ) {
    super();
    this.name = `ConcurrentRedeem(×${n})`;
  }
  protected applicable(m: Readonly<Model>): boolean {
    return m.flows.some((f) => f.state === 'code_issued');
  }
  protected act(m: Model, r: Real): Promise<void> {
    const f = pick(
      m.flows.filter((x) => x.state === 'code_issued'),
      this.sel,
    )!;
    return op.concurrently(m, r, op.redeemStep(r, redeemParams(m, f, 'correct', this.sel)), this.n, 'ConcurrentRedeem');
  }
}

export type RefreshVariant =
  | 'current'
  | 'current, narrower scope'
  | 'current, wider scope'
  | 'current, wrong resource'
  | 'current, other client'
  | 'retired'
  | 'retired, other client'
  | 'of a dead grant';

export class Refresh extends EngineCommand {
  readonly name: string;
  constructor(
    readonly variant: RefreshVariant,
    readonly sel: number,
  ) {
    super();
    this.name = `Refresh(${variant})`;
  }
  protected applicable(m: Readonly<Model>): boolean {
    if (this.variant === 'current' || this.variant.startsWith('retired')) return tokensOf(m, 'active', 'active').length > 0;
    return m.refreshTokens.size > 0;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const all = [...m.refreshTokens.values()];
    if (this.variant.startsWith('retired') && tokensOf(m, 'rotated', 'active').length === 0) {
      // No retired token of a live grant yet: rotate one first, then present the old one.
      const t = pick(tokensOf(m, 'active', 'active'), this.sel)!;
      await run(m, r, op.refreshStep(r, { token: t.token, client: m.grants.get(t.grantId)!.client, scopes: null, resource: null }));
    }
    let preferred = tokensOf(m, 'active', 'active');
    if (this.variant.startsWith('retired')) preferred = tokensOf(m, 'rotated', 'active');
    if (this.variant === 'of a dead grant') preferred = tokensOf(m, 'revoked');
    const t = choose(preferred, all, this.sel, true)!;
    const g = m.grants.get(t.grantId)!;
    const client = this.variant.endsWith('other client') ? otherClient(g.client) : g.client;
    const scopes =
      this.variant === 'current, narrower scope' ? ['mcp:tools'] : this.variant === 'current, wider scope' ? ['mcp:tools', 'admin'] : null;
    const resource = this.variant === 'current, wrong resource' ? OTHER_RESOURCE : this.sel % 3 === 0 ? RESOURCE : null;
    await run(m, r, op.refreshStep(r, { token: t.token, client, scopes, resource }, `RefreshGrant(${this.variant})`));
  }
}

export class ConcurrentRefresh extends EngineCommand {
  readonly name: string;
  constructor(
    readonly n: number,
    readonly sel: number,
  ) {
    super();
    this.name = `ConcurrentRefresh(×${n})`;
  }
  protected applicable(m: Readonly<Model>): boolean {
    return tokensOf(m, 'active', 'active').length > 0;
  }
  protected act(m: Model, r: Real): Promise<void> {
    const t = pick(tokensOf(m, 'active', 'active'), this.sel)!;
    const g = m.grants.get(t.grantId)!;
    return op.concurrently(m, r, op.refreshStep(r, { token: t.token, client: g.client, scopes: null, resource: null }), this.n, 'ConcurrentRefresh');
  }
}

export type RevokeVariant = 'own' | 'other client';

export class RevokeRefresh extends EngineCommand {
  readonly name: string;
  constructor(
    readonly variant: RevokeVariant,
    readonly retired: boolean,
    readonly sel: number,
  ) {
    super();
    this.name = `RevokeRefreshToken(${retired ? 'retired' : 'current'}, ${variant})`;
  }
  protected applicable(m: Readonly<Model>): boolean {
    return m.refreshTokens.size > 0;
  }
  protected act(m: Model, r: Real): Promise<void> {
    const t = choose(tokensOf(m, this.retired ? 'rotated' : 'active', 'active'), [...m.refreshTokens.values()], this.sel, true)!;
    const g = m.grants.get(t.grantId)!;
    const client = this.variant === 'own' ? g.client : otherClient(g.client);
    return run(m, r, op.revokeRefreshTokenStep(r, t.token, client, `RevokeRefreshToken(${this.variant})`));
  }
}

export class RevokeAccess extends EngineCommand {
  readonly name: string;
  constructor(
    readonly variant: RevokeVariant,
    readonly sel: number,
  ) {
    super();
    this.name = `RevokeAccessToken(${variant})`;
  }
  protected applicable(m: Readonly<Model>): boolean {
    return m.jtis.size > 0;
  }
  protected act(m: Model, r: Real): Promise<void> {
    const all = [...m.jtis.values()];
    const j = choose(
      all.filter((x) => x.status === 'active'),
      all,
      this.sel,
      true,
    )!;
    const g = m.grants.get(j.grantId)!;
    const client = this.variant === 'own' ? g.client : otherClient(g.client);
    return run(m, r, op.revokeAccessTokenStep(r, j.jti, client, `RevokeAccessToken(${this.variant})`));
  }
}

export class RevokeGrant extends EngineCommand {
  readonly name = 'RevokeGrant(operator)';
  constructor(readonly sel: number) {
    super();
  }
  protected applicable(m: Readonly<Model>): boolean {
    return m.grants.size > 0;
  }
  protected act(m: Model, r: Real): Promise<void> {
    return run(m, r, op.revokeGrantStep(r, pick([...m.grants.keys()], this.sel)!));
  }
}

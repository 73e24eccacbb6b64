/**
 * The model of the engine-level model-based test: plain maps of flows, codes, grants,
 * refresh tokens and access-token jtis with their statuses, and the clock.
 *
 * The model encodes the rules itself, from the protocol and the security invariants
 * (security-invariants §2 items 18, 22–26, 31–35, 44–47), and imports nothing from src/
 * or machines/: no projection reader, no machine guard, no engine helper. Engine ids and
 * secrets it handed out (flow ids, codes, refresh tokens, jtis) are opaque values here.
 *
 * Each rule is a `predict…` method. It looks at the model without changing it and returns
 * a {@link Prediction}: either the command succeeds (`apply(result)` then updates the
 * model with what the engine returned) or it fails with one of `reasons` (error codes,
 * any of them acceptable: the precedence between two failed checks is the engine's
 * business) and `apply()` records the state change the failure still makes (a detected
 * replay revokes, an expiry found on the way is recorded), if any.
 */
import { createHash } from 'node:crypto';

/** The two MCP clients of every run (ids and redirect URIs as the HTTP layer validated them). */
export const CLIENTS = {
  A: { id: 'mcp-client-a', redirectUri: 'http://127.0.0.1:53682/callback' },
  B: { id: 'mcp-client-b', redirectUri: 'http://localhost:8123/oauth/cb' },
} as const;
export type ClientName = keyof typeof CLIENTS;
export const CLIENT_NAMES: readonly ClientName[] = ['A', 'B'];

/** The two browsers of every run. */
export type BrowserName = 'X' | 'Y';
export const BROWSER_NAMES: readonly BrowserName[] = ['X', 'Y'];

/** The configured resource (RFC 8707) and a lookalike that is not it. */
export const RESOURCE = 'http://127.0.0.1:8787/mcp';
export const OTHER_RESOURCE = 'http://127.0.0.1:8787/mcp/other';
/** The scopes every flow asks for and the upstream grants. */
export const SCOPES: readonly string[] = ['mcp:tools', 'mcp:read'];

/** Lifetimes the model and the engine share (passed to `openTestEngine`). */
export interface ModelSettings {
  readonly flowTtlMs: number;
  readonly codeTtlMs: number;
  readonly upstreamStateTtlMs: number;
  readonly accessTokenTtlMs: number;
  readonly refreshIdleTtlMs: number;
  readonly refreshAbsoluteTtlMs: number;
  readonly refreshGraceMs: number;
}

const HOUR = 3_600_000;

/** Defaults, with grant lifetimes short enough that ~40 commands can reach them. */
export const MODEL_SETTINGS: ModelSettings = {
  flowTtlMs: 900_000,
  codeTtlMs: 300_000,
  upstreamStateTtlMs: 600_000,
  accessTokenTtlMs: HOUR,
  refreshIdleTtlMs: 2 * HOUR,
  refreshAbsoluteTtlMs: 6 * HOUR,
  refreshGraceMs: 0,
};

/** The authorization-flow states a read view can show. */
export type FlowState =
  | 'started'
  | 'consent_shown'
  | 'consent_approved'
  | 'upstream_redirected'
  | 'callback_accepted'
  | 'tokens_received'
  | 'code_issued'
  | 'code_redeemed'
  | 'reuse_detected'
  | 'denied'
  | 'upstream_failed'
  | 'expired';

/** States before the code: the flow's own deadline applies. */
export const BEFORE_CODE: ReadonlySet<FlowState> = new Set([
  'started',
  'consent_shown',
  'consent_approved',
  'upstream_redirected',
  'callback_accepted',
  'tokens_received',
]);

/** How far along the happy path a state is (Advance takes the furthest-behind flow). */
export const STAGE: Readonly<Record<FlowState, number>> = {
  started: 0,
  consent_shown: 1,
  consent_approved: 2,
  upstream_redirected: 2,
  callback_accepted: 3,
  tokens_received: 4,
  code_issued: 4,
  code_redeemed: 5,
  reuse_detected: 5,
  denied: 5,
  upstream_failed: 5,
  expired: 5,
};

export type CodeStatus = 'issued' | 'redeemed' | 'reused' | 'expired';
export type GrantStatus = 'active' | 'revoked' | 'expired';
export type TokenStatus = 'active' | 'rotated' | 'revoked';
export type JtiStatus = 'active' | 'revoked';

/** One authorization flow as the model knows it. */
export interface ModelFlow {
  readonly index: number;
  readonly flowId: string;
  readonly grantId: string;
  readonly client: ClientName;
  readonly browser: BrowserName;
  readonly verifier: string;
  readonly challenge: string;
  readonly startedAt: number;
  readonly expiresAt: number;
  state: FlowState;
  /** The upstream `state` sent with the browser (null before consent). */
  upstreamState: string | null;
  stateExpiresAt: number | null;
  code: string | null;
  codeExpiresAt: number | null;
  codeStatus: CodeStatus | null;
}

export interface ModelRefreshToken {
  readonly token: string;
  readonly grantId: string;
  status: TokenStatus;
}

export interface ModelJti {
  readonly jti: string;
  readonly grantId: string;
  readonly scopes: readonly string[];
  readonly expiresAt: number;
  status: JtiStatus;
}

/** What the token endpoint hands out, with the access token's JOSE header and claims decoded. */
export interface IssuedTokens {
  readonly refreshToken: string | null;
  readonly jti: string;
  readonly grantId: string;
  readonly scopes: readonly string[];
  readonly accessToken: { readonly header: Record<string, unknown>; readonly claims: Record<string, unknown> };
}

/** One token family. */
export interface ModelGrant {
  readonly grantId: string;
  readonly flowIndex: number;
  readonly client: ClientName;
  readonly createdAt: number;
  readonly absoluteExpiresAt: number;
  lastUsedAt: number;
  status: GrantStatus;
  reason: string | null;
  /** The token retired last, for the grace rule. */
  lastRetired: { readonly token: string; readonly at: number; graceUsed: boolean } | null;
}

/** What the engine is expected to do with one command. */
export type Prediction<R = unknown> =
  | { readonly kind: 'ok'; readonly describe: string; apply(result: R): void }
  | { readonly kind: 'fail'; readonly describe: string; readonly reasons: readonly string[]; apply(): void };

/** Error codes the engine uses (FlowError codes and RFC 6749 codes). */
export const E = {
  notFound: 'ERR_FLOW_NOT_FOUND',
  expired: 'ERR_FLOW_EXPIRED',
  otherBrowser: 'ERR_FLOW_BROWSER_MISMATCH',
  alreadyUsed: 'ERR_FLOW_ALREADY_USED',
  wrongState: 'ERR_FLOW_WRONG_STATE',
  invalidGrant: 'invalid_grant',
  invalidTarget: 'invalid_target',
  invalidScope: 'invalid_scope',
  unauthorizedClient: 'unauthorized_client',
} as const;

/** RFC 7636 S256, computed here so the model needs nothing from src/. */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'utf8').digest('base64url');
}

const ok = <R>(describe: string, apply: (result: R) => void): Prediction<R> => ({ kind: 'ok', describe, apply });
const fail = (describe: string, reasons: readonly string[], apply: () => void = () => {}): Prediction<never> => ({
  kind: 'fail',
  describe,
  reasons,
  apply,
});

/** The whole model. */
export class Model {
  now: number;
  readonly flows: ModelFlow[] = [];
  readonly grants = new Map<string, ModelGrant>();
  readonly refreshTokens = new Map<string, ModelRefreshToken>();
  readonly jtis = new Map<string, ModelJti>();
  /** Upstream `state` values that were handed out (for replays). */
  readonly upstreamStates: string[] = [];

  constructor(
    readonly settings: ModelSettings,
    start: number,
  ) {
    this.now = start;
  }

  /** A deep copy (to try one order of two concurrent requests). */
  clone(): Model {
    const copy = new Model(this.settings, this.now);
    copy.flows.push(...this.flows.map((f) => ({ ...f })));
    for (const [k, g] of this.grants) copy.grants.set(k, { ...g, lastRetired: g.lastRetired && { ...g.lastRetired } });
    for (const [k, t] of this.refreshTokens) copy.refreshTokens.set(k, { ...t });
    for (const [k, j] of this.jtis) copy.jtis.set(k, { ...j });
    copy.upstreamStates.push(...this.upstreamStates);
    return copy;
  }

  /** Takes over the state of `other` (a copy this model was cloned into). */
  adopt(other: Model): void {
    this.now = other.now;
    this.flows.splice(0, this.flows.length, ...other.flows);
    for (const [target, source] of [
      [this.grants, other.grants],
      [this.refreshTokens, other.refreshTokens],
      [this.jtis, other.jtis],
    ] as const) {
      (target as Map<string, unknown>).clear();
      for (const [k, v] of source as Map<string, unknown>) (target as Map<string, unknown>).set(k, v);
    }
    this.upstreamStates.splice(0, this.upstreamStates.length, ...other.upstreamStates);
  }

  // ---------------------------------------------------------------- helpers

  flowByCode(code: string): ModelFlow | undefined {
    return this.flows.find((f) => f.code === code);
  }

  flowByUpstreamState(state: string): ModelFlow | undefined {
    return this.flows.find((f) => f.upstreamState === state);
  }

  grantDeadline(g: ModelGrant): number {
    return Math.min(g.absoluteExpiresAt, g.lastUsedAt + this.settings.refreshIdleTtlMs);
  }

  /** A flow before its code whose deadline passed: any step that finds it records its expiry. */
  overdue(f: ModelFlow): boolean {
    return BEFORE_CODE.has(f.state) && this.now >= f.expiresAt;
  }

  /** A code that is issued and past its own deadline. */
  codeOverdue(f: ModelFlow): boolean {
    return f.state === 'code_issued' && f.codeExpiresAt !== null && this.now >= f.codeExpiresAt;
  }

  #expireFlow(f: ModelFlow): void {
    f.state = 'expired';
    if (f.codeStatus === 'issued') f.codeStatus = 'expired';
  }

  /** A family dies: every refresh token and every access token of it with it. */
  #endGrant(g: ModelGrant, status: 'revoked' | 'expired', reason: string): void {
    g.status = status;
    g.reason = reason;
    for (const t of this.refreshTokens.values()) if (t.grantId === g.grantId) t.status = 'revoked';
    for (const j of this.jtis.values()) if (j.grantId === g.grantId) j.status = 'revoked';
  }

  #expireGrant(g: ModelGrant): void {
    this.#endGrant(g, 'expired', this.now >= g.absoluteExpiresAt ? 'expired_absolute' : 'expired_idle');
  }

  /**
   * An access token: a JWT for the grant's client and resource, the granted scope and a short
   * life (RFC 9068, item 28) that never outlives the grant's absolute deadline.
   */
  #addJti(r: IssuedTokens, grantId: string, client: ClientName, scopes: readonly string[]): void {
    if (this.jtis.has(r.jti)) throw new Error(`jti ${r.jti} issued twice`);
    const expiresAt = Math.min(this.now + this.settings.accessTokenTtlMs, this.grants.get(grantId)!.absoluteExpiresAt);
    const { header, claims } = r.accessToken;
    const expected: Record<string, unknown> = {
      typ: 'at+jwt',
      jti: r.jti,
      client_id: CLIENTS[client].id,
      aud: RESOURCE,
      scope: scopes.join(' '),
      iat: Math.floor(this.now / 1000),
      exp: Math.floor(expiresAt / 1000),
    };
    const actual: Record<string, unknown> = { ...claims, typ: header.typ };
    const wrong = Object.keys(expected).filter((k) => actual[k] !== expected[k]);
    if (wrong.length > 0) throw new Error(`access token ${wrong.map((k) => `${k}=${JSON.stringify(actual[k])}, expected ${JSON.stringify(expected[k])}`).join('; ')}`);
    this.jtis.set(r.jti, { jti: r.jti, grantId, scopes: [...scopes], expiresAt, status: 'active' });
  }

  #addRefreshToken(token: string, grantId: string): void {
    if (this.refreshTokens.has(token)) throw new Error('model: a refresh token was issued twice');
    this.refreshTokens.set(token, { token, grantId, status: 'active' });
  }

  // ---------------------------------------------------------------- authorization flow

  /** `/authorize` accepted: a flow starts (silently approved when consent is remembered). */
  predictStartFlow(p: {
    client: ClientName;
    browser: BrowserName;
    verifier: string;
    silent: boolean;
  }): Prediction<{ flowId: string; grantId: string; expiresAt: number; upstreamState: string | null }> {
    return ok(`start ${p.client}/${p.browser}${p.silent ? ' (silent consent)' : ''}`, (r) => {
      if (r.expiresAt !== this.now + this.settings.flowTtlMs) throw new Error(`flow deadline ${r.expiresAt}, expected now + flow TTL`);
      if (p.silent !== (r.upstreamState !== null)) throw new Error('silent consent and the upstream redirect disagree');
      const f: ModelFlow = {
        index: this.flows.length,
        flowId: r.flowId,
        grantId: r.grantId,
        client: p.client,
        browser: p.browser,
        verifier: p.verifier,
        challenge: s256(p.verifier),
        startedAt: this.now,
        expiresAt: r.expiresAt,
        state: p.silent ? 'upstream_redirected' : 'started',
        upstreamState: r.upstreamState,
        stateExpiresAt: p.silent ? Math.min(this.now + this.settings.upstreamStateTtlMs, r.expiresAt) : null,
        code: null,
        codeExpiresAt: null,
        codeStatus: null,
      };
      this.flows.push(f);
      if (r.upstreamState !== null) this.upstreamStates.push(r.upstreamState);
    });
  }

  /**
   * Consent steps: a flow past its deadline is expired (whoever asks); otherwise the step
   * must come from the flow's own browser and find the flow in `wanted`, or it changes
   * nothing (either refusal reason is acceptable when both apply).
   */
  #consentStep(f: ModelFlow, browser: BrowserName, what: string, wanted: readonly FlowState[]): Prediction<never> | null {
    if (this.overdue(f)) return fail(`${what}: flow #${f.index} past its deadline`, [E.expired], () => this.#expireFlow(f));
    const reasons: string[] = [];
    if (browser !== f.browser) reasons.push(E.otherBrowser);
    if (!wanted.includes(f.state)) reasons.push(E.alreadyUsed);
    if (reasons.length === 0) return null;
    const why = [browser !== f.browser ? 'from the other browser' : '', wanted.includes(f.state) ? '' : `in ${f.state}`].filter(Boolean).join(', ');
    return fail(`${what} #${f.index} ${why}`, reasons);
  }

  predictShowConsent(f: ModelFlow, browser: BrowserName): Prediction<unknown> {
    const refused = this.#consentStep(f, browser, 'show consent', ['started', 'consent_shown']);
    if (refused) return refused;
    if (f.state === 'consent_shown') return ok(`show consent again #${f.index} (no change)`, () => {});
    return ok(`show consent #${f.index}`, () => void (f.state = 'consent_shown'));
  }

  predictApproveConsent(f: ModelFlow, browser: BrowserName): Prediction<{ upstreamState: string }> {
    const refused = this.#consentStep(f, browser, 'approve', ['consent_shown']);
    if (refused) return refused;
    return ok(`approve #${f.index}`, (r) => {
      f.state = 'upstream_redirected';
      f.upstreamState = r.upstreamState;
      f.stateExpiresAt = Math.min(this.now + this.settings.upstreamStateTtlMs, f.expiresAt);
      this.upstreamStates.push(r.upstreamState);
    });
  }

  predictDenyConsent(f: ModelFlow, browser: BrowserName): Prediction<unknown> {
    const refused = this.#consentStep(f, browser, 'deny', ['consent_shown']);
    if (refused) return refused;
    return ok(`deny #${f.index}`, () => void (f.state = 'denied'));
  }

  /**
   * The upstream callback (security-invariants item 18): the `state` must exist, be unused
   * and unexpired, and (for a code) come back in the browser that approved; otherwise
   * nothing happens, except recording the expiry of an overdue flow. When several checks
   * fail, any of their refusals is acceptable.
   */
  #callbackStep(upstreamState: string, browser: BrowserName | null, what: string): { flow: ModelFlow } | { failure: Prediction<never> } {
    const f = this.flowByUpstreamState(upstreamState);
    if (!f) return { failure: fail(`${what}: unknown state`, [E.notFound]) };
    if (this.overdue(f)) return { failure: fail(`${what}: flow #${f.index} past its deadline`, [E.expired], () => this.#expireFlow(f)) };
    const reasons: string[] = [];
    const why: string[] = [];
    if (f.state !== 'upstream_redirected') {
      reasons.push(E.alreadyUsed);
      why.push(`state already used (${f.state})`);
    } else if (this.now >= f.stateExpiresAt!) {
      reasons.push(E.expired);
      why.push('state expired');
    }
    if (browser !== null && browser !== f.browser) {
      reasons.push(E.otherBrowser);
      why.push('in the other browser');
    }
    if (reasons.length > 0) return { failure: fail(`${what} #${f.index}: ${why.join(', ')}`, reasons) };
    return { flow: f };
  }

  predictAcceptCallback(upstreamState: string, browser: BrowserName): Prediction<{ flowId: string }> {
    const found = this.#callbackStep(upstreamState, browser, 'callback');
    if ('failure' in found) return found.failure;
    const f = found.flow;
    return ok(`callback #${f.index}`, (r) => {
      if (r.flowId !== f.flowId) throw new Error(`callback accepted for flow ${r.flowId}, expected ${f.flowId}`);
      f.state = 'callback_accepted';
    });
  }

  predictUpstreamError(upstreamState: string, browser: BrowserName): Prediction<unknown> {
    const found = this.#callbackStep(upstreamState, browser, 'upstream error');
    if ('failure' in found) return found.failure;
    const f = found.flow;
    return ok(`upstream error #${f.index}`, () => void (f.state = 'upstream_failed'));
  }

  #exchangePreamble(f: ModelFlow, what: string): Prediction<never> | null {
    if (this.overdue(f)) return fail(`${what}: flow #${f.index} past its deadline`, [E.expired], () => this.#expireFlow(f));
    if (f.state !== 'callback_accepted') return fail(`${what}: flow #${f.index} in ${f.state}`, [E.wrongState]);
    return null;
  }

  predictCompleteExchange(f: ModelFlow): Prediction<{ code: string; grantId: string }> {
    const pre = this.#exchangePreamble(f, 'exchange');
    if (pre) return pre;
    return ok(`exchange #${f.index}`, (r) => {
      if (r.grantId !== f.grantId) throw new Error(`code for grant ${r.grantId}, expected ${f.grantId}`);
      f.state = 'code_issued';
      f.code = r.code;
      f.codeExpiresAt = this.now + this.settings.codeTtlMs;
      f.codeStatus = 'issued';
    });
  }

  predictFailExchange(f: ModelFlow): Prediction<unknown> {
    const pre = this.#exchangePreamble(f, 'exchange failure');
    if (pre) return pre;
    return ok(`exchange failed #${f.index}`, () => void (f.state = 'upstream_failed'));
  }

  // ---------------------------------------------------------------- redemption

  /**
   * The authorization_code grant (items 22–26): a wrong client, verifier, redirect URI or
   * resource changes nothing and leaves the code redeemable; the first valid redemption
   * of an unexpired code creates the grant; a later valid one revokes it.
   */
  predictRedeem(p: {
    code: string;
    client: ClientName;
    verifier: string;
    redirectUri: string | null;
    resource: string | null;
    issueRefreshToken: boolean;
  }): Prediction<IssuedTokens> {
    const f = this.flowByCode(p.code);
    if (!f) return fail('redeem an unknown code', [E.invalidGrant]);
    const what = `redeem #${f.index}`;
    const reasons: string[] = [];
    if (p.client !== f.client) reasons.push(E.invalidGrant);
    if (s256(p.verifier) !== f.challenge) reasons.push(E.invalidGrant);
    if (p.redirectUri !== null && p.redirectUri !== CLIENTS[f.client].redirectUri) reasons.push(E.invalidGrant);
    if (p.resource !== null && p.resource !== RESOURCE) reasons.push(E.invalidTarget);
    if (reasons.length > 0) return fail(`${what} (${f.state}) with wrong binding`, reasons);
    if (f.state === 'code_redeemed') {
      return fail(`${what}: valid replay`, [E.invalidGrant], () => {
        f.state = 'reuse_detected';
        f.codeStatus = 'reused';
        const g = this.grants.get(f.grantId)!;
        if (g.status === 'active') this.#endGrant(g, 'revoked', 'code_reuse');
      });
    }
    if (f.state !== 'code_issued') return fail(`${what} in ${f.state}`, [E.invalidGrant]);
    if (this.codeOverdue(f)) return fail(`${what}: code expired`, [E.invalidGrant], () => this.#expireFlow(f));
    return ok(what, (r) => {
      if (r.grantId !== f.grantId) throw new Error(`redeemed into grant ${r.grantId}, expected ${f.grantId}`);
      if ((r.refreshToken !== null) !== p.issueRefreshToken) throw new Error('a refresh token was (not) issued against the request');
      if (r.scopes.join(' ') !== SCOPES.join(' ')) throw new Error(`redeemed with scopes ${r.scopes.join(' ')}, expected ${SCOPES.join(' ')}`);
      f.state = 'code_redeemed';
      f.codeStatus = 'redeemed';
      if (this.grants.has(f.grantId)) throw new Error('model: grant created twice');
      this.grants.set(f.grantId, {
        grantId: f.grantId,
        flowIndex: f.index,
        client: f.client,
        createdAt: this.now,
        absoluteExpiresAt: this.now + this.settings.refreshAbsoluteTtlMs,
        lastUsedAt: this.now,
        status: 'active',
        reason: null,
        lastRetired: null,
      });
      if (r.refreshToken !== null) this.#addRefreshToken(r.refreshToken, f.grantId);
      this.#addJti(r, f.grantId, f.client, SCOPES);
    });
  }

  // ---------------------------------------------------------------- refresh

  /**
   * The refresh_token grant (items 32–35): another client, resource or a widened scope
   * changes nothing; a dead grant refuses; a grant past its deadline expires; the active
   * token rotates; a retired one (outside the grace rule) revokes the family.
   */
  predictRefresh(p: {
    token: string;
    client: ClientName;
    scopes: readonly string[] | null;
    resource: string | null;
  }): Prediction<IssuedTokens> {
    const t = this.refreshTokens.get(p.token);
    if (!t) return fail('refresh with an unknown token', [E.invalidGrant]);
    const g = this.grants.get(t.grantId)!;
    const what = `refresh grant of #${g.flowIndex} with a ${t.status} token`;
    const reasons: string[] = [];
    if (p.client !== g.client) reasons.push(E.invalidGrant);
    if (p.resource !== null && p.resource !== RESOURCE) reasons.push(E.invalidTarget);
    if (p.scopes !== null && !p.scopes.every((s) => SCOPES.includes(s))) reasons.push(E.invalidScope);
    if (reasons.length > 0) return fail(`${what}, wrong binding`, reasons);
    if (g.status !== 'active') return fail(`${what}, grant ${g.status}`, [E.invalidGrant]);
    if (this.now >= this.grantDeadline(g)) return fail(`${what}, grant past its deadline`, [E.invalidGrant], () => this.#expireGrant(g));
    const scopes = p.scopes ?? SCOPES;
    const rotate = (r: IssuedTokens, grace: boolean) => {
      if (r.grantId !== g.grantId) throw new Error(`refresh answered for grant ${r.grantId}, expected ${g.grantId}`);
      if (r.scopes.join(' ') !== scopes.join(' ')) throw new Error(`refresh returned scopes ${r.scopes.join(' ')}, expected ${scopes.join(' ')}`);
      if (grace) g.lastRetired!.graceUsed = true;
      else {
        t.status = 'rotated';
        g.lastRetired = { token: t.token, at: this.now, graceUsed: false };
      }
      g.lastUsedAt = this.now;
      if (r.refreshToken === null) throw new Error('a refresh returned no refresh token');
      this.#addRefreshToken(r.refreshToken, g.grantId);
      this.#addJti(r, g.grantId, g.client, scopes);
    };
    if (t.status === 'active') return ok(what, (r) => rotate(r, false));
    // Grace (security-invariants §1.17-3): one retry with the token retired last only, within
    // G of its rotation, while the family has a single live branch; anything else is reuse.
    const last = g.lastRetired;
    const liveBranches = [...this.refreshTokens.values()].filter((x) => x.grantId === g.grantId && x.status === 'active').length;
    const grace =
      this.settings.refreshGraceMs > 0 &&
      last !== null &&
      last.token === t.token &&
      !last.graceUsed &&
      liveBranches === 1 &&
      this.now - last.at < this.settings.refreshGraceMs;
    if (grace) return ok(`${what} within the grace window`, (r) => rotate(r, true));
    return fail(`${what}: reuse`, [E.invalidGrant], () => this.#endGrant(g, 'revoked', 'refresh_token_reuse'));
  }

  // ---------------------------------------------------------------- revocation (RFC 7009)

  /** Revoking a refresh token (active or retired) revokes its whole grant; only its client may. */
  predictRevokeRefreshToken(token: string, client: ClientName): Prediction<{ outcome: string }> {
    const t = this.refreshTokens.get(token);
    if (!t) return ok('revoke an unknown refresh token', expectOutcome('unknown'));
    const g = this.grants.get(t.grantId)!;
    if (client !== g.client) return fail(`revoke a refresh token of #${g.flowIndex} as the other client`, [E.unauthorizedClient]);
    if (g.status !== 'active') return ok(`revoke a refresh token of the ${g.status} grant #${g.flowIndex}`, expectOutcome('inactive'));
    return ok(`revoke a ${t.status} refresh token of #${g.flowIndex}`, (r) => {
      expectOutcome('revoked')(r);
      this.#endGrant(g, 'revoked', 'client_revoked');
    });
  }

  /** Revoking an access token revokes that jti only; only its client may. */
  predictRevokeAccessToken(jti: string, client: ClientName): Prediction<{ outcome: string }> {
    const j = this.jtis.get(jti);
    if (!j) return ok('revoke an unknown jti', expectOutcome('unknown'));
    const g = this.grants.get(j.grantId)!;
    if (client !== g.client) return fail(`revoke a jti of #${g.flowIndex} as the other client`, [E.unauthorizedClient]);
    if (j.status !== 'active' || g.status !== 'active') return ok(`revoke a dead jti of #${g.flowIndex}`, expectOutcome('inactive'));
    // RFC 7009 §2.2: revoking a token that is already invalid is a success with nothing to do.
    if (this.now >= this.grantDeadline(g)) return ok(`revoke a jti of #${g.flowIndex} whose grant is past its deadline: outcome inactive`, expectOutcome('inactive'));
    return ok(`revoke a jti of #${g.flowIndex}`, (r) => {
      expectOutcome('revoked')(r);
      j.status = 'revoked';
    });
  }

  /** An operator revokes a grant. */
  predictRevokeGrant(grantId: string): Prediction<{ outcome: string }> {
    const g = this.grants.get(grantId);
    if (!g) return ok('operator revokes an unknown grant', expectOutcome('unknown'));
    if (g.status !== 'active') return ok(`operator revokes the ${g.status} grant #${g.flowIndex}`, expectOutcome('inactive'));
    return ok(`operator revokes grant #${g.flowIndex}`, (r) => {
      expectOutcome('revoked')(r);
      this.#endGrant(g, 'revoked', 'operator');
    });
  }

  // ---------------------------------------------------------------- time

  advanceClock(ms: number): void {
    this.now += ms;
  }

  /** The sweeper: every overdue flow, expired code and overdue grant is expired. */
  predictSweep(): Prediction<{ flows: number; grants: number; clients: number }> {
    const flows = this.flows.filter((f) => this.overdue(f) || this.codeOverdue(f));
    const grants = [...this.grants.values()].filter((g) => g.status === 'active' && this.now >= this.grantDeadline(g));
    const what = [flows.length > 0 ? 'flows' : '', grants.length > 0 ? 'grants' : ''].filter(Boolean).join(' and ') || 'nothing';
    return ok(`sweep expires ${what}`, (r) => {
      if (r.flows !== flows.length || r.grants !== grants.length || r.clients !== 0) {
        throw new Error(`sweep expired ${JSON.stringify(r)}, expected ${flows.length} flows and ${grants.length} grants`);
      }
      for (const f of flows) this.#expireFlow(f);
      for (const g of grants) this.#expireGrant(g);
    });
  }
}

function expectOutcome(outcome: string): (r: { outcome: string }) => void {
  return (r) => {
    if (r.outcome !== outcome) throw new Error(`revocation outcome ${r.outcome}, expected ${outcome}`);
  };
}

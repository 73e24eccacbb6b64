/**
 * Operations: one engine command each, checked against the model's prediction.
 *
 * A {@link Step} pairs what the model predicts (`predict`, evaluated on whichever model
 * copy is current when the step takes effect) with the engine call (`call`). Running a
 * step asks the model what must happen, runs the command on the real engine, and
 * compares: success where the model predicts success (then the model takes the engine's
 * ids and secrets), failure with one of the predicted error codes where it predicts
 * failure (then the model records what the failure still changes). The read views are
 * compared with the model afterwards, by the command wrapper.
 *
 * Steps refer to flows by index and to tokens by value, never by object, so that the same
 * step can be predicted on a copy of the model (races, below).
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { checkReadViews, snapshotTables } from './checks.js';
import { CLIENTS, RESOURCE, SCOPES, s256, type BrowserName, type ClientName, type IssuedTokens, type Model, type Prediction } from './model.js';
import { randomValue, remember, type Real } from './real.js';

/** The engine did something the model did not predict. */
export class ModelMismatch extends Error {
  constructor(message: string, r: Real) {
    super(`${message}\n  after: ${r.trace.slice(-14).join('\n         ')}`);
    this.name = 'ModelMismatch';
  }
}

/** One engine command and the model's rule for it. */
export interface Step<R = any> {
  readonly label: string;
  predict(m: Model): Prediction<R>;
  call(): Promise<R>;
}

type Outcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: unknown };

function settle<R>(promise: Promise<R>): Promise<Outcome<R>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

export function errorCode(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && typeof (error as { code: unknown }).code === 'string') {
    return (error as { code: string }).code;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function describeError(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : '';
  return message && !code.includes(message) ? `${code} (${message})` : code;
}

/** A prediction's description without flow numbers (for coverage counts). */
function generic(describe: string): string {
  return describe.replace(/#\d+/g, '#n');
}

/**
 * Holds one outcome against the prediction of `step` on `m` and, when they agree, applies
 * it to `m`. Returns a description of the disagreement, or null.
 */
function settleAgainst<R>(m: Model, step: Step<R>, outcome: Outcome<R>): { prediction: Prediction<R>; problem: string | null } {
  const prediction = step.predict(m);
  const what = `${step.label} (${prediction.describe})`;
  if (!outcome.ok) {
    if (outcome.error instanceof ModelMismatch) throw outcome.error;
    if (prediction.kind === 'ok') return { prediction, problem: `${what}: the model expects success, the engine refused with ${describeError(outcome.error)}` };
    if (!prediction.reasons.includes(errorCode(outcome.error))) {
      return { prediction, problem: `${what}: the model expects ${prediction.reasons.join(' or ')}, the engine refused with ${describeError(outcome.error)}` };
    }
    prediction.apply();
    return { prediction, problem: null };
  }
  if (prediction.kind === 'fail') return { prediction, problem: `${what}: the model expects ${prediction.reasons.join(' or ')}, the engine accepted` };
  try {
    prediction.apply(outcome.value);
  } catch (error) {
    return { prediction, problem: `${what}: ${error instanceof Error ? error.message : String(error)}` };
  }
  return { prediction, problem: null };
}

/** Runs one step on the engine and holds its outcome against the model; returns whether it succeeded. */
export async function runStep<R>(m: Model, r: Real, step: Step<R>): Promise<boolean> {
  const outcome = await settle(step.call());
  const { prediction, problem } = settleAgainst(m, step, outcome);
  r.trace.push(`${step.label}: ${prediction.describe}`);
  if (problem) throw new ModelMismatch(problem, r);
  r.coverage.bump(`${step.label}: ${outcome.ok ? 'ok' : 'refused'}: ${generic(prediction.describe)}`);
  return outcome.ok;
}

/** A verifier of 43 base64url characters (valid RFC 7636 syntax). */
export function newVerifier(): string {
  return randomValue(32);
}

// ---------------------------------------------------------------- flow steps

export function startFlowStep(r: Real, p: { client: ClientName; browser: BrowserName; silent: boolean; withState: boolean }): Step {
  const verifier = newVerifier();
  const clientState = p.withState ? randomValue(16) : null;
  remember(r, verifier, 'client PKCE verifier');
  remember(r, clientState, 'client state');
  return {
    label: 'StartFlow',
    predict: (m) => m.predictStartFlow({ client: p.client, browser: p.browser, verifier, silent: p.silent }),
    async call() {
      const res = await r.engine.execute({
        type: 'StartFlow',
        clientId: CLIENTS[p.client].id,
        redirectUri: CLIENTS[p.client].redirectUri,
        codeChallenge: s256(verifier),
        scopes: SCOPES,
        resource: RESOURCE,
        clientState,
        browserHash: r.browsers[p.browser].hash,
        ...(p.silent ? { silentConsent: 'remembered' as const } : {}),
      });
      remember(r, res.upstream?.state, 'upstream state');
      remember(r, res.upstream?.codeVerifier, 'proxy PKCE verifier');
      remember(r, res.upstream?.nonce, 'upstream nonce');
      return { flowId: res.flowId, grantId: res.grantId, expiresAt: res.expiresAt, upstreamState: res.upstream?.state ?? null };
    },
  };
}

export function showConsentStep(r: Real, m: Model, index: number, browser: BrowserName, label = 'ShowConsent'): Step {
  const flowId = m.flows[index]!.flowId;
  return {
    label,
    predict: (mm) => mm.predictShowConsent(mm.flows[index]!, browser),
    call: () => r.engine.execute({ type: 'ShowConsent', flowId, browserHash: r.browsers[browser].hash }),
  };
}

export function approveConsentStep(r: Real, m: Model, index: number, browser: BrowserName, label = 'ApproveConsent'): Step {
  const flowId = m.flows[index]!.flowId;
  return {
    label,
    predict: (mm) => mm.predictApproveConsent(mm.flows[index]!, browser),
    async call() {
      const res = await r.engine.execute({ type: 'ApproveConsent', flowId, browserHash: r.browsers[browser].hash });
      remember(r, res.upstream.state, 'upstream state');
      remember(r, res.upstream.codeVerifier, 'proxy PKCE verifier');
      remember(r, res.upstream.nonce, 'upstream nonce');
      return { upstreamState: res.upstream.state };
    },
  };
}

export function denyConsentStep(r: Real, m: Model, index: number, browser: BrowserName, label = 'DenyConsent'): Step {
  const flowId = m.flows[index]!.flowId;
  return {
    label,
    predict: (mm) => mm.predictDenyConsent(mm.flows[index]!, browser),
    call: () => r.engine.execute({ type: 'DenyConsent', flowId, browserHash: r.browsers[browser].hash }),
  };
}

export function acceptCallbackStep(r: Real, upstreamState: string, browser: BrowserName, label = 'AcceptCallback'): Step {
  return {
    label,
    predict: (m) => m.predictAcceptCallback(upstreamState, browser),
    async call() {
      const res = await r.engine.execute({ type: 'AcceptCallback', upstreamState, browserHash: r.browsers[browser].hash });
      remember(r, res.codeVerifier, 'proxy PKCE verifier');
      return { flowId: res.flowId };
    },
  };
}

export function upstreamErrorStep(r: Real, upstreamState: string, browser: BrowserName, label = 'RecordUpstreamError'): Step {
  return {
    label,
    predict: (m) => m.predictUpstreamError(upstreamState, browser),
    call: () => r.engine.execute({ type: 'RecordUpstreamError', upstreamState, error: 'access_denied', browserHash: r.browsers[browser].hash }),
  };
}

export function completeExchangeStep(r: Real, m: Model, index: number, label = 'CompleteUpstreamExchange'): Step {
  const flowId = m.flows[index]!.flowId;
  const tokenSet = {
    access_token: `up-at-${randomValue(24)}`,
    refresh_token: `up-rt-${randomValue(24)}`,
    id_token: `up-id-${randomValue(24)}`,
    token_type: 'Bearer',
    expires_in: 3600,
  };
  const subject = `subject-${randomValue(12)}`;
  const email = `${randomValue(9)}@example.test`;
  remember(r, tokenSet.access_token, 'upstream access token');
  remember(r, tokenSet.refresh_token, 'upstream refresh token');
  remember(r, tokenSet.id_token, 'upstream ID token');
  remember(r, subject, 'upstream subject (personal data)');
  remember(r, email, 'upstream e-mail claim (personal data)');
  const upstreamExpiresAt = m.now + 3_600_000;
  return {
    label,
    predict: (mm) => mm.predictCompleteExchange(mm.flows[index]!),
    async call() {
      const res = await r.engine.execute({
        type: 'CompleteUpstreamExchange',
        flowId,
        subject,
        claims: { email },
        tokenSet,
        upstreamExpiresAt,
        refreshable: true,
        grantedScopes: SCOPES,
      });
      remember(r, res.code, 'authorization code');
      return { code: res.code, grantId: res.grantId };
    },
  };
}

export function failExchangeStep(r: Real, m: Model, index: number, label = 'FailUpstreamExchange'): Step {
  const flowId = m.flows[index]!.flowId;
  return {
    label,
    predict: (mm) => mm.predictFailExchange(mm.flows[index]!),
    call: () => r.engine.execute({ type: 'FailUpstreamExchange', flowId, error: 'invalid_grant' }),
  };
}

// ---------------------------------------------------------------- tokens

function issued(
  r: Real,
  res: { accessToken: string; refreshToken: string | null; jti: string; grantId: string; scopes: readonly string[] },
): IssuedTokens {
  remember(r, res.accessToken, 'access token (JWT)');
  remember(r, res.refreshToken, 'refresh token');
  return {
    refreshToken: res.refreshToken,
    jti: res.jti,
    grantId: res.grantId,
    scopes: res.scopes,
    accessToken: { header: decodeProtectedHeader(res.accessToken) as Record<string, unknown>, claims: decodeJwt(res.accessToken) },
  };
}

export interface RedeemParams {
  readonly code: string;
  readonly client: ClientName;
  readonly verifier: string;
  readonly redirectUri: string | null;
  readonly resource: string | null;
  readonly issueRefreshToken: boolean;
}

export function redeemStep(r: Real, p: RedeemParams, label = 'RedeemCode'): Step {
  return {
    label,
    predict: (m) => m.predictRedeem(p),
    async call() {
      const res = await r.engine.execute({
        type: 'RedeemCode',
        code: p.code,
        clientId: CLIENTS[p.client].id,
        codeVerifier: p.verifier,
        redirectUri: p.redirectUri,
        resource: p.resource,
        issueRefreshToken: p.issueRefreshToken,
      });
      return issued(r, res);
    },
  };
}

export interface RefreshParams {
  readonly token: string;
  readonly client: ClientName;
  readonly scopes: readonly string[] | null;
  readonly resource: string | null;
}

export function refreshStep(r: Real, p: RefreshParams, label = 'RefreshGrant'): Step {
  return {
    label,
    predict: (m) => m.predictRefresh(p),
    async call() {
      const res = await r.engine.execute({
        type: 'RefreshGrant',
        refreshToken: p.token,
        clientId: CLIENTS[p.client].id,
        scopes: p.scopes,
        resource: p.resource,
      });
      return issued(r, res);
    },
  };
}

export function revokeRefreshTokenStep(r: Real, token: string, client: ClientName, label = 'RevokeRefreshToken'): Step {
  return {
    label,
    predict: (m) => m.predictRevokeRefreshToken(token, client),
    call: () => r.engine.execute({ type: 'RevokeRefreshToken', refreshToken: token, clientId: CLIENTS[client].id }),
  };
}

export function revokeAccessTokenStep(r: Real, jti: string, client: ClientName, label = 'RevokeAccessToken'): Step {
  return {
    label,
    predict: (m) => m.predictRevokeAccessToken(jti, client),
    call: () => r.engine.execute({ type: 'RevokeAccessToken', jti, clientId: CLIENTS[client].id }),
  };
}

export function revokeGrantStep(r: Real, grantId: string, label = 'RevokeGrant'): Step {
  return { label, predict: (m) => m.predictRevokeGrant(grantId), call: () => r.engine.execute({ type: 'RevokeGrant', grantId }) };
}

export function sweepStep(r: Real, label = 'Sweep'): Step {
  return { label, predict: (m) => m.predictSweep(), call: () => r.engine.sweep() };
}

// ---------------------------------------------------------------- concurrency (items 18, 24, 34, 47)

/**
 * `n` identical requests at once. The engine must be linearizable: applied one after
 * another to the model, the n requests give exactly the outcomes the engine returned.
 * The requests are identical, so any success can stand for any predicted success and any
 * refusal for any predicted refusal.
 */
export async function concurrently(m: Model, r: Real, step: Step, n: number, label: string): Promise<void> {
  const settled = await Promise.all(Array.from({ length: n }, () => settle(step.call())));
  const successes = settled.filter((s) => s.ok);
  const failures = settled.filter((s) => !s.ok).map((s) => (s as { error: unknown }).error);
  r.trace.push(`${label} ×${n}: ${successes.length} accepted, ${failures.length} refused (${failures.map(errorCode).join(', ')})`);
  for (let i = 0; i < n; i++) {
    const prediction = step.predict(m);
    r.coverage.bump(`${label}: request ${i + 1}: ${generic(prediction.describe)}`);
    if (prediction.kind === 'ok') {
      const value = successes.shift();
      if (value === undefined) {
        throw new ModelMismatch(
          `${label} ×${n}: request ${i + 1} in sequence should succeed (${prediction.describe}) but the engine accepted only ${i} (refusals: ${failures.map(describeError).join(', ')})`,
          r,
        );
      }
      const { problem } = settleAgainst(m, { ...step, predict: () => prediction }, value);
      if (problem) throw new ModelMismatch(`${label} ×${n}: ${problem}`, r);
    } else {
      const index = failures.findIndex((e) => prediction.reasons.includes(errorCode(e)));
      if (index < 0) {
        throw new ModelMismatch(
          `${label} ×${n}: request ${i + 1} in sequence should be refused with ${prediction.reasons.join(' or ')} (${prediction.describe}); left: ${successes.length} accepted, refusals ${failures.map(describeError).join(', ') || '(none)'}`,
          r,
        );
      }
      failures.splice(index, 1);
      prediction.apply();
    }
  }
}

/**
 * Two different requests at once. Linearizability: one of the two orders, applied to a
 * copy of the model, must give exactly the outcomes the engine returned and the read
 * views the store now holds; the model then takes that order.
 */
export async function race(m: Model, r: Real, a: Step, b: Step, label: string): Promise<void> {
  const [oa, ob] = await Promise.all([settle(a.call()), settle(b.call())]);
  const live = await snapshotTables(r);
  const problems: string[] = [];
  for (const [first, second, o1, o2, name] of [
    [a, b, oa, ob, `${a.label} then ${b.label}`],
    [b, a, ob, oa, `${b.label} then ${a.label}`],
  ] as const) {
    const copy = m.clone();
    const s1 = settleAgainst(copy, first, o1);
    const s2 = s1.problem ? null : settleAgainst(copy, second, o2);
    const problem = s1.problem ?? s2?.problem ?? null;
    if (problem) {
      problems.push(`${name}: ${problem}`);
      continue;
    }
    try {
      checkReadViews(copy, r, live);
    } catch (error) {
      problems.push(`${name}: outcomes agree, but ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      continue;
    }
    m.adopt(copy);
    r.trace.push(`${label}: ${name} (${s1.prediction.describe} ⟶ ${s2!.prediction.describe})`);
    r.coverage.bump(`${label}: ${generic(s1.prediction.describe)} ⟶ ${generic(s2!.prediction.describe)}`);
    return;
  }
  r.trace.push(`${label}: ${a.label} ${oa.ok ? 'accepted' : errorCode(oa.error)}, ${b.label} ${ob.ok ? 'accepted' : errorCode(ob.error)}: no order fits`);
  throw new ModelMismatch(
    `${label}: no order of the two requests explains what the engine did (${a.label}: ${oa.ok ? 'accepted' : describeError(oa.error)}; ${b.label}: ${ob.ok ? 'accepted' : describeError(ob.error)})\n    ${problems.join('\n    ')}`,
    r,
  );
}

/**
 * The base of the engine model test's commands, and what they share: choosing targets
 * from the model, the model-directed Advance step (stack-notes §8: without it complete
 * flows almost never happen), and set-up steps that bring a flow to the state an attack
 * needs.
 *
 * Commands carry selectors (plain numbers), not ids: the flow, code or token a command
 * acts on is chosen from the model when it runs, so shrinking stays meaningful.
 * `toString()` shows the command and what it resolved to in the last run.
 */
import type fc from 'fast-check';
import { checkAfterCommand } from './checks.js';
import {
  BROWSER_NAMES,
  CLIENTS,
  CLIENT_NAMES,
  OTHER_RESOURCE,
  RESOURCE,
  STAGE,
  type BrowserName,
  type ClientName,
  type FlowState,
  type Model,
  type ModelFlow,
  type ModelGrant,
} from './model.js';
import * as op from './operations.js';
import { randomValue, type Real } from './real.js';

export type Cmd = fc.AsyncCommand<Model, Real>;

export const other = <T extends string>(value: T, all: readonly T[]): T => all.find((v) => v !== value)!;
export const otherBrowser = (b: BrowserName) => other(b, BROWSER_NAMES);
export const otherClient = (c: ClientName) => other(c, CLIENT_NAMES);

export function pick<T>(list: readonly T[], n: number): T | undefined {
  return list.length === 0 ? undefined : list[n % list.length];
}

/** Prefer candidates that make the command meaningful; fall back to any. */
export function choose<T>(preferred: readonly T[], all: readonly T[], n: number, relevant: boolean): T | undefined {
  return relevant && preferred.length > 0 ? pick(preferred, n) : pick(all, n);
}

/**
 * A command: `act` runs the operation(s), then every check runs. A command with nothing to
 * act on yet (no flow, no code, no token) takes an Advance step instead, so that every
 * generated command moves the run along.
 */
export abstract class EngineCommand implements Cmd {
  /** What the command did in the last run that executed it. */
  resolved = '';
  /** What it did in the last run that failed (what a reported counterexample shows). */
  failing: string | undefined;
  abstract readonly name: string;
  /** Whether the model holds something this command can act on. */
  protected abstract applicable(m: Readonly<Model>): boolean;
  protected abstract act(m: Model, r: Real): Promise<void>;
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const before = r.trace.length;
    r.coverage.commands++;
    const t0 = performance.now();
    try {
      if (this.applicable(m)) await this.act(m, r);
      else {
        r.trace.push(`(nothing to act on: Advance)`);
        await advance(m, r, 0);
      }
    } finally {
      const text = r.trace.slice(before).join('; ') || '(failed)';
      this.resolved = text;
      r.ran.push(() => void (this.failing = text));
    }
    r.coverage.bump('~ms act ' + this.name.replace(/\(.*/, ''), performance.now() - t0);
    await checkAfterCommand(m, r);
  }
  toString(): string {
    const text = this.failing ?? this.resolved;
    return text ? `${this.name} [${text}]` : this.name;
  }
}

// ---------------------------------------------------------------- Advance

/** What Advance would do next: the furthest-behind flow that can still move forward. */
export function nextStep(m: Model): ModelFlow | undefined {
  const movable = m.flows.filter((f) => {
    if (m.overdue(f)) return false;
    switch (f.state) {
      case 'started':
      case 'consent_shown':
      case 'callback_accepted':
        return true;
      case 'upstream_redirected':
        return m.now < f.stateExpiresAt!;
      case 'code_issued':
        return !m.codeOverdue(f);
      default:
        return false;
    }
  });
  return movable.sort((a, b) => STAGE[a.state] - STAGE[b.state] || a.index - b.index)[0];
}

/** One Advance step: the furthest-behind flow moves one step, or a new flow starts. */
export async function advance(m: Model, r: Real, seed: number): Promise<void> {
  const f = nextStep(m);
  if (!f) {
    const client = CLIENT_NAMES[seed % 2]!;
    await run(m, r, op.startFlowStep(r, { client, browser: BROWSER_NAMES[(seed >> 1) % 2]!, silent: false, withState: true }));
    return;
  }
  switch (f.state) {
    case 'started':
      return run(m, r, op.showConsentStep(r, m, f.index, f.browser));
    case 'consent_shown':
      return run(m, r, op.approveConsentStep(r, m, f.index, f.browser));
    case 'upstream_redirected':
      return run(m, r, op.acceptCallbackStep(r, f.upstreamState!, f.browser));
    case 'callback_accepted':
      return run(m, r, op.completeExchangeStep(r, m, f.index));
    case 'code_issued':
      return run(m, r, op.redeemStep(r, redeemParams(m, f, 'correct', 0)));
    default:
      throw new Error(`Advance: flow in ${f.state}`);
  }
}

export async function run(m: Model, r: Real, step: op.Step): Promise<void> {
  await op.runStep(m, r, step);
}

/** A flow (within its deadlines) that is in one of `states`. */
export function live(m: Readonly<Model>, states: readonly FlowState[]): ModelFlow[] {
  return m.flows.filter((f) => states.includes(f.state) && !m.overdue(f) && !m.codeOverdue(f));
}

/**
 * Model-directed set-up: Advance (at most `steps` times) until some flow is in one of
 * `states`, so that attacks and misuse meet a flow they can matter to.
 */
export async function prepare(m: Model, r: Real, states: readonly FlowState[], steps = 6): Promise<void> {
  for (let i = 0; i < steps && live(m, states).length === 0; i++) await advance(m, r, i);
}

// ---------------------------------------------------------------- targets

export type RedeemVariant =
  | 'correct'
  | 'correct, no redirect/resource sent'
  | 'correct, no refresh token'
  | 'wrong verifier'
  | 'verifier of another flow'
  | 'malformed verifier'
  | 'wrong client'
  | 'wrong redirect URI'
  | 'wrong resource'
  | 'replay of a redeemed code'
  | 'unknown code';

export function redeemParams(m: Model, f: ModelFlow, variant: RedeemVariant, sel: number): op.RedeemParams {
  const base: op.RedeemParams = {
    code: f.code!,
    client: f.client,
    verifier: f.verifier,
    redirectUri: CLIENTS[f.client].redirectUri,
    resource: RESOURCE,
    issueRefreshToken: true,
  };
  switch (variant) {
    case 'correct, no redirect/resource sent':
      return { ...base, redirectUri: null, resource: null };
    case 'correct, no refresh token':
      return { ...base, issueRefreshToken: false };
    case 'wrong verifier':
      return { ...base, verifier: op.newVerifier() };
    case 'verifier of another flow': {
      const others = m.flows.filter((x) => x !== f);
      return { ...base, verifier: pick(others, sel)?.verifier ?? op.newVerifier() };
    }
    case 'malformed verifier':
      return { ...base, verifier: `${f.verifier.slice(0, 42)}` };
    case 'wrong client':
      // A stolen code and verifier presented by the other client, sending no redirect URI.
      return { ...base, client: otherClient(f.client), redirectUri: null };
    case 'wrong redirect URI':
      return { ...base, redirectUri: sel % 2 === 0 ? `${CLIENTS[f.client].redirectUri}/x` : CLIENTS[otherClient(f.client)].redirectUri };
    case 'wrong resource':
      return { ...base, resource: OTHER_RESOURCE };
    case 'unknown code':
      return { ...base, code: randomValue(32) };
    default:
      return base;
  }
}

export function tokensOf(m: Readonly<Model>, status: 'active' | 'rotated' | 'revoked', grantStatus?: ModelGrant['status']) {
  return [...m.refreshTokens.values()].filter(
    (t) => t.status === status && (grantStatus === undefined || m.grants.get(t.grantId)!.status === grantStatus),
  );
}


/**
 * Commands of the authorization flow: Advance, start, consent (own and other browser),
 * the upstream callback (right and other browser, replayed, unknown, upstream error) and
 * the upstream exchange.
 */
import { BROWSER_NAMES, type BrowserName, type ClientName, type FlowState, type Model } from './model.js';
import * as op from './operations.js';
import { randomValue, type Real } from './real.js';
import { EngineCommand, advance, choose, live, otherBrowser, prepare, run } from './engine-command.js';

/** The model-directed step: the furthest-behind open flow one step forward, or a new flow. */
export class Advance extends EngineCommand {
  readonly name = 'Advance';
  constructor(readonly seed: number) {
    super();
  }
  protected applicable(): boolean {
    return true;
  }
  protected act(m: Model, r: Real): Promise<void> {
    return advance(m, r, this.seed);
  }
}

export class StartFlow extends EngineCommand {
  readonly name: string;
  constructor(
    readonly client: ClientName,
    readonly browser: BrowserName,
    readonly silent: boolean,
    readonly withState: boolean,
  ) {
    super();
    this.name = `StartFlow(${client}, ${browser}${silent ? ', silent' : ''}${withState ? '' : ', no state'})`;
  }
  protected applicable(): boolean {
    return true;
  }
  protected act(m: Model, r: Real): Promise<void> {
    return run(m, r, op.startFlowStep(r, this));
  }
}

export type ConsentAction = 'show' | 'approve' | 'deny';

export class Consent extends EngineCommand {
  readonly name: string;
  constructor(
    readonly action: ConsentAction,
    readonly sel: number,
    readonly ownBrowser: boolean,
    readonly relevant: boolean,
  ) {
    super();
    this.name = `Consent(${action}, ${ownBrowser ? 'own' : 'other'} browser)`;
  }
  protected applicable(m: Readonly<Model>): boolean {
    return this.relevant || m.flows.length > 0;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const wanted: FlowState[] = this.action === 'show' ? ['started', 'consent_shown'] : ['consent_shown'];
    if (this.relevant) await prepare(m, r, wanted);
    const f = choose(live(m, wanted), m.flows, this.sel, this.relevant)!;
    const browser = this.ownBrowser ? f.browser : otherBrowser(f.browser);
    const other = this.ownBrowser ? '' : '(other browser)';
    if (this.action === 'show') return run(m, r, op.showConsentStep(r, m, f.index, browser, `ShowConsent${other}`));
    if (this.action === 'approve') return run(m, r, op.approveConsentStep(r, m, f.index, browser, `ApproveConsent${other}`));
    return run(m, r, op.denyConsentStep(r, m, f.index, browser, `DenyConsent${other}`));
  }
}

export type CallbackMode = 'right' | 'other-browser' | 'replayed' | 'unknown' | 'error' | 'error-other-browser' | 'error-replayed';

export class Callback extends EngineCommand {
  readonly name: string;
  constructor(
    readonly mode: CallbackMode,
    readonly sel: number,
  ) {
    super();
    this.name = `Callback(${mode})`;
  }
  protected applicable(): boolean {
    return true;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    if (this.mode === 'unknown') {
      return run(m, r, op.acceptCallbackStep(r, randomValue(32), BROWSER_NAMES[this.sel % 2]!, 'AcceptCallback(unknown state)'));
    }
    const replay = this.mode === 'replayed' || this.mode === 'error-replayed';
    const usedStates: FlowState[] = ['callback_accepted', 'code_issued', 'code_redeemed', 'reuse_detected', 'upstream_failed'];
    await prepare(m, r, replay ? usedStates : ['upstream_redirected']);
    const pending = live(m, ['upstream_redirected']);
    const used = m.flows.filter((f) => f.upstreamState !== null && f.state !== 'upstream_redirected');
    const withState = m.flows.filter((f) => f.upstreamState !== null);
    const f = replay ? choose(used, withState, this.sel, true) : choose(pending, withState, this.sel, true);
    if (!f) return;
    switch (this.mode) {
      case 'right':
        return run(m, r, op.acceptCallbackStep(r, f.upstreamState!, f.browser));
      case 'other-browser':
        return run(m, r, op.acceptCallbackStep(r, f.upstreamState!, otherBrowser(f.browser), 'AcceptCallback(other browser)'));
      case 'replayed':
        return run(m, r, op.acceptCallbackStep(r, f.upstreamState!, f.browser, 'AcceptCallback(replayed state)'));
      case 'error':
        return run(m, r, op.upstreamErrorStep(r, f.upstreamState!, f.browser));
      case 'error-other-browser':
        return run(m, r, op.upstreamErrorStep(r, f.upstreamState!, otherBrowser(f.browser), 'RecordUpstreamError(other browser)'));
      default:
        return run(m, r, op.upstreamErrorStep(r, f.upstreamState!, f.browser, 'RecordUpstreamError(replayed state)'));
    }
  }
}

export class Exchange extends EngineCommand {
  readonly name: string;
  constructor(
    readonly success: boolean,
    readonly sel: number,
    readonly relevant: boolean,
  ) {
    super();
    this.name = `Exchange(${success ? 'tokens' : 'failure'})`;
  }
  protected applicable(m: Readonly<Model>): boolean {
    return this.relevant || m.flows.length > 0;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    if (this.relevant) await prepare(m, r, ['callback_accepted']);
    const f = choose(live(m, ['callback_accepted']), m.flows, this.sel, this.relevant)!;
    return run(m, r, this.success ? op.completeExchangeStep(r, m, f.index) : op.failExchangeStep(r, m, f.index));
  }
}

/**
 * Time and maintenance: clock steps (fixed, and model-directed to a deadline), the
 * sweeper, and a restart that rebuilds every projection and starts a new engine.
 */
import { Engine } from '../../../src/engine/engine.js';
import { rebuildAll } from '../../../src/engine/replay.js';
import type { Model } from './model.js';
import * as op from './operations.js';
import type { Real } from './real.js';
import { EngineCommand, run } from './engine-command.js';

export class AdvanceClock extends EngineCommand {
  readonly name: string;
  constructor(readonly ms: number) {
    super();
    this.name = `AdvanceClock(${ms} ms)`;
  }
  protected applicable(): boolean {
    return true;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    m.advanceClock(this.ms);
    r.t.clock.advance(this.ms);
    r.trace.push(`AdvanceClock: +${this.ms} ms`);
  }
}

/**
 * Model-directed clock step: to just before, exactly at, or just after one of the next
 * deadlines the model knows (a flow's, an upstream state's, a code's, a grant's).
 */
export class ClockToDeadline extends EngineCommand {
  readonly name: string;
  constructor(
    readonly offset: -1 | 0 | 1,
    readonly sel: number,
  ) {
    super();
    this.name = `ClockToDeadline(${offset < 0 ? '-1 ms' : offset > 0 ? '+1 ms' : 'exactly'})`;
  }
  protected applicable(m: Readonly<Model>): boolean {
    return upcomingDeadlines(m).length > 0;
  }
  protected async act(m: Model, r: Real): Promise<void> {
    const deadlines = upcomingDeadlines(m);
    const [at, what] = deadlines[this.sel % deadlines.length]!;
    const ms = Math.max(1, at + this.offset - m.now);
    m.advanceClock(ms);
    r.t.clock.advance(ms);
    r.trace.push(`ClockToDeadline: +${ms} ms (${this.offset} ms from ${what})`);
  }
}

/** Deadlines still ahead, soonest first. */
export function upcomingDeadlines(m: Readonly<Model>): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const f of m.flows) {
    if (f.state === 'code_issued') out.push([f.codeExpiresAt!, `code of #${f.index}`]);
    else if (['started', 'consent_shown', 'consent_approved', 'upstream_redirected', 'callback_accepted'].includes(f.state)) {
      out.push([f.expiresAt, `deadline of #${f.index}`]);
      if (f.state === 'upstream_redirected') out.push([f.stateExpiresAt!, `upstream state of #${f.index}`]);
    }
  }
  for (const g of m.grants.values()) {
    if (g.status === 'active') out.push([(m as Model).grantDeadline(g), `grant of #${g.flowIndex}`]);
  }
  return out.filter(([at]) => at > m.now).sort((a, b) => a[0] - b[0]);
}

export class Sweep extends EngineCommand {
  readonly name = 'Sweep';
  protected applicable(): boolean {
    return true;
  }
  protected act(m: Model, r: Real): Promise<void> {
    return run(m, r, op.sweepStep(r));
  }
}

/** A restart: every projection rebuilt from the log and a new engine over the same store. */
export class Restart extends EngineCommand {
  readonly name = 'Restart';
  protected applicable(): boolean {
    return true;
  }
  protected async act(_m: Model, r: Real): Promise<void> {
    await rebuildAll(r.t.store.store);
    r.engine = new Engine(r.engine.options);
    r.trace.push('Restart: projections rebuilt, new engine');
    r.coverage.bump('Restart');
  }
}

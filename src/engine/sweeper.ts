/**
 * Housekeeping on a timer: every instance calls {@link Engine.sweep} at an interval, so
 * overdue flows and codes, grants past their lifetime and unused clients are expired in the
 * log (and the projections) without an operator. Sweeps on several instances may overlap;
 * each expiry is a machine-checked command, so the loser of a race simply does nothing.
 *
 * @module
 */
import type { Engine, SweepReport } from './engine.js';

/** Where a sweeper reports. */
export interface SweepLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** A running periodic sweep. */
export interface Sweeper {
  /** Stops the timer and waits for a sweep in progress to finish. */
  stop(): Promise<void>;
}

/** Sweeps every `intervalMs` (0: never) until stopped; failures are logged, never thrown. */
export function startSweeper(engine: Engine, intervalMs: number, log: SweepLog): Sweeper {
  if (intervalMs <= 0) return { stop: async () => {} };
  let running: Promise<void> | undefined;
  let stopped = false;
  const sweepOnce = async () => {
    try {
      const report: SweepReport = await engine.sweep();
      if (report.flows + report.grants + report.clients > 0) log.info({ expired: report }, 'sweep expired overdue records');
    } catch (error) {
      if (!stopped) log.warn({ err: { name: (error as Error).name, message: (error as Error).message } }, 'sweep failed; will retry');
    }
  };
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = sweepOnce().finally(() => {
      running = undefined;
    });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

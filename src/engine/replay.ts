/**
 * Replay for audits: a stream's events folded through the machine version it was written
 * with, step by step, each step checked (was the event legal in its state?) and compared
 * with the states the log recorded. Replay never runs effects. `rebuildAll` rebuilds every
 * projection from the log.
 *
 * @module
 */
import type { AnyMachineSnapshot } from 'xstate';
import type { EventStore } from '../store/event-store.js';
import type { StoredEvent } from '../store/types.js';
import { stateName } from './machine-runner.js';
import { machineOfStream, runnerFor, toMachineEvent } from './runners.js';

/** One replayed event. */
export interface ReplayStep {
  readonly event: StoredEvent;
  readonly before: string;
  /** The state after the event, or null when the machine refused it. */
  readonly after: string | null;
  /** False when the machine does not accept the event in `before`. */
  readonly legal: boolean;
  /** The states the engine recorded when it wrote the event. */
  readonly recorded: { readonly from: string | null; readonly to: string | null };
  /** True when the recorded states differ from the replayed ones. */
  readonly drift: boolean;
}

/** A replayed stream. */
export interface ReplayResult {
  readonly streamId: string;
  readonly machine: { readonly id: string; readonly version: string } | null;
  readonly steps: readonly ReplayStep[];
  readonly finalState: string | null;
  readonly finalContext: unknown;
}

/** Replays an already-read stream (events in stream order). */
export function replayEvents(streamId: string, events: readonly StoredEvent[]): ReplayResult {
  if (events.length === 0) return { streamId, machine: null, steps: [], finalState: null, finalContext: null };
  const entry = machineOfStream(streamId, events[0]!);
  const runner = runnerFor(entry);
  let snapshot: AnyMachineSnapshot = runner.initial;
  const steps: ReplayStep[] = [];
  for (const event of events) {
    const before = stateName(snapshot.value);
    const next = runner.step(snapshot, toMachineEvent(event));
    const machine = event.metadata.machine as { from?: unknown; to?: unknown } | undefined;
    const recorded = {
      from: typeof machine?.from === 'string' ? machine.from : null,
      to: typeof machine?.to === 'string' ? machine.to : null,
    };
    const after = next ? stateName(next.value) : null;
    steps.push({ event, before, after, legal: next !== undefined, recorded, drift: recorded.from !== before || recorded.to !== after });
    if (next) snapshot = next;
  }
  return {
    streamId,
    machine: { id: entry.id, version: entry.version },
    steps,
    finalState: stateName(snapshot.value),
    finalContext: snapshot.context,
  };
}

/** Reads and replays one stream. */
export async function replayStream(store: EventStore, streamId: string): Promise<ReplayResult> {
  return replayEvents(streamId, await store.readStream(streamId));
}

/** Rebuilds every registered projection from the log; returns events applied per projection. */
export async function rebuildAll(store: EventStore): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const projection of store.projections) {
    counts[projection.name] = (await store.rebuild(projection.name)).events;
  }
  return counts;
}

/**
 * Machine path coverage: the shortest path (xstate/graph `getShortestPaths`) to every state
 * of a machine — more precisely to every (state, abstract context, incoming transition)
 * vertex, so every declared transition ends some path — and the execution of each path
 * through the engine's core loop (`Session.emit` per step, `appendMany`, inline projections).
 *
 * A machine's context holds times and hashes, so its state space is infinite. The traversal
 * is bounded by serialising a state as its value, a small per-machine abstraction of its
 * context ({@link MachineModel.features}) and the transition that led to it; and by `limit`.
 *
 * Event payloads come from per-machine factories ({@link MachineModel.candidates}) that
 * satisfy the guards from the current context. Each candidate carries a variant label, so a
 * planned path is a list of (event type, variant) steps that is materialised again, from
 * the real stream's context, when it runs on a store.
 */
import type { AnyMachineSnapshot } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { expect } from 'vitest';
import type { MachineEntry } from '../../../machines/registry.js';
import type { JsonValue } from '../../../src/events/canonical-json.js';
import { newCommandId } from '../../../src/events/ids.js';
import { stateName } from '../../../src/engine/machine-runner.js';
import { replayStream } from '../../../src/engine/replay.js';
import { runnerFor } from '../../../src/engine/runners.js';
import { Session } from '../../../src/engine/session.js';
import { machineStateNames, machineTransitions, type MachineTransition } from '../../../src/engine/statechart.js';
import type { EventStore } from '../../../src/store/event-store.js';
import type { StoredEvent } from '../../../src/store/types.js';

/** The time of the first event of every path (2026-11-29T12:00:00Z). */
export const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);
/** Time between two steps of a path. */
export const STEP_MS = 1000;

/** One event worth trying in a state. */
export interface Candidate {
  /** Names this way of sending the event (e.g. a consent basis, a revocation reason). */
  readonly variant: string;
  readonly type: string;
  readonly payload: Record<string, JsonValue>;
  /** The event's time when it is not `now` (deadlines: `Math.max(now, deadline)`). */
  readonly at?: number;
}

/** What the path tests need to know about one machine. */
export interface MachineModel<C = any> {
  readonly entry: MachineEntry;
  /** Events to try in `state` with `context`, at `now`, with ids namespaced by `ns`. */
  candidates(state: string, context: C, now: number, ns: string): Candidate[];
  /** A bounded abstraction of the context that separates the vertices worth reaching. */
  features(state: string, context: C): JsonValue;
  /**
   * Whether targetless transitions also count in a vertex (default false: they only change
   * the context, which {@link features} sees). Needed when two of them change the context
   * alike, e.g. `client.used` and `client.metadata_refreshed`.
   */
  readonly keyTargetless?: boolean;
}

/** One planned step: the event to send and the state the machine must be in after it. */
export interface PlannedStep {
  readonly type: string;
  readonly variant: string;
  readonly before: string;
  readonly after: string;
}

/** One planned path (the empty path reaches the initial state). */
export interface PlannedPath {
  readonly target: string;
  readonly steps: readonly PlannedStep[];
}

/** The traversal of one machine. */
export interface PathPlan {
  /** Every shortest path `getShortestPaths` returned (one per reached vertex). */
  readonly all: readonly PlannedPath[];
  /** The same without the paths that are a prefix of another (what runs on the stores). */
  readonly executable: readonly PlannedPath[];
}

/** A state value's name and the names of its ancestors (`live.idle` → `live`, `live.idle`). */
export function activeStateNames(name: string): string[] {
  const parts = name.split('.');
  return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
}

function stepKey(step: PlannedStep): string {
  return `${step.type}#${step.variant}`;
}

function dedupe(paths: readonly PlannedPath[]): PlannedPath[] {
  const sorted = [...paths].sort((a, b) => b.steps.length - a.steps.length);
  const kept: PlannedPath[] = [];
  for (const path of sorted) {
    const keys = path.steps.map(stepKey);
    const covered = kept.some((k) => keys.every((key, i) => stepKey(k.steps[i]!) === key));
    if (!covered) kept.push(path);
  }
  return kept.sort((a, b) => a.steps.length - b.steps.length || a.target.localeCompare(b.target));
}

/**
 * Plans the shortest paths of a machine with `getShortestPaths`. Events are a function of
 * the state (the model's candidates), filtered with `s.can(e)`; event times come from a
 * clock carried alongside each snapshot (the time of the event that produced it).
 */
export function planPaths(model: MachineModel, options: { limit?: number } = {}): PathPlan {
  const machine = model.entry.machine;
  const clock = new WeakMap<object, number>();
  const labels = new WeakMap<object, string>();
  // The machine, with a transition that remembers each new snapshot's time.
  const logic = Object.create(machine, {
    transition: {
      value: (snapshot: AnyMachineSnapshot, event: { at: number }, scope: unknown) => {
        const next = machine.transition(snapshot, event as never, scope as never);
        clock.set(next, event.at);
        return next;
      },
    },
  }) as typeof machine;

  // The declared transition an event of `type` takes in `state`: the deepest active state
  // declaring it. Read from the definition, not the guards, so that a vertex's key does not
  // depend on which snapshot happens to stand for it.
  const declared = machineTransitions(machine);
  const declaredFor = (state: string, type: string): MachineTransition | undefined => {
    const active = [...activeStateNames(state).reverse(), ''];
    for (const source of active) {
      const found = declared.find((t) => t.event === type && t.source === source);
      if (found) return found;
    }
    return undefined;
  };

  const paths = getShortestPaths(logic, {
    events: (snapshot: AnyMachineSnapshot) => {
      const now = (clock.get(snapshot) ?? T0 - STEP_MS) + STEP_MS;
      return model.candidates(stateName(snapshot.value), snapshot.context, now, 'plan').map((c) => {
        const event = { ...c.payload, type: c.type, at: c.at ?? now };
        labels.set(event, c.variant);
        return event as never;
      });
    },
    // Only the model's own events (xstate adds a bare `{ type }` for event types without one).
    filterEvents: (snapshot: AnyMachineSnapshot, event: object) => labels.has(event) && snapshot.can(event as never),
    // A vertex: the state value, the abstract context and, unless the transition that led
    // here was targetless (it only updates the context, which the features already see),
    // that transition (event type, variant, declared source) — so every declared targeted
    // transition, and every variant of its event, ends some path.
    serializeState: (snapshot: AnyMachineSnapshot, event?: { type: string }, previous?: AnyMachineSnapshot) => {
      const transition = event && previous ? declaredFor(stateName(previous.value), event.type) : undefined;
      const keyed = transition !== undefined && (model.keyTargetless === true || !transition.internal);
      return JSON.stringify([
        snapshot.value,
        model.features(stateName(snapshot.value), snapshot.context),
        keyed ? [event!.type, labels.get(event!) ?? null, transition.source] : null,
      ]);
    },
    limit: options.limit ?? 50_000,
  } as never) as Array<{ state: AnyMachineSnapshot; steps: Array<{ state: AnyMachineSnapshot; event: { type: string } }> }>;

  const all = paths.map((path): PlannedPath => {
    const real = path.steps.filter((s) => s.event.type !== 'xstate.init');
    let before = stateName(runnerFor(model.entry).initial.value);
    const steps = real.map((s) => {
      const step = { type: s.event.type, variant: labels.get(s.event)!, before, after: stateName(s.state.value) };
      before = step.after;
      return step;
    });
    return { target: stateName(path.state.value), steps };
  });
  return { all, executable: dedupe(all) };
}

/** The state names the plan reaches (ancestors of nested states included). */
export function reachedStateNames(plan: PathPlan): Set<string> {
  const names = new Set<string>();
  for (const path of plan.all) {
    for (const name of activeStateNames(path.target)) names.add(name);
    for (const step of path.steps) for (const name of activeStateNames(step.after)) names.add(name);
  }
  return names;
}

function takes(transition: MachineTransition, step: PlannedStep): boolean {
  if (transition.event !== step.type) return false;
  if (transition.source !== '' && !activeStateNames(step.before).includes(transition.source)) return false;
  if (transition.internal) return step.after === step.before;
  return activeStateNames(step.after).includes(transition.target);
}

/** The declared transitions no planned step takes. */
export function untakenTransitions(model: MachineModel, plan: PathPlan): MachineTransition[] {
  const steps = plan.all.flatMap((p) => p.steps);
  return machineTransitions(model.entry.machine).filter((t) => !steps.some((s) => takes(t, s)));
}

/** Asserts that the plan reaches every declared state and takes every declared transition. */
export function expectFullCoverage(model: MachineModel, plan: PathPlan): void {
  expect([...reachedStateNames(plan)].sort()).toEqual([...machineStateNames(model.entry.machine)].sort());
  expect(untakenTransitions(model, plan)).toEqual([]);
}

/** A human-readable name of a path. */
export function describePath(path: PlannedPath): string {
  if (path.steps.length === 0) return `${path.target} (initial, no events)`;
  return `${path.target} ← ${path.steps.map((s) => (s.variant === 'default' ? s.type : `${s.type}(${s.variant})`)).join(' → ')}`;
}

/** What one executed step appended. */
export interface ExecutedStep {
  readonly type: string;
  readonly variant: string;
  readonly at: number;
  readonly payload: Record<string, JsonValue>;
  readonly stateAfter: string;
}

/**
 * Runs planned steps on a stream through the engine's core loop: for each step a new
 * {@link Session} whose `now` is the step's time loads the stream, the event is materialised
 * from the stream's current context and emitted (the session checks it with the machine),
 * and `session.appends` goes to `store.appendMany` (inline projections included).
 * Returns the steps as appended and the time of the last one.
 */
export async function executeSteps(
  store: EventStore,
  model: MachineModel,
  streamId: string,
  ns: string,
  steps: readonly Pick<PlannedStep, 'type' | 'variant'>[],
  start: number,
): Promise<{ executed: ExecutedStep[]; last: number }> {
  let last = start - STEP_MS;
  const executed: ExecutedStep[] = [];
  for (const step of steps) {
    const now = last + STEP_MS;
    const probe = new Session(store, newCommandId(), now, 'path-test');
    const view = await probe.load(streamId);
    const matching = model.candidates(view.state, view.context, now, ns).filter((c) => c.type === step.type && c.variant === step.variant);
    expect(matching, `${streamId}: a ${step.type}(${step.variant}) candidate in ${view.state}`).toHaveLength(1);
    const candidate = matching[0]!;
    const at = candidate.at ?? now;
    const session = at === now ? probe : new Session(store, newCommandId(), at, 'path-test');
    if (session !== probe) await session.load(streamId);
    const after = session.emit(streamId, candidate.type, candidate.payload);
    await store.appendMany(session.appends);
    executed.push({ type: candidate.type, variant: candidate.variant, at, payload: candidate.payload, stateAfter: after.state });
    last = at;
  }
  return { executed, last };
}

/**
 * Runs steps on a stream as one command, the way the engine groups a command's events:
 * one {@link Session} at `at`, every event emitted through it, one `appendMany`.
 */
export async function executeCommand(
  store: EventStore,
  model: MachineModel,
  streamId: string,
  ns: string,
  steps: readonly Pick<PlannedStep, 'type' | 'variant'>[],
  at: number,
): Promise<ExecutedStep[]> {
  const session = new Session(store, newCommandId(), at, 'path-test');
  let view = await session.load(streamId);
  const executed: ExecutedStep[] = [];
  for (const step of steps) {
    const matching = model.candidates(view.state, view.context, at, ns).filter((c) => c.type === step.type && c.variant === step.variant);
    expect(matching, `${streamId}: a ${step.type}(${step.variant}) candidate in ${view.state}`).toHaveLength(1);
    const candidate = matching[0]!;
    expect(candidate.at ?? at, `${step.type} happens at the command's time`).toBe(at);
    view = session.emit(streamId, candidate.type, candidate.payload);
    executed.push({ type: candidate.type, variant: candidate.variant, at, payload: candidate.payload, stateAfter: view.state });
  }
  await store.appendMany(session.appends);
  return executed;
}

/**
 * Replays the stream and checks it: every step legal, no drift between the recorded and the
 * replayed states, each step landing where the plan says, and the stream ending in `target`.
 */
export async function expectReplay(store: EventStore, streamId: string, path: PlannedPath): Promise<StoredEvent[]> {
  const replay = await replayStream(store, streamId);
  expect(replay.steps.map((s) => [s.event.type, s.after])).toEqual(path.steps.map((s) => [s.type, s.after]));
  expect(replay.steps.filter((s) => !s.legal || s.drift)).toEqual([]);
  expect(replay.finalState).toBe(path.steps.length === 0 ? null : path.target);
  return replay.steps.map((s) => s.event);
}

const keyColumns = new Map<string, string>();

/** A projection table's key column: its first column (the primary key of every projection table). */
async function keyColumn(store: EventStore, table: string): Promise<string> {
  let key = keyColumns.get(table);
  if (key === undefined) {
    const meta = (await store.db.introspection.getTables()).find((t) => t.name === table);
    if (!meta) throw new Error(`no table ${table}`);
    key = meta.columns[0]!.name;
    keyColumns.set(table, key);
  }
  return key;
}

/** A projection table's rows (those with `column = value`, when given) in key order. */
export async function tableRows(
  store: EventStore,
  table: string,
  where?: { readonly column: string; readonly value: string },
): Promise<Array<Record<string, unknown>>> {
  let query = store.db.selectFrom(table).selectAll().orderBy(await keyColumn(store, table));
  if (where) query = query.where(where.column, '=', where.value);
  return query.execute();
}

/** Every projection table of the store, row for row. */
export async function projectionSnapshot(store: EventStore): Promise<Record<string, Array<Record<string, unknown>>>> {
  const snapshot: Record<string, Array<Record<string, unknown>>> = {};
  for (const projection of store.projections) {
    for (const table of projection.tables) snapshot[table] = await tableRows(store, table);
  }
  return snapshot;
}

/** Numbers as numbers (PostgreSQL returns `bigint` columns as strings). */
export function num(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/**
 * The path suite one machine's test file defines: the plan's coverage (pure), then, on every
 * store target, each executable path through the engine's core loop with its replay and
 * projection checks, and finally a rebuild of every projection compared row for row with
 * the live tables, and the hash chain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newCommandId } from '../../../src/events/ids.js';
import { rebuildAll } from '../../../src/engine/replay.js';
import { Session } from '../../../src/engine/session.js';
import { machineStateNames } from '../../../src/engine/statechart.js';
import { PROJECTIONS } from '../../../src/projections/index.js';
import type { EventStore } from '../../../src/store/event-store.js';
import { storeTargets, type TestStore } from '../../support/stores.js';
import {
  activeStateNames,
  describePath,
  executeSteps,
  expectFullCoverage,
  expectReplay,
  planPaths,
  projectionSnapshot,
  T0,
  type ExecutedStep,
  type MachineModel,
  type PlannedPath,
} from './paths.js';

/** What a path run hands to the machine's projection checks. */
export interface PathRun {
  readonly store: EventStore;
  readonly ns: string;
  readonly path: PlannedPath;
  readonly executed: readonly ExecutedStep[];
  /** What the seed appended before the path, if anything. */
  readonly seed: unknown;
}

/** One machine's path suite. */
export interface PathSuite {
  readonly model: MachineModel;
  /** The stream id of namespace `ns`. */
  streamId(ns: string): string;
  /** Appends what the path's stream needs first (another stream); returns the path's start time. */
  seed?(store: EventStore, ns: string): Promise<{ start: number; seed: unknown }>;
  /** Checks the projection rows against the path. */
  expectRows(run: PathRun): Promise<void>;
}

/** Defines the describe blocks of a machine's path suite. */
export function definePathSuite(suite: PathSuite): void {
  const { model } = suite;
  const plan = planPaths(model);
  const declared = machineStateNames(model.entry.machine);

  describe(`${model.entry.id}@${model.entry.version} path plan`, () => {
    it(`reaches every declared state (${declared.join(', ')}) and takes every declared transition`, () => {
      expectFullCoverage(model, plan);
      expect(plan.executable.length).toBeGreaterThan(0);
      console.log(
        `${model.entry.id}: ${plan.all.length} shortest paths, ${plan.executable.length} after removing prefixes, ` +
          `${plan.executable.reduce((n, p) => n + p.steps.length, 0)} events`,
      );
    });
  });

  for (const target of storeTargets()) {
    describe.skipIf(!target.available)(`${model.entry.id} paths through the engine on ${target.name}`, () => {
      let t: TestStore;
      let started = 0;
      const reached = new Set<string>();
      beforeAll(async () => {
        t = await target.open();
        for (const projection of PROJECTIONS) t.store.registerProjection(projection);
        started = performance.now();
      });
      afterAll(async () => {
        await t?.dispose();
      });

      plan.executable.forEach((path, index) => {
        it(`#${index} ${describePath(path)}`, async () => {
          const ns = `${target.name.slice(0, 2)}${index}`;
          const streamId = suite.streamId(ns);
          const seeded = suite.seed ? await suite.seed(t.store, ns) : { start: T0, seed: undefined };
          const { executed } = await executeSteps(t.store, model, streamId, ns, path.steps, seeded.start);
          expect(executed.map((s) => s.stateAfter)).toEqual(path.steps.map((s) => s.after));
          await expectReplay(t.store, streamId, path);
          for (const step of executed) for (const name of activeStateNames(step.stateAfter)) reached.add(name);
          await suite.expectRows({ store: t.store, ns, path, executed, seed: seeded.seed });
        });
      });

      it('reached every declared state through the engine; a rebuild equals the live projections; the chain verifies', async () => {
        const fresh = await new Session(t.store, newCommandId(), T0, 'path-test').load(suite.streamId('never-written'));
        expect(fresh.exists).toBe(false);
        reached.add(fresh.state);
        expect([...reached].sort()).toEqual([...declared].sort());

        const live = await projectionSnapshot(t.store);
        expect(Object.values(live).some((rows) => rows.length > 0)).toBe(true);
        const counts = await rebuildAll(t.store);
        expect(Object.keys(counts).sort()).toEqual(PROJECTIONS.map((p) => p.name).sort());
        expect(await projectionSnapshot(t.store)).toEqual(live);
        expect(await t.store.verifyChain()).toEqual([]);
        console.log(`${model.entry.id} on ${target.name}: ${plan.executable.length} paths in ${Math.round(performance.now() - started)} ms`);
      });
    });
  }
}

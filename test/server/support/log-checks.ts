/**
 * What a store must look like after any run: every stream's hash chain verifies, and
 * rebuilding each projection from the log — one by one, then all together — gives back the
 * live tables row for row.
 */
import { expect } from 'vitest';
import { rebuildAll } from '../../../src/engine/replay.js';
import { PROJECTIONS } from '../../../src/projections/index.js';
import type { EventStore } from '../../../src/store/event-store.js';
import { projectionSnapshot } from '../../machines/support/paths.js';

/** Registers flowgate's projections on a store opened by hand. */
export function withProjections(store: EventStore): EventStore {
  for (const projection of PROJECTIONS) store.registerProjection(projection);
  return store;
}

/** Chain verifies; `rebuild(name)` of each projection and `rebuildAll()` equal the live tables. Returns the live tables. */
export async function expectLogConsistent(store: EventStore): Promise<Record<string, Array<Record<string, unknown>>>> {
  expect(await store.verifyChain()).toEqual([]);
  const live = await projectionSnapshot(store);
  expect(Object.keys(live).sort()).toEqual(PROJECTIONS.flatMap((p) => p.tables).sort());
  for (const projection of PROJECTIONS) {
    await store.rebuild(projection.name);
    const rebuilt = await projectionSnapshot(store);
    for (const table of projection.tables) expect(rebuilt[table], `rebuild(${projection.name}) changed ${table}`).toEqual(live[table]);
  }
  const counts = await rebuildAll(store);
  expect(Object.keys(counts).sort()).toEqual(PROJECTIONS.map((p) => p.name).sort());
  expect(await projectionSnapshot(store)).toEqual(live);
  return live;
}

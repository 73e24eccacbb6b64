/**
 * The path a stream took through its machine's statechart (docs/replay.md, "Reports"):
 * which declared states it visited, which declared transitions it took and how often, and
 * where it is now. Each replayed step is matched to the transition the machine declares
 * for it (src/engine/statechart.ts), the deepest source state first, as statecharts select
 * transitions (SCXML §3.13, which XState follows).
 *
 * @module
 */
import type { MachineTransition } from '../../engine/statechart.js';
import type { Timeline } from '../../replay/timeline.js';

/** Where a stream went. */
export interface TakenPath {
  /** Declared states visited (dotted paths, parents of visited children included). */
  readonly visited: ReadonlySet<string>;
  /** The state now (and its parents), or empty when unknown. */
  readonly current: ReadonlySet<string>;
  /** Index in the transition list → how many times it was taken. */
  readonly taken: ReadonlyMap<number, number>;
  /** Steps no declared transition explains (refused or drifted events), by stream version. */
  readonly unmatched: readonly number[];
}

function withParents(state: string): string[] {
  const parts = state.split('.');
  return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
}

function within(state: string, ancestor: string): boolean {
  return state === ancestor || state.startsWith(`${ancestor}.`);
}

function depth(path: string): number {
  return path === '' ? 0 : path.split('.').length;
}

/** Matches a timeline's steps to the machine's declared transitions. */
export function takenPath(timeline: Timeline, transitions: readonly MachineTransition[]): TakenPath {
  const visited = new Set<string>();
  const taken = new Map<number, number>();
  const unmatched: number[] = [];
  const byEvent = new Map<string, Array<{ t: MachineTransition; index: number }>>();
  transitions.forEach((t, index) => byEvent.set(t.event, [...(byEvent.get(t.event) ?? []), { t, index }]));
  for (const entry of timeline.entries) {
    for (const s of withParents(entry.before)) visited.add(s);
    if (entry.after === null || !entry.legal) {
      unmatched.push(entry.version);
      continue;
    }
    for (const s of withParents(entry.after)) visited.add(s);
    const after = entry.after;
    const match = (byEvent.get(entry.type) ?? [])
      .filter(({ t }) => within(entry.before, t.source) && (t.internal ? after === entry.before : within(after, t.target)))
      .sort((a, b) => depth(b.t.source) - depth(a.t.source) || a.index - b.index)[0];
    if (!match) unmatched.push(entry.version);
    else taken.set(match.index, (taken.get(match.index) ?? 0) + 1);
  }
  const current = new Set(timeline.finalState ? withParents(timeline.finalState) : []);
  return { visited, current, taken, unmatched };
}

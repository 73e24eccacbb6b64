/**
 * The report's statechart is drawn from the machine definition (src/audit/report/
 * statechart-svg.ts), so a new machine version redraws itself: every declared state and
 * transition of every shipped machine is in its SVG, a toy machine's second version shows
 * the state it adds, and the path marks (src/audit/report/path.ts) go exactly on the
 * states and transitions a timeline went through.
 */
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { MACHINES } from '../../machines/registry.js';
import { takenPath } from '../../src/audit/report/path.js';
import { statechartSvg } from '../../src/audit/report/statechart-svg.js';
import { machineStateNames, machineTransitions } from '../../src/engine/statechart.js';
import type { Timeline, TimelineEntry } from '../../src/replay/timeline.js';

/** `<g id=… class=…>` of an SVG: id → classes. */
function groups(svg: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of svg.matchAll(/<g id="([^"]+)" class="([^"]*)"/g)) out.set(m[1]!.replace(/&#45;/g, '-'), m[2]!.split(/\s+/));
  return out;
}

function toy(withPause: boolean) {
  return setup({}).createMachine({
    id: 'toy',
    initial: 'idle',
    states: {
      idle: { on: { 'toy.started': 'running' } },
      running: {
        initial: 'fast',
        states: { fast: { on: { 'toy.slowed': 'slow' } }, slow: {} },
        on: { 'toy.stopped': 'stopped', ...(withPause ? { 'toy.paused': 'paused' } : {}) },
      },
      ...(withPause ? { paused: { on: { 'toy.resumed': 'running' } } } : {}),
      stopped: { type: 'final' },
    },
  });
}

function entry(version: number, type: string, before: string, after: string | null): TimelineEntry {
  return { position: version, version, at: version, type, before, after, legal: after !== null, drift: false, commandId: null, fields: { plain: {}, secret: [], personal: {} } };
}

describe('statechart SVG from the machine definition', () => {
  for (const { id, version, machine } of MACHINES) {
    it(`draws every state and transition of ${id} v${version}`, async () => {
      const g = groups(await statechartSvg(machine));
      for (const state of machineStateNames(machine)) expect(g.has(`state-${state}`), state).toBe(true);
      const drawn = machineTransitions(machine).filter((t, i) => g.has(`t-${i}`));
      // Context-only transitions of a compound state are listed in its label instead.
      const inLabel = machineTransitions(machine).filter((t) => t.internal && machineStateNames(machine).some((s) => s.startsWith(`${t.source}.`)));
      expect(drawn.length + inLabel.length).toBe(machineTransitions(machine).filter((t) => t.source !== '').length);
    });
  }

  it('redraws itself for a new machine version', async () => {
    const v1 = groups(await statechartSvg(toy(false)));
    const v2 = groups(await statechartSvg(toy(true)));
    expect([...v1.keys()].filter((k) => k.startsWith('state-')).sort()).toEqual(
      ['state-__start', 'state-idle', 'state-running', 'state-running.fast', 'state-running.slow', 'state-stopped'].sort(),
    );
    expect(v2.has('state-paused')).toBe(true);
    expect(v1.has('state-paused')).toBe(false);
    const svg2 = await statechartSvg(toy(true));
    expect(svg2).toContain('toy.paused');
    expect(svg2).toContain('toy.resumed');
    expect(v2.get('state-running')).toContain('compound');
    expect(v2.get('state-stopped')).toContain('final');
  });

  it('marks exactly the visited states, the current one and the transitions taken', async () => {
    const machine = toy(true);
    const timeline: Timeline = {
      streamId: 'toy:1',
      machine: { id: 'toy', version: '1' },
      finalState: 'running.slow',
      checkpoint: null,
      entries: [entry(1, 'toy.started', 'idle', 'running.fast'), entry(2, 'toy.slowed', 'running.fast', 'running.slow'), entry(3, 'toy.exploded', 'running.slow', null)],
    };
    const path = takenPath(timeline, machineTransitions(machine));
    expect([...path.visited].sort()).toEqual(['idle', 'running', 'running.fast', 'running.slow']);
    expect([...path.current].sort()).toEqual(['running', 'running.slow']);
    expect(path.unmatched).toEqual([3]);
    const g = groups(await statechartSvg(machine, path));
    const marked = (mark: string) => [...g].filter(([, classes]) => classes.includes(mark)).map(([id]) => id).sort();
    expect(marked('visited')).toEqual(['state-idle', 'state-running', 'state-running.fast', 'state-running.slow']);
    expect(marked('current')).toEqual(['state-running', 'state-running.slow']);
    const transitions = machineTransitions(machine);
    const taken = marked('taken').map((id) => transitions[Number(id.slice('t-'.length))]!);
    expect(taken.map((t) => `${t.source} -${t.event}-> ${t.target}`).sort()).toEqual(['idle -toy.started-> running', 'running.fast -toy.slowed-> running.slow']);
  });
});

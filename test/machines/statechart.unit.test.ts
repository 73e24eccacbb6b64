/**
 * src/engine/statechart.ts: Mermaid diagrams and state/transition lists derived from machine
 * definitions.
 */
import { setup } from 'xstate';
import { describe, expect, it } from 'vitest';
import { tokenGrantMachine } from '../../machines/token-grant.js';
import { machineStateNames, machineTransitions, toMermaid } from '../../src/engine/statechart.js';

describe('statechart', () => {
  it('lists declared states as dotted paths, compound states included', () => {
    expect(machineStateNames(tokenGrantMachine)).toEqual([
      'new',
      'live',
      'live.idle',
      'live.refreshing',
      'reuse_detected',
      'revoked',
      'expired',
    ]);
  });

  it('lists transitions with their guard, marking targetless ones internal', () => {
    const transitions = machineTransitions(tokenGrantMachine);
    expect(transitions).toContainEqual({ source: 'live', target: 'live', event: 'access_token.issued', guard: 'canIssue', internal: true });
    expect(transitions).toContainEqual({
      source: 'live.refreshing',
      target: 'live.refreshing',
      event: 'upstream.refresh_requested',
      guard: 'leaseExpired',
      internal: false,
    });
    expect(transitions).toContainEqual({ source: 'reuse_detected', target: 'revoked', event: 'grant.revoked', guard: null, internal: false });
  });

  it('draws nested states, initial and final states, and labels transitions with event and guard', () => {
    const diagram = toMermaid(tokenGrantMachine);
    const lines = diagram.trimEnd().split('\n');
    expect(lines[0]).toBe('stateDiagram-v2');
    expect(lines[1]).toBe('  [*] --> new');
    expect(diagram).toContain('  state live {\n    [*] --> idle\n');
    expect(diagram).toContain('    refreshing --> idle : upstream.refreshed [ownsLease]\n');
    expect(diagram).toContain('  new --> live : grant.created\n');
    expect(diagram).toContain('  live --> revoked : grant.revoked\n');
    expect(diagram).toContain('  revoked --> [*]\n');
    expect(diagram).toContain('  expired --> [*]\n');
    expect(diagram).not.toContain('reuse_detected --> [*]');
  });

  it('gives clashing or reserved state names distinct ids with their names as labels', () => {
    const machine = setup({ guards: { ok: () => true } }).createMachine({
      id: 'clash',
      initial: 'a',
      states: {
        a: { initial: 'idle', states: { idle: { on: { GO: { target: '#clash.b.idle', guard: 'ok' } } } } },
        b: { initial: 'idle', states: { idle: { type: 'final' } } },
        end: { type: 'final' },
      },
    });
    const diagram = toMermaid(machine);
    expect(diagram).toContain('state "idle" as s_a_idle');
    expect(diagram).toContain('\n  s_a_idle --> s_b_idle : GO [ok]\n'); // after the blocks, not inside `a`
    expect(diagram).toContain('state "end" as s_end');
    expect(diagram).toContain('s_b_idle --> [*]');
  });
});

describe('statechart of a machine-level transition', () => {
  it('draws it from every top-level state that is not final', () => {
    const machine = setup({}).createMachine({
      id: 'root',
      initial: 'a',
      on: { RESET: '.a', PING: {} },
      states: { a: { on: { NEXT: 'b' } }, b: {}, done: { type: 'final' } },
    });
    const diagram = toMermaid(machine);
    expect(diagram).toContain('  a --> a : RESET\n  b --> a : RESET\n');
    expect(diagram).toContain('  a --> a : PING\n  b --> b : PING\n');
    expect(diagram).not.toContain('done --> a');
    expect(machineTransitions(machine)).toContainEqual({ source: '', target: 'a', event: 'RESET', guard: null, internal: false });
  });
});

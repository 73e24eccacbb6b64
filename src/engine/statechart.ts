/**
 * Statecharts derived from the machine definitions themselves (never drawn by hand): the
 * state names a machine declares, its transitions, and a Mermaid `stateDiagram-v2` of it.
 * docs/models.md is generated from these, and the machine path tests use
 * {@link machineStateNames} and {@link machineTransitions} to know what they must cover.
 *
 * @module
 */
import type { AnyStateMachine } from 'xstate';
import { getStateNodes, toDirectedGraph } from 'xstate/graph';

/** One transition of a machine, as declared. */
export interface MachineTransition {
  /** The declaring state, as a dotted path (`live`, `live.idle`; `''` for the machine itself). */
  readonly source: string;
  /** The target state's dotted path; equals `source` for a targetless (internal) transition. */
  readonly target: string;
  /** The event type that triggers it. */
  readonly event: string;
  /** The guard's name, or null when unguarded. */
  readonly guard: string | null;
  /** True when the transition has no target (it only runs actions; the state stays). */
  readonly internal: boolean;
}

type DirectedNode = ReturnType<typeof toDirectedGraph>;
type StateNodeLike = DirectedNode['stateNode'];

function pathOf(node: StateNodeLike): string {
  return node.path.join('.');
}

function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') return guard.name || 'inline';
  if (typeof guard === 'object' && 'type' in guard && typeof (guard as { type: unknown }).type === 'string') {
    return (guard as { type: string }).type;
  }
  return 'inline';
}

function walk(node: DirectedNode, visit: (node: DirectedNode) => void): void {
  visit(node);
  for (const child of node.children) walk(child, visit);
}

/**
 * Every state a machine declares, as dotted paths in declaration order, compound states
 * included (`new`, `live`, `live.idle`, `live.refreshing`, …).
 */
export function machineStateNames(machine: AnyStateMachine): string[] {
  return getStateNodes(machine).map(pathOf);
}

/** Every transition a machine declares, in declaration order (from `toDirectedGraph`). */
export function machineTransitions(machine: AnyStateMachine): MachineTransition[] {
  const transitions: MachineTransition[] = [];
  walk(toDirectedGraph(machine), (node) => {
    for (const edge of node.edges) {
      const internal = edge.transition.target === undefined;
      transitions.push({
        source: pathOf(edge.source),
        target: pathOf(edge.target),
        event: edge.label.text,
        guard: guardName(edge.transition.guard),
        internal,
      });
    }
  });
  return transitions;
}

/** Mermaid words that cannot be state ids. */
const RESERVED = new Set(['state', 'note', 'direction', 'end', 'class', 'classDef', 'style', 'click']);

/**
 * A Mermaid `stateDiagram-v2` of the machine: `[*] -->` its initial state (and each
 * compound state's initial child), compound states as nested blocks, every final state
 * `--> [*]`, and every transition labelled with its event type and, when guarded, the
 * guard's name in brackets. A targetless transition is drawn as a self-loop; a transition
 * declared on the machine itself is drawn from each top-level state that is not final; a
 * transition between states of different parents is drawn after the blocks.
 */
export function toMermaid(machine: AnyStateMachine): string {
  const root = toDirectedGraph(machine);
  const nodes = getStateNodes(machine);
  const keyCount = new Map<string, number>();
  for (const node of nodes) keyCount.set(node.key, (keyCount.get(node.key) ?? 0) + 1);
  const idOf = (node: StateNodeLike): string => {
    const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(node.key) && !RESERVED.has(node.key) && keyCount.get(node.key) === 1;
    return plain ? node.key : `s_${node.path.join('_').replace(/[^A-Za-z0-9_]/g, '_')}`;
  };

  const lines: string[] = ['stateDiagram-v2'];
  const crossing: string[] = [];
  const labelOf = (edge: DirectedNode['edges'][number]): string => {
    const guard = guardName(edge.transition.guard);
    return guard === null ? edge.label.text : `${edge.label.text} [${guard}]`;
  };
  const emit = (node: DirectedNode, indent: string): void => {
    const state = node.stateNode;
    const children = node.children;
    if (state.initial) {
      for (const target of state.initial.target) lines.push(`${indent}[*] --> ${idOf(target)}`);
    }
    for (const child of children) {
      const id = idOf(child.stateNode);
      if (id !== child.stateNode.key) lines.push(`${indent}state "${child.stateNode.key}" as ${id}`);
      if (child.children.length > 0) {
        lines.push(`${indent}state ${id} {`);
        emit(child, `${indent}  `);
        lines.push(`${indent}}`);
      }
    }
    for (const child of children) {
      const id = idOf(child.stateNode);
      for (const edge of child.edges) {
        const line = `${id} --> ${idOf(edge.target)} : ${labelOf(edge)}`;
        // Inside a block only between siblings; Mermaid would otherwise create a new inner state.
        if (edge.target.parent === child.stateNode.parent || edge.target === child.stateNode) lines.push(`${indent}${line}`);
        else crossing.push(`  ${line}`);
      }
      if (child.stateNode.type === 'final') lines.push(`${indent}${id} --> [*]`);
    }
  };
  emit(root, '  ');
  for (const edge of root.edges) {
    for (const child of root.children) {
      if (child.stateNode.type === 'final') continue;
      const target = edge.transition.target === undefined ? child.stateNode : edge.target;
      lines.push(`  ${idOf(child.stateNode)} --> ${idOf(target)} : ${labelOf(edge)}`);
    }
  }
  lines.push(...crossing);
  return `${lines.join('\n')}\n`;
}

/**
 * A machine's statechart as SVG, generated from the machine definition itself (so a new
 * machine version redraws itself): states and transitions from src/engine/statechart.ts
 * and xstate/graph, laid out by Graphviz (`dot`, through the WebAssembly build in
 * `@viz-js/viz`), with a stream's path marked by classes the report's CSS colours:
 * `visited` and `current` on states (`g.node` or, for a compound state, `g.cluster`, with
 * id `state-<path>`), `taken` on transitions (`g.edge`, id `t-<index>`).
 *
 * A transition that only updates a compound state's context (it declares no target) is
 * listed in the compound state's label, since Graphviz cannot loop an edge on a cluster.
 *
 * @module
 */
import type { Viz } from '@viz-js/viz';
import type { AnyStateMachine } from 'xstate';
import { getStateNodes } from 'xstate/graph';
import { machineTransitions, type MachineTransition } from '../../engine/statechart.js';
import type { TakenPath } from './path.js';

let viz: Promise<Viz> | undefined;

/** Graphviz, loaded once per process and only when a chart is drawn (the module is large). */
function graphviz(): Promise<Viz> {
  viz ??= import('@viz-js/viz').then((m) => m.instance());
  return viz;
}

/** A DOT string literal. */
function q(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function attrs(values: Record<string, string | number | undefined>): string {
  const parts = Object.entries(values)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${typeof v === 'number' ? v : q(v!)}`);
  return parts.length ? ` [${parts.join(', ')}]` : '';
}

type StateNodeLike = ReturnType<typeof getStateNodes>[number];

const pathOf = (node: { path: readonly string[] }) => node.path.join('.');

/** The initial leaf of a state (itself when atomic). */
function initialLeaf(node: StateNodeLike): StateNodeLike {
  let current = node;
  while (current.type === 'compound' && current.initial?.target[0]) current = current.initial.target[0] as StateNodeLike;
  return current;
}

function label(t: MachineTransition, count: number | undefined): string {
  const base = t.guard ? `${t.event} [${t.guard}]` : t.event;
  return count ? `${base} ×${count}` : base;
}

/** The DOT source of a machine's statechart with `path` marked (no path: nothing marked). */
export function statechartDot(machine: AnyStateMachine, path?: TakenPath): string {
  const nodes = getStateNodes(machine) as StateNodeLike[];
  const byPath = new Map(nodes.map((n) => [pathOf(n), n]));
  const transitions = machineTransitions(machine);
  const classes = (p: string, extra: string[] = []) =>
    ['state', ...extra, path?.visited.has(p) ? 'visited' : '', path?.current.has(p) ? 'current' : ''].filter(Boolean).join(' ');
  const lines: string[] = [
    `digraph ${q(machine.id)} {`,
    '  graph [rankdir=TB, compound=true, nodesep=0.35, ranksep=0.4, fontname="Helvetica,Arial,sans-serif", fontsize=11, bgcolor="transparent"];',
    '  node [shape=box, style="rounded", fontname="Helvetica,Arial,sans-serif", fontsize=11, height=0.3, margin="0.12,0.04"];',
    '  edge [fontname="Helvetica,Arial,sans-serif", fontsize=9, arrowsize=0.6];',
  ];
  const emit = (children: StateNodeLike[], indent: string) => {
    for (const child of children) {
      const p = pathOf(child);
      if (child.type === 'compound' || child.type === 'parallel') {
        const internal = transitions
          .map((t, index) => ({ t, index }))
          .filter(({ t }) => t.internal && t.source === p)
          .map(({ t, index }) => `${path?.taken.has(index) ? '✓ ' : ''}${label(t, path?.taken.get(index))} (stays)`);
        lines.push(`${indent}subgraph ${q(`cluster_${p}`)} {`);
        lines.push(`${indent}  graph${attrs({ label: [child.key, ...internal].join('\n'), id: `state-${p}`, class: classes(p, ['compound']), labeljust: 'l' })};`);
        emit(Object.values(child.states) as StateNodeLike[], `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        lines.push(
          `${indent}${q(p)}${attrs({ label: child.key, id: `state-${p}`, class: classes(p, child.type === 'final' ? ['final'] : []), peripheries: child.type === 'final' ? 2 : undefined })};`,
        );
      }
    }
  };
  const roots = Object.values(machine.root.states) as StateNodeLike[];
  const start = machine.root.initial?.target[0] as StateNodeLike | undefined;
  if (start) {
    lines.push(`  "__start"${attrs({ shape: 'point', width: 0.12, label: '', id: 'state-__start', class: 'start' })};`);
    lines.push(`  "__start" -> ${q(pathOf(initialLeaf(start)))}${attrs({ lhead: start.type === 'compound' ? `cluster_${pathOf(start)}` : undefined, class: 'transition start' })};`);
  }
  emit(roots, '  ');
  transitions.forEach((t, index) => {
    const source = byPath.get(t.source);
    const target = byPath.get(t.target);
    if (!source || !target || t.source === '') return;
    if (t.internal && (source.type === 'compound' || source.type === 'parallel')) return;
    const from = initialLeaf(source);
    const to = initialLeaf(target);
    const count = path?.taken.get(index);
    lines.push(
      `  ${q(pathOf(from))} -> ${q(pathOf(to))}${attrs({
        label: label(t, count),
        id: `t-${index}`,
        class: ['transition', count ? 'taken' : ''].filter(Boolean).join(' '),
        ltail: from !== source ? `cluster_${t.source}` : undefined,
        lhead: to !== target && t.source !== t.target ? `cluster_${t.target}` : undefined,
      })};`,
    );
  });
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** The statechart as an SVG element (no XML prolog, no comments), ready to inline in HTML. */
export async function statechartSvg(machine: AnyStateMachine, path?: TakenPath): Promise<string> {
  const svg = (await graphviz()).renderString(statechartDot(machine, path), { format: 'svg' });
  return svg
    .replace(/^[\s\S]*?(?=<svg)/, '')
    .replace(/<!--[\s\S]*?-->\n?/g, '')
    .trim();
}

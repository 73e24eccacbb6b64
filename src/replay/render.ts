/**
 * A timeline for people (aligned text, one line per event) and for scripts (JSON), as
 * `flowgate replay` prints it (docs/replay.md).
 *
 * @module
 */
import type { JsonValue } from '../events/canonical-json.js';
import { personalText, type EventFields } from './fields.js';
import type { Timeline, TimelineEntry } from './timeline.js';

/** Payload fields not worth a column: the stream already names them. */
const REDUNDANT = new Set(['flowId']);

function short(text: string, keep = 12): string {
  return text.length <= keep + 1 ? text : `${text.slice(0, keep)}…`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function plainText(key: string, value: JsonValue): string {
  if (value === null) return 'null';
  if (/(Hash|Ref|Challenge)$/.test(key) && typeof value === 'string') return short(value);
  if (/(At|Until)$/.test(key) && typeof value === 'number') return iso(value);
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** An event's fields as `name=value` pairs: plain ones, then personal ones, then the sealed secrets by name. */
export function fieldsText(fields: EventFields): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields.plain)) {
    if (!REDUNDANT.has(key)) parts.push(`${key}=${plainText(key, value)}`);
  }
  for (const [key, value] of Object.entries(fields.personal)) parts.push(`${key}=${personalText(value)}`);
  for (const key of fields.secret) parts.push(`${key.replace(/Sealed$/, '')}=(sealed)`);
  return parts.join(' ');
}

/** The state change of an entry: `before → after`, with a mark when the machine disagrees. */
export function transitionText(entry: TimelineEntry): string {
  const arrow = `${entry.before} → ${entry.after ?? '(refused)'}`;
  if (!entry.legal) return `${arrow} ✗ illegal`;
  if (entry.drift) return `${arrow} ≠ recorded`;
  return arrow;
}

/** The timeline as aligned text: a title line, then one line per event. */
export function timelineText(timeline: Timeline): string {
  const machine = timeline.machine ? `${timeline.machine.id} v${timeline.machine.version}` : 'unknown machine';
  const n = timeline.entries.length;
  const lines = [`${timeline.streamId}  ${machine}, ${n} event${n === 1 ? '' : 's'}, now ${timeline.finalState ?? 'unknown'}`];
  if (timeline.checkpoint) {
    lines.push(`  (versions 1–${timeline.checkpoint.throughVersion} were pruned on ${iso(timeline.checkpoint.createdAt)}; states are as recorded)`);
  }
  const rows = timeline.entries.map((e) => [iso(e.at), String(e.version), e.type, transitionText(e), fieldsText(e.fields)]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) {
    lines.push(row.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd());
  }
  return lines.join('\n');
}

/** The timeline as JSON: full values, ISO times, personal fields with their status. */
export function timelineJson(timeline: Timeline): Record<string, unknown> {
  return {
    streamId: timeline.streamId,
    machine: timeline.machine,
    finalState: timeline.finalState,
    checkpoint: timeline.checkpoint && { throughVersion: timeline.checkpoint.throughVersion, createdAt: iso(timeline.checkpoint.createdAt) },
    events: timeline.entries.map((e) => ({
      position: e.position,
      version: e.version,
      at: iso(e.at),
      type: e.type,
      before: e.before,
      after: e.after,
      legal: e.legal,
      drift: e.drift,
      commandId: e.commandId,
      fields: e.fields.plain,
      personal: e.fields.personal,
      sealed: e.fields.secret,
    })),
  };
}

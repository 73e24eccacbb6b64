/**
 * A flow's timeline, straight from the event log: the flow's and the grant's streams
 * replayed through their machines (`replayStream`), one row per event with its time, type,
 * the state before → after, and the fields worth reading. Sealed values never appear;
 * hashes, pseudonyms and ids are shortened; deadlines are shown relative to the event.
 *
 * @module
 */
import { replayStream, type ReplayResult } from '../../engine/replay.js';
import type { EventStore } from '../../store/event-store.js';
import { esc } from './html.js';

/** One row of a timeline. */
export interface TimelineRow {
  readonly version: number;
  readonly at: number;
  readonly type: string;
  readonly before: string;
  readonly after: string | null;
  readonly legal: boolean;
  readonly drift: boolean;
  readonly fields: ReadonlyArray<readonly [string, string]>;
}

/** One replayed stream as rows. */
export interface Timeline {
  readonly streamId: string;
  readonly machine: string | null;
  readonly finalState: string | null;
  readonly rows: readonly TimelineRow[];
}

const SKIPPED = new Set(['type', 'at', 'flowId', 'grantId']);

function short(value: string, keep = 10): string {
  return value.length <= keep + 1 ? value : `${value.slice(0, keep)}…`;
}

function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (Math.abs(seconds) < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (Math.abs(minutes) < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return Math.abs(hours) < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}

/** The readable, non-secret fields of an event payload. */
export function eventFields(data: unknown, at: number): Array<[string, string]> {
  if (typeof data !== 'object' || data === null) return [];
  const fields: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (SKIPPED.has(key) || /Sealed$/.test(key) || value === null || value === undefined) continue;
    let text: string;
    if (/(Hash|Ref|Challenge)$/.test(key) || key === 'jti' || key === 'requestId') text = short(String(value));
    else if (/(At|Until)$/.test(key) && typeof value === 'number') text = `+${duration(value - at)}`;
    else if (/Ms$/.test(key) && typeof value === 'number') text = duration(value);
    else if (Array.isArray(value)) text = value.length ? value.join(' ') : '(none)';
    else if (typeof value === 'object') text = short(JSON.stringify(value), 60);
    else text = String(value);
    fields.push([key, text]);
  }
  return fields;
}

function toTimeline(result: ReplayResult): Timeline {
  return {
    streamId: result.streamId,
    machine: result.machine ? `${result.machine.id} v${result.machine.version}` : null,
    finalState: result.finalState,
    rows: result.steps.map((step) => ({
      version: step.event.streamVersion,
      at: step.event.occurredAt,
      type: step.event.type,
      before: step.before,
      after: step.after,
      legal: step.legal,
      drift: step.drift,
      fields: eventFields(step.event.data, step.event.occurredAt),
    })),
  };
}

/** Replays one stream into a timeline. */
export async function readTimeline(store: EventStore, streamId: string): Promise<Timeline> {
  return toTimeline(await replayStream(store, streamId));
}

function clockTime(at: number): string {
  return new Date(at).toISOString().slice(11, 23);
}

/**
 * A timeline as an HTML table. Times are UTC and relative to `origin` (the flow's first
 * event); rows after `newAfterVersion` are marked new.
 */
export function timelineTable(timeline: Timeline, origin: number, newAfterVersion?: number): string {
  if (timeline.rows.length === 0) return '<p class="muted">No events yet.</p>';
  const rows = timeline.rows
    .map((row) => {
      const isNew = newAfterVersion !== undefined && row.version > newAfterVersion;
      const check = !row.legal
        ? ' <span class="bad" title="the machine refuses this event in this state">✗ illegal</span>'
        : row.drift
          ? ' <span class="bad" title="the recorded states differ from the replayed ones">≠ drift</span>'
          : '';
      const fields = row.fields.map(([k, v]) => `<code>${esc(k)}</code>&nbsp;${esc(v)}`).join('<br>');
      return `<tr${isNew ? ' class="new"' : ''}>
<td class="nowrap">${esc(clockTime(row.at))}<br><span class="muted">+${esc(row.at - origin)} ms</span></td>
<td class="nowrap"><strong>${esc(row.type)}</strong>${isNew ? '<span class="tag">new</span>' : ''}</td>
<td class="nowrap">${esc(row.before)} → ${esc(row.after ?? '(refused)')}${check}</td>
<td>${fields}</td>
</tr>`;
    })
    .join('\n');
  return `<table>
<thead><tr><th class="nowrap">time (UTC)</th><th>event</th><th>state before → after</th><th>fields</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

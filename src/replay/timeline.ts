/**
 * A stream's timeline for `flowgate replay` and `flowgate report` (docs/replay.md): its
 * events re-folded through the machine version the stream was written with
 * (src/engine/replay.ts), one entry per event with its time, type, the state before and
 * after, whether the machine accepts it there, whether the recorded states agree, and its
 * fields sorted into plain, secret (named only) and personal (opened or erased).
 *
 * @module
 */
import type { Vault } from '../crypto/vault.js';
import { replayEvents } from '../engine/replay.js';
import { FlowgateError } from '../errors/flowgate-error.js';
import type { EventStore } from '../store/event-store.js';
import type { StoredEvent } from '../store/types.js';
import { eventFields, PersonalOpener, type EventFields } from './fields.js';

/** One event of a timeline. */
export interface TimelineEntry {
  readonly position: number;
  readonly version: number;
  readonly at: number;
  readonly type: string;
  readonly before: string;
  /** The state after, or null when the machine refuses the event in `before`. */
  readonly after: string | null;
  readonly legal: boolean;
  /** True when the states the engine recorded differ from the re-folded ones. */
  readonly drift: boolean;
  readonly commandId: string | null;
  readonly fields: EventFields;
}

/** A stream's timeline. */
export interface Timeline {
  readonly streamId: string;
  readonly machine: { readonly id: string; readonly version: string } | null;
  readonly finalState: string | null;
  readonly entries: readonly TimelineEntry[];
  /** Set when earlier events were removed by retention (their states are then unknown). */
  readonly checkpoint: { readonly throughVersion: number; readonly createdAt: number } | null;
}

/** No such stream in the log. */
export class StreamNotFoundError extends FlowgateError {
  constructor(streamId: string, pruned?: { createdAt: number; throughVersion: number }) {
    super(
      pruned ? 'ERR_STREAM_PRUNED' : 'ERR_STREAM_NOT_FOUND',
      pruned
        ? `${streamId} was pruned on ${new Date(pruned.createdAt).toISOString()} (versions 1–${pruned.throughVersion} are in a retention archive; see flowgate verify-archive)`
        : `no stream ${JSON.stringify(streamId)} in the log (stream ids look like flow:<id>, grant:<id>, client:<id>; see flowgate flows)`,
    );
  }
}

/** Builds the timeline of already-read events (stream order). */
export async function timelineOf(
  streamId: string,
  events: readonly StoredEvent[],
  options: { readonly opener?: PersonalOpener; readonly checkpoint?: Timeline['checkpoint'] } = {},
): Promise<Timeline> {
  const checkpoint = options.checkpoint ?? null;
  const entries: TimelineEntry[] = [];
  if (checkpoint) {
    // The machine cannot be re-folded from the middle: show the recorded states.
    for (const event of events) {
      const m = event.metadata.machine as { from?: unknown; to?: unknown } | undefined;
      entries.push(await entryOf(event, String(m?.from ?? '?'), typeof m?.to === 'string' ? m.to : null, true, false, options.opener));
    }
    const last = entries.at(-1);
    return { streamId, machine: machineOf(events[0]), finalState: last?.after ?? null, entries, checkpoint };
  }
  const replay = replayEvents(streamId, events);
  for (const step of replay.steps) {
    entries.push(await entryOf(step.event, step.before, step.after, step.legal, step.drift, options.opener));
  }
  return { streamId, machine: replay.machine, finalState: replay.finalState, entries, checkpoint: null };
}

function machineOf(event: StoredEvent | undefined): Timeline['machine'] {
  const m = event?.metadata.machine as { id?: unknown; version?: unknown } | undefined;
  return typeof m?.id === 'string' && typeof m.version === 'string' ? { id: m.id, version: m.version } : null;
}

async function entryOf(
  event: StoredEvent,
  before: string,
  after: string | null,
  legal: boolean,
  drift: boolean,
  opener: PersonalOpener | undefined,
): Promise<TimelineEntry> {
  const commandId = event.metadata.commandId;
  return {
    position: event.globalPosition,
    version: event.streamVersion,
    at: event.occurredAt,
    type: event.type,
    before,
    after,
    legal,
    drift,
    commandId: typeof commandId === 'string' ? commandId : null,
    fields: await eventFields(event.data, opener),
  };
}

/** Reads one stream and builds its timeline; {@link StreamNotFoundError} when it has no events. */
export async function readTimeline(store: EventStore, streamId: string, options: { readonly vault?: Vault } = {}): Promise<Timeline> {
  const events = await store.readStream(streamId);
  const row = await store.db
    .selectFrom('stream_checkpoints')
    .select(['through_version', 'created_at'])
    .where('stream_id', '=', streamId)
    .executeTakeFirst();
  const checkpoint = row ? { throughVersion: Number(row.through_version), createdAt: Number(row.created_at) } : null;
  if (events.length === 0) throw new StreamNotFoundError(streamId, checkpoint ?? undefined);
  return timelineOf(streamId, events, { ...(options.vault ? { opener: new PersonalOpener(options.vault, store.db) } : {}), checkpoint });
}

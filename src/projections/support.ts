/**
 * Small helpers the projections share.
 *
 * @module
 */
import type { StoredEvent } from '../store/types.js';

/** The machine state an event led to (recorded in its metadata by the engine). */
export function stateAfter(event: StoredEvent): string {
  const machine = event.metadata.machine as { to?: unknown } | undefined;
  return typeof machine?.to === 'string' ? machine.to : 'unknown';
}

/** The id part of a stream id (`flow:abc` → `abc`). */
export function streamEntityId(event: StoredEvent): string {
  return event.streamId.slice(event.streamId.indexOf(':') + 1);
}

/** An event's payload, typed as the caller expects. */
export function payload<T>(event: StoredEvent): T {
  return event.data as unknown as T;
}

/** A JSON array column's text. */
export function listColumn(values: readonly string[]): string {
  return JSON.stringify(values);
}

/** A JSON array column parsed. */
export function parseList(text: string): string[] {
  return JSON.parse(text) as string[];
}

/**
 * Turns an event to append into the row the log stores: canonical JSON texts, payload
 * hash, chain hash.
 *
 * @module
 */
import { canonicalJson } from '../events/canonical-json.js';
import { canonicalEnvelope, chainHash, payloadHashOfCanonical } from './hash-chain.js';
import type { EventsTable } from './schema.js';
import type { NewEvent } from './types.js';

/** A row of the events table as read back (positions as numbers). */
export type EventRow = Omit<EventsTable, 'global_position'> & { global_position: number };

/**
 * The row of one event about to be appended: its canonical texts and its chain hashes
 * (docs/store.md, "Hash chain").
 */
export function sealEvent(
  streamId: string,
  streamVersion: number,
  prevHash: string,
  event: NewEvent,
): Omit<EventRow, 'global_position'> {
  const data = canonicalJson(event.data);
  const metadata = event.metadata ?? {};
  const schemaVersion = event.schemaVersion ?? 1;
  const payloadHash = payloadHashOfCanonical(data);
  const envelope = canonicalEnvelope({
    eventId: event.eventId,
    streamId,
    streamVersion,
    type: event.type,
    schemaVersion,
    occurredAt: event.occurredAt,
    metadata,
  });
  return {
    event_id: event.eventId,
    stream_id: streamId,
    stream_version: streamVersion,
    type: event.type,
    schema_version: schemaVersion,
    data,
    metadata: canonicalJson(metadata),
    occurred_at: event.occurredAt,
    payload_hash: payloadHash,
    prev_hash: prevHash,
    hash: chainHash(prevHash, envelope, payloadHash),
  };
}


/**
 * The tables the store owns, as kysely sees them. Projection tables are declared by their
 * projections and merged into {@link Database} by the engine.
 *
 * @module
 */
import type { Generated } from 'kysely';

/** One row of the append-only event log (docs/store.md). */
export interface EventsTable {
  global_position: Generated<number>;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  /** Canonical JSON (RFC 8785) of the payload: exactly the bytes `payload_hash` covers. */
  data: string;
  /** Canonical JSON of the metadata (never personal data or secrets). */
  metadata: string;
  /** Milliseconds since the epoch, from the command's injected clock. */
  occurred_at: number;
  payload_hash: string;
  prev_hash: string;
  hash: string;
}

/**
 * The retention checkpoint of a stream: the one sanctioned way to remove events. Events of
 * a stream up to `through_version` may be deleted once this row exists; verification of the
 * rest of the stream starts from `through_hash` (docs/store.md, "Retention").
 */
export interface StreamCheckpointsTable {
  stream_id: string;
  through_version: number;
  through_hash: string;
  archive_digest: string;
  created_at: number;
}

/** The store's own tables. */
export interface StoreTables {
  events: EventsTable;
  stream_checkpoints: StreamCheckpointsTable;
}

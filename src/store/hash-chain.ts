/**
 * The per-stream SHA-256 hash chain (docs/store.md, "Hash chain"):
 *
 * ```
 * payload_hash = sha256(JCS(data))
 * hash         = sha256(prev_hash ‖ sha256(JCS(envelope)) ‖ payload_hash)
 * envelope     = { event_id, stream_id, stream_version, type, schema_version, occurred_at, metadata }
 * prev_hash    = sha256("flowgate/v1:" + stream_id)   for a stream's first event
 * ```
 *
 * Hashes are lowercase hex; `‖` concatenates the raw 32-byte digests. The chain covers the
 * payload's hash, not the payload, so a payload can be erased or re-encrypted later without
 * breaking verification. The global position is not hashed, so a stream's chain does not
 * depend on other streams (on PostgreSQL appends still take one advisory lock, so that
 * global order equals commit order; the signed anchors cover the global order).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../events/canonical-json.js';
import type { EventMetadata } from './types.js';

/** The envelope fields the chain covers besides the payload. */
export interface ChainEnvelope {
  readonly eventId: string;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly occurredAt: number;
  readonly metadata: EventMetadata;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The `prev_hash` of a stream's first event. */
export function genesisHash(streamId: string): string {
  return sha256Hex(`flowgate/v1:${streamId}`);
}

/** `sha256` of the payload's canonical JSON text (already canonical: the stored `data`). */
export function payloadHashOfCanonical(canonicalData: string): string {
  return sha256Hex(canonicalData);
}

/** Canonical JSON of an envelope, with the column names docs/store.md defines. */
export function canonicalEnvelope(envelope: ChainEnvelope): string {
  return canonicalJson({
    event_id: envelope.eventId,
    stream_id: envelope.streamId,
    stream_version: envelope.streamVersion,
    type: envelope.type,
    schema_version: envelope.schemaVersion,
    occurred_at: envelope.occurredAt,
    metadata: envelope.metadata,
  });
}

/** The chain hash of one event, from its predecessor's hash, its envelope and its payload hash. */
export function chainHash(prevHash: string, canonicalEnvelopeText: string, payloadHash: string): string {
  return createHash('sha256')
    .update(Buffer.from(prevHash, 'hex'))
    .update(createHash('sha256').update(canonicalEnvelopeText).digest())
    .update(Buffer.from(payloadHash, 'hex'))
    .digest('hex');
}

/** A stored row as the verifier needs it: the canonical texts exactly as stored. */
export interface ChainRow {
  readonly globalPosition: number;
  readonly eventId: string;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly occurredAt: number;
  /** Stored `data` text. */
  readonly data: string;
  /** Stored `metadata` text. */
  readonly metadata: string;
  readonly payloadHash: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** Which part of a row failed verification. */
export type ChainBreakKind =
  | 'payload_hash'
  | 'prev_hash'
  | 'hash'
  | 'version_gap'
  | 'metadata_not_json';

/** One place where a stream's chain does not verify. */
export interface ChainBreak {
  readonly streamId: string;
  readonly streamVersion: number;
  readonly globalPosition: number;
  readonly kind: ChainBreakKind;
  readonly reason: string;
}

/**
 * Verifies one stream's rows (in stream order) and returns every break it finds, each
 * located by stream, version and global position. `start` lets verification begin after a
 * retention checkpoint.
 */
export function verifyStreamChain(
  rows: readonly ChainRow[],
  start?: { readonly version: number; readonly hash: string },
): ChainBreak[] {
  const breaks: ChainBreak[] = [];
  let expectedVersion = (start?.version ?? 0) + 1;
  let prev = start?.hash;
  for (const row of rows) {
    const at = { streamId: row.streamId, streamVersion: row.streamVersion, globalPosition: row.globalPosition };
    if (prev === undefined) prev = genesisHash(row.streamId);
    if (row.streamVersion !== expectedVersion) {
      breaks.push({ ...at, kind: 'version_gap', reason: `expected version ${expectedVersion}, found ${row.streamVersion}` });
    }
    if (payloadHashOfCanonical(row.data) !== row.payloadHash) {
      breaks.push({ ...at, kind: 'payload_hash', reason: 'data does not match its payload_hash' });
    }
    if (row.prevHash !== prev) {
      breaks.push({ ...at, kind: 'prev_hash', reason: "prev_hash is not the previous event's hash" });
    }
    let metadata: EventMetadata;
    try {
      metadata = JSON.parse(row.metadata) as EventMetadata;
    } catch {
      breaks.push({ ...at, kind: 'metadata_not_json', reason: 'metadata is not valid JSON' });
      prev = row.hash;
      expectedVersion = row.streamVersion + 1;
      continue;
    }
    const envelope = canonicalEnvelope({ ...row, metadata });
    if (chainHash(row.prevHash, envelope, row.payloadHash) !== row.hash) {
      breaks.push({ ...at, kind: 'hash', reason: 'envelope fields do not match the stored hash' });
    }
    prev = row.hash;
    expectedVersion = row.streamVersion + 1;
  }
  return breaks;
}

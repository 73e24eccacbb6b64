/**
 * The JSONL format of exports and retention archives (docs/replay.md, "Export and import";
 * docs/store.md, "Retention"). One JSON object per line, written as RFC 8785 canonical JSON:
 *
 * ```
 * {"kind":"header","format":"flowgate-log","version":1,"type":"export"|"archive",…}
 * {"kind":"checkpoint","streamId":…,"throughVersion":…,"throughHash":…,"archiveDigest":…,"createdAt":…}
 * {"kind":"pruned","position":…,"streamId":…,"version":…,"hash":…,"prunedAt":…}   (exports only)
 * {"kind":"event","position":…,"eventId":…,"streamId":…,"version":…,"type":…,…,"hash":…}
 * {"kind":"anchor",…}                       (exports only: the signed audit anchors)
 * {"kind":"end","events":N,"digest":…}      SHA-256 of every line before it, newlines included
 * ```
 *
 * An event line holds exactly what the `events` table holds: payloads as JSON, hashes, and
 * sealed values as compact JWE. Nothing in it is a secret in the clear, by construction of
 * the log (docs/privacy.md). Readers parse every line with the zod schemas below.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, type JsonValue } from '../events/canonical-json.js';
import { FlowgateError } from '../errors/flowgate-error.js';
import { canonicalEnvelope, chainHash, genesisHash, payloadHashOfCanonical } from './hash-chain.js';
import type { EventRow } from './seal-event.js';

/** The `format` of a flowgate log file. */
export const LOG_FORMAT = 'flowgate-log';
/** The version of the line format this code writes and reads. */
export const LOG_FORMAT_VERSION = 1;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex SHA-256');
const ms = z.number().int().nonnegative();
/** Any JSON value: what `JSON.parse` returns is one already, so this only types it. */
const json = z.custom<JsonValue>((value) => value !== undefined);

/** The first line of a file. */
export const headerLineSchema = z.strictObject({
  kind: z.literal('header'),
  format: z.literal(LOG_FORMAT),
  version: z.literal(LOG_FORMAT_VERSION),
  type: z.enum(['export', 'archive']),
  createdAt: ms,
  /** The window of a partial export (occurred_at in [since, until)); null = unbounded. */
  since: ms.nullable(),
  until: ms.nullable(),
  /** Archives: events of streams that ended before this time. */
  cutoff: ms.nullable(),
  source: z.strictObject({ dialect: z.enum(['sqlite', 'postgres']), location: z.string() }),
});
export type HeaderLine = z.infer<typeof headerLineSchema>;

/** One event, as stored. */
export const eventLineSchema = z.strictObject({
  kind: z.literal('event'),
  position: z.number().int().positive(),
  eventId: z.string().min(1),
  streamId: z.string().min(1),
  version: z.number().int().positive(),
  type: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  occurredAt: ms,
  data: json,
  metadata: z.record(z.string(), json),
  payloadHash: hex64,
  prevHash: hex64,
  hash: hex64,
});
export type EventLine = z.infer<typeof eventLineSchema>;

/** A retention checkpoint (a row of `stream_checkpoints`). */
export const checkpointLineSchema = z.strictObject({
  kind: z.literal('checkpoint'),
  streamId: z.string().min(1),
  throughVersion: z.number().int().positive(),
  throughHash: hex64,
  archiveDigest: hex64,
  createdAt: ms,
});
export type CheckpointLine = z.infer<typeof checkpointLineSchema>;

/** The record of a pruned event (a row of `pruned_events`, migration 0007). */
export const prunedLineSchema = z.strictObject({
  kind: z.literal('pruned'),
  position: z.number().int().positive(),
  streamId: z.string().min(1),
  version: z.number().int().positive(),
  hash: hex64,
  prunedAt: ms,
});
export type PrunedLine = z.infer<typeof prunedLineSchema>;

/** A signed audit anchor (a row of `audit_anchors`, without its row id). */
export const anchorLineSchema = z.strictObject({
  kind: z.literal('anchor'),
  position: z.number().int().nonnegative(),
  previousPosition: z.number().int().nonnegative().nullable(),
  digest: hex64,
  kid: z.string().min(1),
  issuedAt: ms,
  jws: z.string().min(1),
});
export type AnchorLine = z.infer<typeof anchorLineSchema>;

/** The last line: how many events the file holds and a digest of everything before it. */
export const endLineSchema = z.strictObject({
  kind: z.literal('end'),
  events: z.number().int().nonnegative(),
  digest: hex64,
});
export type EndLine = z.infer<typeof endLineSchema>;

/** Any line after the header. */
export const bodyLineSchema = z.discriminatedUnion('kind', [eventLineSchema, checkpointLineSchema, prunedLineSchema, anchorLineSchema, endLineSchema]);
export type BodyLine = z.infer<typeof bodyLineSchema>;

/** A line of a log file that is not what the format says; names the line. */
export class LogFileError extends FlowgateError {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super('ERR_LOG_FILE', `${file} line ${line}: ${detail}`);
  }
}

function zodDetail(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'not a valid line';
  const path = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${path}${issue.message}`;
}

/** Parses one line with `schema`; throws {@link LogFileError} naming the line. */
export function parseLine<T>(schema: z.ZodType<T>, text: string, file: string, line: number): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LogFileError(file, line, 'not JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new LogFileError(file, line, zodDetail(parsed.error));
  return parsed.data;
}

/** The text of a line: canonical JSON, newline-terminated. */
export function lineText(line: HeaderLine | BodyLine): string {
  return `${canonicalJson(line)}\n`;
}

/** A stored row as an event line. */
export function eventLineOf(row: EventRow): EventLine {
  return {
    kind: 'event',
    position: Number(row.global_position),
    eventId: row.event_id,
    streamId: row.stream_id,
    version: Number(row.stream_version),
    type: row.type,
    schemaVersion: Number(row.schema_version),
    occurredAt: Number(row.occurred_at),
    data: JSON.parse(row.data) as JsonValue,
    metadata: JSON.parse(row.metadata) as Record<string, JsonValue>,
    payloadHash: row.payload_hash,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** An event line as the row the log stores (canonical texts, exactly what was hashed). */
export function rowOfEventLine(line: EventLine): EventRow {
  return {
    global_position: line.position,
    event_id: line.eventId,
    stream_id: line.streamId,
    stream_version: line.version,
    type: line.type,
    schema_version: line.schemaVersion,
    data: canonicalJson(line.data),
    metadata: canonicalJson(line.metadata),
    occurred_at: line.occurredAt,
    payload_hash: line.payloadHash,
    prev_hash: line.prevHash,
    hash: line.hash,
  };
}

/**
 * What is wrong with an event line's hashes, given the hash its stream's previous event
 * had (undefined: this is the stream's first event, whose predecessor is the genesis
 * hash); undefined when it verifies (docs/store.md, "Hash chain").
 */
export function eventLineProblem(line: EventLine, previousHash: string | undefined): string | undefined {
  const row = rowOfEventLine(line);
  if (payloadHashOfCanonical(row.data) !== line.payloadHash) return 'data does not match its payloadHash (the line was changed)';
  const expectedPrev = previousHash ?? genesisHash(line.streamId);
  if (line.prevHash !== expectedPrev) {
    return previousHash === undefined
      ? `prevHash is not the genesis hash of ${line.streamId}, and no checkpoint precedes version ${line.version}`
      : "prevHash is not the previous event's hash (an event is missing or was changed)";
  }
  const envelope = canonicalEnvelope({
    eventId: line.eventId,
    streamId: line.streamId,
    streamVersion: line.version,
    type: line.type,
    schemaVersion: line.schemaVersion,
    occurredAt: line.occurredAt,
    metadata: line.metadata,
  });
  if (chainHash(line.prevHash, envelope, line.payloadHash) !== line.hash) return 'the envelope does not match its hash (the line was changed)';
  return undefined;
}

/** A running SHA-256 over lines (the `end` line's digest, a checkpoint's archive digest). */
export class LineDigest {
  readonly #hash = createHash('sha256');
  lines = 0;

  /** Adds one line's text (with its newline). */
  add(text: string): void {
    this.#hash.update(text, 'utf8');
    this.lines++;
  }

  /** The digest, lowercase hex. */
  hex(): string {
    return this.#hash.digest('hex');
  }
}

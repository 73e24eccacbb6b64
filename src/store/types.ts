/**
 * The shapes that cross the store's boundary: events to append, events as stored, the
 * result of an append and inline projections.
 *
 * @module
 */
import type { Kysely, Transaction } from 'kysely';
import type { JsonValue } from '../events/canonical-json.js';

/** Metadata every event carries. It must never hold personal data or secrets. */
export type EventMetadata = { readonly [key: string]: JsonValue };

/** An event the caller wants to append. */
export interface NewEvent {
  /** Derived from the command id (`deriveEventId`), so only a true retry reuses it. */
  readonly eventId: string;
  /** `entity.past_tense`, e.g. `code.redeemed`. */
  readonly type: string;
  /** Version of the payload's shape, for upcasters; default 1. */
  readonly schemaVersion?: number;
  readonly data: JsonValue;
  readonly metadata?: EventMetadata;
  /** Milliseconds since the epoch, from the injected clock. */
  readonly occurredAt: number;
}

/** An event as it sits in the log. */
export interface StoredEvent<TData = JsonValue> {
  readonly globalPosition: number;
  readonly eventId: string;
  readonly streamId: string;
  readonly streamVersion: number;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: TData;
  readonly metadata: EventMetadata;
  readonly occurredAt: number;
  readonly payloadHash: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** One stream's part of an `appendMany`. */
export interface StreamAppend {
  readonly streamId: string;
  /** The version the caller last saw: 0 for a stream that must not exist yet. */
  readonly expectedVersion: number;
  readonly events: readonly NewEvent[];
}

/** What an append wrote (or, for an idempotent retry, what the first attempt wrote). */
export interface AppendResult {
  readonly streams: ReadonlyArray<{
    readonly streamId: string;
    readonly version: number;
    readonly events: readonly StoredEvent[];
  }>;
  /** True when these events were already in the log from an earlier attempt of the same command. */
  readonly alreadyAppended: boolean;
}

/** The database handle projections write through: the append's own transaction. */
export type ProjectionTransaction = Transaction<any> | Kysely<any>;

/**
 * An inline projection: applied in the same transaction as the append, so a read view is
 * never behind the log; if `apply` throws, the append rolls back.
 */
export interface Projection {
  readonly name: string;
  /** Event types this projection reads. */
  readonly handles: readonly string[];
  /** The tables it owns; `rebuild` empties them before replaying the log. */
  readonly tables: readonly string[];
  apply(trx: ProjectionTransaction, event: StoredEvent): Promise<void>;
}

/** Options of `readAll`. */
export interface ReadAllOptions {
  /** Read events after this global position (exclusive); default 0. */
  readonly fromPosition?: number;
  /** Rows fetched per query; default 1000. */
  readonly batchSize?: number;
  /** Stop after this global position (inclusive). */
  readonly toPosition?: number;
}

/**
 * The append-only event store, written once on kysely for SQLite and PostgreSQL
 * (docs/store.md). Appends are all-or-nothing with optimistic concurrency per stream,
 * idempotent for true retries, hash-chained per stream, and update inline projections in
 * the same transaction.
 *
 * @module
 */
import type { Kysely, Transaction } from 'kysely';
import { QueryTemplate, slot } from './query-template.js';
import { canonicalJson } from '../events/canonical-json.js';
import type { StoreDialect } from './dialect.js';
import { ConcurrencyError, IdempotencyConflictError } from './errors.js';
import { HeadCache, type StreamHead } from './head-cache.js';
import { genesisHash, verifyStreamChain, type ChainBreak, type ChainRow } from './hash-chain.js';
import { sealEvent, type EventRow } from './seal-event.js';
import type {
  AppendResult,
  NewEvent,
  Projection,
  ReadAllOptions,
  StoredEvent,
  StreamAppend,
} from './types.js';

type Executor = Kysely<any> | Transaction<any>;

/** Thrown inside an append transaction to roll it back; resolved outside it. */
class AppendConflict {
  constructor(
    readonly kind: 'version' | 'event_id',
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {}
}

/** Maps a stored row to the public event shape. */
export function rowToStoredEvent(row: EventRow): StoredEvent {
  return {
    globalPosition: Number(row.global_position),
    eventId: row.event_id,
    streamId: row.stream_id,
    streamVersion: Number(row.stream_version),
    type: row.type,
    schemaVersion: Number(row.schema_version),
    data: JSON.parse(row.data),
    metadata: JSON.parse(row.metadata),
    occurredAt: Number(row.occurred_at),
    payloadHash: row.payload_hash,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** A stored row as the hash chain sees it. */
export function rowToChainRow(row: EventRow): ChainRow {
  return {
    globalPosition: Number(row.global_position),
    eventId: row.event_id,
    streamId: row.stream_id,
    streamVersion: Number(row.stream_version),
    type: row.type,
    schemaVersion: Number(row.schema_version),
    occurredAt: Number(row.occurred_at),
    data: row.data,
    metadata: row.metadata,
    payloadHash: row.payload_hash,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The columns an append writes (all but `global_position`, which the database assigns). */
export const EVENT_COLUMNS = [
  'event_id',
  'stream_id',
  'stream_version',
  'type',
  'schema_version',
  'data',
  'metadata',
  'occurred_at',
  'payload_hash',
  'prev_hash',
  'hash',
] as const;

/** The event store. Create it with `openStore`. */
export class EventStore {
  readonly #projections = new Map<string, Projection>();
  readonly #byType = new Map<string, Projection[]>();
  readonly #headQuery: QueryTemplate<{ stream_version: number; hash: string }>;
  readonly #insertQueries = new Map<number, QueryTemplate<{ global_position: number; event_id: string }>>();
  readonly #heads = new HeadCache();

  constructor(readonly dialect: StoreDialect) {
    this.#headQuery = new QueryTemplate(
      dialect.db
        .selectFrom('events')
        .select(['stream_version', 'hash'])
        .where('stream_id', '=', slot('stream'))
        .orderBy('stream_version', 'desc')
        .limit(1)
        .compile(),
    );
  }

  /** The compiled insert of `count` rows (compiled once per row count). */
  #insertQuery(count: number): QueryTemplate<{ global_position: number; event_id: string }> {
    let template = this.#insertQueries.get(count);
    if (!template) {
      const rows = Array.from({ length: count }, (_, i) =>
        Object.fromEntries(EVENT_COLUMNS.map((column) => [column, slot(`${i}:${column}`)])),
      );
      template = new QueryTemplate(
        this.dialect.db
          .insertInto('events')
          .values(rows)
          .onConflict((oc) => oc.doNothing())
          .returning(['global_position', 'event_id'])
          .compile(),
      );
      this.#insertQueries.set(count, template);
    }
    return template;
  }

  /** The kysely handle, for projections' readers and migrations. */
  get db(): Kysely<any> {
    return this.dialect.db;
  }

  /**
   * Registers an inline projection. It is applied to every later append of an event type
   * it handles, inside the append's transaction.
   */
  registerProjection(projection: Projection): void {
    if (this.#projections.has(projection.name)) {
      throw new Error(`a projection named ${projection.name} is already registered`);
    }
    this.#projections.set(projection.name, projection);
    for (const type of projection.handles) {
      const list = this.#byType.get(type) ?? [];
      list.push(projection);
      this.#byType.set(type, list);
    }
  }

  /** The registered projections, in registration order. */
  get projections(): readonly Projection[] {
    return [...this.#projections.values()];
  }

  /** Appends events to one stream; see {@link appendMany}. */
  append(streamId: string, expectedVersion: number, events: readonly NewEvent[]): Promise<AppendResult> {
    return this.appendMany([{ streamId, expectedVersion, events }]);
  }

  /**
   * Appends to several streams in one transaction: all of it or nothing. A stream whose
   * version is not `expectedVersion` fails the whole append with {@link ConcurrencyError}.
   * Event ids that already exist make it an idempotent retry: the first attempt's result
   * comes back if the stored events are identical, {@link IdempotencyConflictError} if not.
   * `alongside` writes (outside the log, e.g. a new data key) commit or roll back with it.
   */
  async appendMany(
    appends: readonly StreamAppend[],
    options: { readonly alongside?: ReadonlyArray<(trx: Transaction<any>) => Promise<void>> } = {},
  ): Promise<AppendResult> {
    const seen = new Set<string>();
    for (const a of appends) {
      if (seen.has(a.streamId)) throw new Error(`appendMany: stream ${a.streamId} appears twice`);
      seen.add(a.streamId);
      if (a.events.length === 0) throw new Error(`appendMany: no events for stream ${a.streamId}`);
    }
    try {
      const { result, mark } = await this.dialect.db.transaction().execute(async (trx) => {
        const appended = await this.#appendInTransaction(trx, appends);
        for (const write of options.alongside ?? []) await write(trx);
        // Taken after the last write and before COMMIT, which moves neither part of the mark.
        return { result: appended, mark: this.dialect.changeMark?.() };
      });
      if (mark !== undefined) {
        for (const { streamId, version, events } of result.streams) {
          this.#heads.set(streamId, { version, hash: events[events.length - 1]!.hash }, mark);
        }
      }
      return result;
    } catch (error) {
      if (error instanceof AppendConflict) return this.#resolveConflict(appends, error);
      throw this.dialect.translateError(error);
    }
  }

  async #appendInTransaction(trx: Transaction<any>, appends: readonly StreamAppend[]): Promise<AppendResult> {
    await this.dialect.lockForAppend(trx);
    // Under the write lock and before this append writes anything.
    const mark = this.dialect.changeMark?.();
    const streams: AppendResult['streams'][number][] = [];
    for (const { streamId, expectedVersion, events } of appends) {
      const head = (mark !== undefined && this.#heads.get(streamId, mark)) || (await this.#readHead(trx, streamId));
      const actualVersion = head ? head.version : 0;
      if (actualVersion !== expectedVersion) {
        throw new AppendConflict('version', streamId, expectedVersion, actualVersion);
      }
      let prevHash: string = head ? head.hash : genesisHash(streamId);
      const rows = events.map((event, i) => {
        const row = sealEvent(streamId, expectedVersion + i + 1, prevHash, event);
        prevHash = row.hash;
        return row;
      });
      const values: Record<string, unknown> = {};
      rows.forEach((row, i) => {
        for (const column of EVENT_COLUMNS) values[`${i}:${column}`] = row[column];
      });
      const inserted = (await trx.executeQuery(this.#insertQuery(rows.length).bind(values))).rows;
      if (inserted.length !== rows.length) {
        throw new AppendConflict('event_id', streamId, expectedVersion, actualVersion);
      }
      const positions = new Map(inserted.map((r) => [r.event_id as string, Number(r.global_position)]));
      const stored = rows.map((row) => rowToStoredEvent({ ...row, global_position: positions.get(row.event_id)! }));
      streams.push({ streamId, version: expectedVersion + events.length, events: stored });
    }
    for (const { events } of streams) {
      for (const event of events) {
        for (const projection of this.#byType.get(event.type) ?? []) {
          await projection.apply(trx, event);
        }
      }
    }
    return { streams, alreadyAppended: false };
  }

  /** Decides whether a failed append was a true retry (same events already stored) or a conflict. */
  async #resolveConflict(appends: readonly StreamAppend[], conflict: AppendConflict): Promise<AppendResult> {
    const ids = appends.flatMap((a) => a.events.map((e) => e.eventId));
    const existing = await this.dialect.db
      .selectFrom('events')
      .selectAll()
      .where('event_id', 'in', ids)
      .execute();
    if (existing.length === 0) {
      throw new ConcurrencyError(conflict.streamId, conflict.expectedVersion, conflict.actualVersion);
    }
    const byId = new Map(existing.map((row) => [row.event_id as string, row as EventRow]));
    const streams: AppendResult['streams'][number][] = [];
    for (const { streamId, events } of appends) {
      const stored: StoredEvent[] = [];
      for (const event of events) {
        const row = byId.get(event.eventId);
        if (!row) throw new IdempotencyConflictError(event.eventId, 'only part of the command is stored');
        const mismatch = describeMismatch(row, streamId, event);
        if (mismatch) throw new IdempotencyConflictError(event.eventId, mismatch);
        stored.push(rowToStoredEvent(row));
      }
      stored.sort((a, b) => a.streamVersion - b.streamVersion);
      streams.push({ streamId, version: stored[stored.length - 1]!.streamVersion, events: stored });
    }
    return { streams, alreadyAppended: true };
  }

  /** The current version of a stream (0 when it does not exist). */
  async streamVersion(streamId: string): Promise<number> {
    const head = await this.dialect.db
      .selectFrom('events')
      .select('stream_version')
      .where('stream_id', '=', streamId)
      .orderBy('stream_version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return head ? Number(head.stream_version) : 0;
  }

  /**
   * The head of a stream: version and chain hash of its last event (undefined when it has
   * none). One indexed row through a compiled query, or none when nothing has been written
   * to the database since this store last read or appended the stream (see `HeadCache`),
   * so a caller holding a copy of the stream can check it is current without reading it again.
   */
  async streamHead(streamId: string): Promise<StreamHead | undefined> {
    // The mark is taken before the read, so a head is never recorded under a later mark.
    const mark = this.dialect.changeMark?.();
    const known = mark === undefined ? undefined : this.#heads.get(streamId, mark);
    if (known) return known;
    const head = await this.#readHead(this.dialect.db, streamId);
    if (head && mark !== undefined) this.#heads.set(streamId, head, mark);
    return head;
  }

  async #readHead(executor: Executor, streamId: string): Promise<StreamHead | undefined> {
    const row = (await executor.executeQuery(this.#headQuery.bind({ stream: streamId }))).rows[0];
    return row ? { version: Number(row.stream_version), hash: row.hash } : undefined;
  }

  /** Every event of one stream, in stream order. */
  async readStream(streamId: string, executor: Executor = this.dialect.db): Promise<StoredEvent[]> {
    const rows = await executor
      .selectFrom('events')
      .selectAll()
      .where('stream_id', '=', streamId)
      .orderBy('stream_version')
      .execute();
    return rows.map((row) => rowToStoredEvent(row as EventRow));
  }

  /**
   * Every event in global order, fetched in batches (keyset pagination), so memory stays
   * constant however long the log is.
   */
  readAll(options: ReadAllOptions = {}): AsyncIterableIterator<StoredEvent> {
    return this.#readAll(this.dialect.db, options);
  }

  async *#readAll(
    executor: Executor,
    options: ReadAllOptions & { types?: readonly string[] },
  ): AsyncIterableIterator<StoredEvent> {
    const batchSize = options.batchSize ?? 1000;
    let position = options.fromPosition ?? 0;
    for (;;) {
      let query = executor
        .selectFrom('events')
        .selectAll()
        .where('global_position', '>', position)
        .orderBy('global_position')
        .limit(batchSize);
      if (options.toPosition !== undefined) query = query.where('global_position', '<=', options.toPosition);
      if (options.types) query = query.where('type', 'in', options.types);
      const rows = (await query.execute()) as EventRow[];
      for (const row of rows) yield rowToStoredEvent(row);
      if (rows.length < batchSize) return;
      position = Number(rows[rows.length - 1]!.global_position);
    }
  }

  /**
   * Rebuilds one projection from the log: empties its tables and replays every event it
   * handles, in one transaction.
   */
  async rebuild(name: string): Promise<{ readonly events: number }> {
    const projection = this.#projections.get(name);
    if (!projection) throw new Error(`no projection named ${name}`);
    return this.dialect.db.transaction().execute(async (trx) => {
      for (const table of projection.tables) await trx.deleteFrom(table).execute();
      let events = 0;
      if (projection.handles.length === 0) return { events };
      for await (const event of this.#readAll(trx, { types: projection.handles })) {
        await projection.apply(trx, event);
        events++;
      }
      return { events };
    });
  }

  /**
   * Verifies the hash chain of every stream (or of one), streaming rows in
   * (stream, version) order so memory stays constant. Returns every break, located.
   */
  async verifyChain(options: { readonly streamId?: string; readonly batchSize?: number } = {}): Promise<ChainBreak[]> {
    const batchSize = options.batchSize ?? 2000;
    const breaks: ChainBreak[] = [];
    const checkpoints = new Map<string, { version: number; hash: string }>();
    const checkpointRows = await this.dialect.db
      .selectFrom('stream_checkpoints')
      .select(['stream_id', 'through_version', 'through_hash'])
      .$if(options.streamId !== undefined, (q) => q.where('stream_id', '=', options.streamId!))
      .execute();
    for (const row of checkpointRows) {
      checkpoints.set(row.stream_id, { version: Number(row.through_version), hash: row.through_hash });
    }
    let current: ChainRow[] = [];
    const flush = () => {
      if (current.length === 0) return;
      breaks.push(...verifyStreamChain(current, checkpoints.get(current[0]!.streamId)));
      current = [];
    };
    let after: { streamId: string; version: number } | undefined;
    for (;;) {
      let query = this.dialect.db
        .selectFrom('events')
        .selectAll()
        .orderBy('stream_id')
        .orderBy('stream_version')
        .limit(batchSize);
      if (options.streamId !== undefined) query = query.where('stream_id', '=', options.streamId);
      if (after) {
        const { streamId, version } = after;
        query = query.where((eb) =>
          eb.or([
            eb('stream_id', '>', streamId),
            eb.and([eb('stream_id', '=', streamId), eb('stream_version', '>', version)]),
          ]),
        );
      }
      const rows = (await query.execute()) as EventRow[];
      for (const row of rows) {
        const chainRow = rowToChainRow(row);
        if (current.length > 0 && current[0]!.streamId !== chainRow.streamId) flush();
        current.push(chainRow);
      }
      if (rows.length < batchSize) break;
      const last = rows[rows.length - 1]!;
      after = { streamId: last.stream_id, version: Number(last.stream_version) };
    }
    flush();
    return breaks;
  }

  /** Closes the database. */
  close(): Promise<void> {
    return this.dialect.close();
  }
}

function describeMismatch(row: EventRow, streamId: string, event: NewEvent): string | undefined {
  if (row.stream_id !== streamId) return `stored in stream ${row.stream_id}, not ${streamId}`;
  if (row.type !== event.type) return `stored type ${row.type}, not ${event.type}`;
  if (Number(row.schema_version) !== (event.schemaVersion ?? 1)) return 'schema version differs';
  if (Number(row.occurred_at) !== event.occurredAt) return 'occurred_at differs';
  if (row.data !== canonicalJson(event.data)) return 'data differs';
  if (row.metadata !== canonicalJson(event.metadata ?? {})) return 'metadata differs';
  return undefined;
}

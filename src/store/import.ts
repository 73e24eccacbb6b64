/**
 * `flowgate import`: restores a whole-log export (src/store/export.ts) into an empty store,
 * keeping every event's global position, stream id, version and hashes, so the restored
 * log verifies (`verifyChain`), rebuilds to the same projections and passes `flowgate
 * audit`, signed anchors included (docs/replay.md, "Export and import").
 *
 * Every line is parsed with zod and every event re-hashed before it is written: a changed,
 * missing or reordered line refuses the whole import, naming the line. It all runs in one
 * transaction: a refused import leaves the store empty.
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { sql, type Transaction } from 'kysely';
import { FlowgateError } from '../errors/flowgate-error.js';
import type { EventStore } from './event-store.js';
import { EVENT_COLUMNS, rowToStoredEvent } from './event-store.js';
import { insertKeys, type KeyFile } from './key-file.js';
import {
  bodyLineSchema,
  eventLineProblem,
  headerLineSchema,
  LineDigest,
  LogFileError,
  parseLine,
  rowOfEventLine,
  type AnchorLine,
  type EndLine,
} from './log-lines.js';
import type { EventRow } from './seal-event.js';
import type { Projection } from './types.js';

/** The import was refused before anything was written. */
export class ImportRefusedError extends FlowgateError {
  constructor(message: string) {
    super('ERR_IMPORT_REFUSED', message);
  }
}

/** What an import wrote. */
export interface ImportSummary {
  readonly events: number;
  readonly streams: number;
  readonly checkpoints: number;
  /** Records of pruned events restored into `pruned_events`. */
  readonly pruned: number;
  readonly anchors: number;
  /** Anchors left out because their signing key is not in the store (import the keys file too). */
  readonly anchorsSkipped: number;
  readonly keys: { readonly dataKeys: number; readonly signingKeys: number } | null;
  /** Events applied per projection. */
  readonly projections: Record<string, number>;
}

const COLUMNS = ['global_position', ...EVENT_COLUMNS] as const;
const CHUNK = 200;

async function count(db: EventStore['db'] | Transaction<any>, table: string): Promise<number> {
  const row = await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Refuses a store that holds anything of a log already. */
async function assertEmpty(store: EventStore, db: EventStore['db'] | Transaction<any>, anchorsTable: boolean): Promise<void> {
  const held: string[] = [];
  const events = await count(db, 'events');
  if (events > 0) held.push(`${events} event${events === 1 ? '' : 's'}`);
  const checkpoints = await count(db, 'stream_checkpoints');
  if (checkpoints > 0) held.push(`${checkpoints} retention checkpoint${checkpoints === 1 ? '' : 's'}`);
  if (anchorsTable) {
    const anchors = await count(db, 'audit_anchors');
    if (anchors > 0) held.push(`${anchors} audit anchor${anchors === 1 ? '' : 's'}`);
  }
  if (held.length > 0) {
    throw new ImportRefusedError(
      `the target store at ${store.dialect.location} is not empty (${held.join(', ')}); import loads only into an empty store — point the configuration at a new database`,
    );
  }
}

async function insertEvents(store: EventStore, trx: Transaction<any>, rows: EventRow[]): Promise<void> {
  if (rows.length === 0) return;
  if (store.dialect.name === 'postgres') {
    // Identity columns take explicit values only when told to (global positions are kept).
    const values = rows.map((row) => sql`(${sql.join(COLUMNS.map((c) => row[c]))})`);
    await sql`INSERT INTO events (${sql.join(COLUMNS.map((c) => sql.ref(c)))}) OVERRIDING SYSTEM VALUE VALUES ${sql.join(values)}`.execute(trx);
  } else {
    await trx.insertInto('events').values(rows).execute();
  }
}

/** Applies every projection to the restored log in global order, in the import's transaction. */
async function project(trx: Transaction<any>, projections: readonly Projection[]): Promise<Record<string, number>> {
  const applied: Record<string, number> = {};
  const byType = new Map<string, Projection[]>();
  for (const projection of projections) {
    applied[projection.name] = 0;
    for (const table of projection.tables) await trx.deleteFrom(table).execute();
    for (const type of projection.handles) byType.set(type, [...(byType.get(type) ?? []), projection]);
  }
  if (byType.size === 0) return applied;
  let after = 0;
  for (;;) {
    const rows = (await trx
      .selectFrom('events')
      .selectAll()
      .where('global_position', '>', after)
      .orderBy('global_position')
      .limit(1000)
      .execute()) as EventRow[];
    for (const row of rows) {
      const targets = byType.get(row.type);
      if (!targets) continue;
      const event = rowToStoredEvent(row);
      for (const projection of targets) {
        await projection.apply(trx, event);
        applied[projection.name]!++;
      }
    }
    if (rows.length < 1000) return applied;
    after = Number(rows[rows.length - 1]!.global_position);
  }
}

/**
 * Imports the export at `file` into the (empty) store, with the keys of a keys file when
 * given. Projections registered on the store are rebuilt from the imported log.
 */
export async function importLog(store: EventStore, file: string, options: { keys?: KeyFile } = {}): Promise<ImportSummary> {
  // Asked before the transaction: on SQLite in memory the transaction holds the one connection.
  const anchorsTable = await store.dialect.tableExists('audit_anchors');
  await assertEmpty(store, store.db, anchorsTable);
  return store.db.transaction().execute(async (trx) => {
    await store.dialect.lockForAppend(trx);
    await assertEmpty(store, trx, anchorsTable);
    if (options.keys) await insertKeys(trx, options.keys);

    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    const digest = new LineDigest();
    const heads = new Map<string, { version: number; hash: string }>();
    const anchors: AnchorLine[] = [];
    let pending: EventRow[] = [];
    let lineNo = 0;
    let lastPosition = 0;
    let events = 0;
    let checkpoints = 0;
    let pruned = 0;
    let prunedMax = 0;
    let prunedPending: Array<Record<string, unknown>> = [];
    const flushPruned = async () => {
      if (prunedPending.length > 0) await trx.insertInto('pruned_events').values(prunedPending).execute();
      prunedPending = [];
    };
    let end: EndLine | undefined;
    let sawEvent = false;
    for await (const text of lines) {
      lineNo++;
      if (lineNo === 1) {
        const header = parseLine(headerLineSchema, text, file, 1);
        if (header.type !== 'export') {
          throw new ImportRefusedError(`${file} is a retention archive, not an export; archives are verified with \`flowgate verify-archive\`, not imported`);
        }
        if (header.since !== null || header.until !== null) {
          throw new ImportRefusedError(
            `${file} is a partial export (a time window); import restores only a whole-log export (\`flowgate export\` without --since/--until)`,
          );
        }
        digest.add(`${text}\n`);
        continue;
      }
      if (end) throw new LogFileError(file, lineNo, 'a line after the end line');
      const line = parseLine(bodyLineSchema, text, file, lineNo);
      if (line.kind === 'end') {
        end = line;
        continue;
      }
      digest.add(`${text}\n`);
      switch (line.kind) {
        case 'checkpoint':
          if (sawEvent) throw new LogFileError(file, lineNo, 'a checkpoint after the first event');
          if (heads.has(line.streamId)) throw new LogFileError(file, lineNo, `a second checkpoint for ${line.streamId}`);
          await trx
            .insertInto('stream_checkpoints')
            .values({
              stream_id: line.streamId,
              through_version: line.throughVersion,
              through_hash: line.throughHash,
              archive_digest: line.archiveDigest,
              created_at: line.createdAt,
            })
            .execute();
          heads.set(line.streamId, { version: line.throughVersion, hash: line.throughHash });
          checkpoints++;
          break;
        case 'pruned': {
          if (sawEvent) throw new LogFileError(file, lineNo, 'a pruned-event record after the first event');
          const checkpoint = heads.get(line.streamId);
          if (!checkpoint || line.version > checkpoint.version || (line.version === checkpoint.version && line.hash !== checkpoint.hash)) {
            throw new LogFileError(file, lineNo, `${line.streamId} version ${line.version}: a pruned-event record no retention checkpoint covers`);
          }
          prunedPending.push({ global_position: line.position, stream_id: line.streamId, stream_version: line.version, hash: line.hash, pruned_at: line.prunedAt });
          pruned++;
          prunedMax = Math.max(prunedMax, line.position);
          if (prunedPending.length >= CHUNK) await flushPruned();
          break;
        }
        case 'event': {
          if (!sawEvent) await flushPruned();
          sawEvent = true;
          if (line.position <= lastPosition) {
            throw new LogFileError(file, lineNo, `global position ${line.position} after ${lastPosition}: the lines are out of order`);
          }
          const head = heads.get(line.streamId);
          const expected = (head?.version ?? 0) + 1;
          if (line.version !== expected) {
            throw new LogFileError(file, lineNo, `${line.streamId} version ${line.version} where version ${expected} was due (an event is missing)`);
          }
          const problem = eventLineProblem(line, head?.hash);
          if (problem) throw new LogFileError(file, lineNo, `${line.streamId} version ${line.version}: ${problem}`);
          heads.set(line.streamId, { version: line.version, hash: line.hash });
          lastPosition = line.position;
          pending.push(rowOfEventLine(line));
          events++;
          if (pending.length >= CHUNK) {
            await insertEvents(store, trx, pending);
            pending = [];
          }
          break;
        }
        case 'anchor':
          anchors.push(line);
          break;
      }
    }
    if (lineNo === 0) throw new LogFileError(file, 1, 'empty file');
    if (!end) throw new LogFileError(file, lineNo, 'no end line: the file is truncated');
    if (end.events !== events || end.digest !== digest.hex()) {
      throw new LogFileError(file, lineNo, 'the end line does not match the lines before it (a line was changed, added or removed)');
    }
    await flushPruned();
    await insertEvents(store, trx, pending);
    // New appends continue after every restored position, pruned ones included.
    const highest = Math.max(lastPosition, prunedMax);
    if (store.dialect.name === 'postgres' && highest > 0) {
      await sql`SELECT setval(pg_get_serial_sequence('events', 'global_position'), ${highest})`.execute(trx);
    } else if (highest > lastPosition) {
      await sql`UPDATE sqlite_sequence SET seq = ${highest} WHERE name = 'events'`.execute(trx);
      await sql`INSERT INTO sqlite_sequence (name, seq) SELECT 'events', ${highest} WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events')`.execute(trx);
    }

    let anchorsImported = 0;
    if (anchors.length > 0) {
      const kids = new Set((await trx.selectFrom('signing_keys').select('kid').execute()).map((r) => r.kid as string));
      for (const anchor of anchors) {
        if (!kids.has(anchor.kid)) continue;
        await trx
          .insertInto('audit_anchors')
          .values({
            position: anchor.position,
            previous_position: anchor.previousPosition,
            digest: anchor.digest,
            kid: anchor.kid,
            issued_at: anchor.issuedAt,
            jws: anchor.jws,
          })
          .execute();
        anchorsImported++;
      }
    }
    const projections = await project(trx, store.projections);
    return {
      events,
      streams: heads.size,
      checkpoints,
      pruned,
      anchors: anchorsImported,
      anchorsSkipped: anchors.length - anchorsImported,
      keys: options.keys ? { dataKeys: options.keys.dataKeys.length, signingKeys: options.keys.signingKeys.length } : null,
      projections,
    };
  });
}

/**
 * What someone with write access to the database could do, for the audit tests:
 *
 * - **forge**: append events with raw SQL that look valid: canonical JSON, the engine's
 *   metadata (a command id, the machine and the states a replay would record), and a
 *   correct hash chain; no machine, no projection;
 * - **tamper**: change, delete or move rows with the append-only triggers out of the way
 *   (as test/support/tamper.ts does for `events`, here also for `audit_anchors`).
 */
import { sql, type RawBuilder } from 'kysely';
import { randomUUID } from 'node:crypto';
import type { AnyMachineSnapshot } from 'xstate';
import { stateName } from '../../../src/engine/machine-runner.js';
import { machineOfStream, runnerFor, toMachineEvent } from '../../../src/engine/runners.js';
import { deriveEventId } from '../../../src/events/ids.js';
import type { JsonValue } from '../../../src/events/canonical-json.js';
import type { EventStore } from '../../../src/store/event-store.js';
import { genesisHash } from '../../../src/store/hash-chain.js';
import { sealEvent } from '../../../src/store/seal-event.js';

/** One forged event. */
export interface Forged {
  readonly streamId: string;
  readonly type: string;
  readonly data: Record<string, JsonValue>;
  /** Recorded machine states; default: what a replay gives (or the current state twice when illegal). */
  readonly states?: { readonly from: string; readonly to: string };
}

/**
 * Appends `events` as one command (one command id, consecutive positions), each sealed on
 * its stream's current head. Returns their global positions.
 */
export async function forgeCommand(store: EventStore, events: readonly Forged[], at: number): Promise<number[]> {
  const commandId = randomUUID();
  const heads = new Map<string, { version: number; hash: string; snapshot?: AnyMachineSnapshot; machine?: { id: string; version: string } }>();
  const positions: number[] = [];
  for (const [index, e] of events.entries()) {
    let head = heads.get(e.streamId);
    if (!head) {
      const stored = await store.readStream(e.streamId);
      if (stored.length === 0) {
        head = { version: 0, hash: genesisHash(e.streamId) };
      } else {
        const entry = machineOfStream(e.streamId, stored[0]!);
        const runner = runnerFor(entry);
        let snapshot = runner.initial;
        for (const s of stored) snapshot = runner.step(snapshot, toMachineEvent(s)) ?? snapshot;
        const last = stored[stored.length - 1]!;
        head = { version: last.streamVersion, hash: last.hash, snapshot, machine: { id: entry.id, version: entry.version } };
      }
    }
    const machine = head.machine ?? machineFor(e.streamId);
    const runner = runnerFor(machineOfStream(e.streamId, { metadata: { machine } } as never));
    const before = head.snapshot ?? runner.initial;
    const next = runner.step(before, { ...e.data, type: e.type, at });
    const from = stateName(before.value);
    const states = e.states ?? { from, to: next ? stateName(next.value) : from };
    const row = sealEvent(e.streamId, head.version + 1, head.hash, {
      eventId: deriveEventId(commandId, index),
      type: e.type,
      data: e.data,
      occurredAt: at,
      metadata: { commandId, correlationId: commandId, machine: { id: machine.id, version: machine.version, ...states } },
    });
    const inserted = await store.db.insertInto('events').values(row).returning('global_position').executeTakeFirstOrThrow();
    positions.push(Number(inserted.global_position));
    heads.set(e.streamId, { version: row.stream_version, hash: row.hash, snapshot: next ?? before, machine });
  }
  return positions;
}

function machineFor(streamId: string): { id: string; version: string } {
  if (streamId.startsWith('flow:')) return { id: 'authorization-flow', version: '1' };
  if (streamId.startsWith('grant:')) return { id: 'token-grant', version: '1' };
  return { id: 'client-registration', version: '1' };
}

/** Runs raw statements with the append-only triggers of `events` and `audit_anchors` out of the way. */
export async function tamper(store: EventStore, ...statements: RawBuilder<unknown>[]): Promise<void> {
  const db = store.db;
  if (store.dialect.name === 'sqlite') {
    for (const trigger of ['events_no_update', 'events_no_delete', 'audit_anchors_no_update', 'audit_anchors_no_delete']) {
      await sql`DROP TRIGGER IF EXISTS ${sql.id(trigger)}`.execute(db);
    }
    for (const statement of statements) await statement.execute(db);
    return;
  }
  await db.connection().execute(async (conn) => {
    await sql`ALTER TABLE events DISABLE TRIGGER USER`.execute(conn);
    await sql`ALTER TABLE audit_anchors DISABLE TRIGGER USER`.execute(conn);
    try {
      for (const statement of statements) await statement.execute(conn);
    } finally {
      await sql`ALTER TABLE events ENABLE TRIGGER USER`.execute(conn);
      await sql`ALTER TABLE audit_anchors ENABLE TRIGGER USER`.execute(conn);
    }
  });
}

const COLUMNS = ['event_id', 'stream_id', 'stream_version', 'type', 'schema_version', 'data', 'metadata', 'occurred_at', 'payload_hash', 'prev_hash', 'hash'];

/** Swaps the contents of the rows at two global positions (the rows keep their positions). */
export async function swapPositions(store: EventStore, a: number, b: number): Promise<void> {
  const rows = await store.db.selectFrom('events').selectAll().where('global_position', 'in', [a, b]).execute();
  const rowA = rows.find((r) => Number(r.global_position) === a)!;
  const rowB = rows.find((r) => Number(r.global_position) === b)!;
  const insert = (position: number, row: Record<string, unknown>) => {
    const overriding = store.dialect.name === 'postgres' ? sql`OVERRIDING SYSTEM VALUE` : sql``;
    return sql`INSERT INTO events (global_position, ${sql.join(COLUMNS.map((c) => sql.ref(c)))}) ${overriding}
      VALUES (${position}, ${sql.join(COLUMNS.map((c) => sql`${row[c]}`))})`;
  };
  await tamper(store, sql`DELETE FROM events WHERE global_position IN (${a}, ${b})`, insert(a, rowB), insert(b, rowA));
}

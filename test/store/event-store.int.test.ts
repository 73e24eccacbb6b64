/**
 * The store contract: the same cases on SQLite and on a real PostgreSQL server.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deriveEventId, newCommandId } from '../../src/events/ids.js';
import {
  AppendOnlyError,
  ConcurrencyError,
  IdempotencyConflictError,
  type Projection,
  type StoredEvent,
} from '../../src/store/index.js';
import { commandEvents } from '../support/events.js';
import { storeTargets, type TestStore } from '../support/stores.js';
import { tamper } from '../support/tamper.js';

async function counterProjection(store: TestStore['store'], options: { failOn?: string } = {}): Promise<Projection> {
  await sql`CREATE TABLE IF NOT EXISTS test_counts (stream_id TEXT PRIMARY KEY, events INTEGER NOT NULL, last_type TEXT NOT NULL)`.execute(
    store.db,
  );
  const projection: Projection = {
    name: 'test_counts',
    handles: ['test.happened', 'test.other'],
    tables: ['test_counts'],
    async apply(trx, event: StoredEvent) {
      if (options.failOn && (event.data as { note?: string }).note === options.failOn) {
        throw new Error('projection failed on purpose');
      }
      await trx
        .insertInto('test_counts')
        .values({ stream_id: event.streamId, events: 1, last_type: event.type })
        .onConflict((oc) =>
          oc.column('stream_id').doUpdateSet({
            events: sql`test_counts.events + 1`,
            last_type: event.type,
          }),
        )
        .execute();
    },
  };
  store.registerProjection(projection);
  return projection;
}

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`event store on ${target.name}`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await target.open();
    });
    afterEach(async () => {
      await t.dispose();
    });

    it('appends and reads a stream in order, with global positions and a chain', async () => {
      const events = commandEvents(3);
      const result = await t.store.append('flow:a', 0, events);
      expect(result.alreadyAppended).toBe(false);
      expect(result.streams[0]!.version).toBe(3);
      const read = await t.store.readStream('flow:a');
      expect(read.map((e) => e.streamVersion)).toEqual([1, 2, 3]);
      expect(read.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
      expect(read.map((e) => e.data)).toEqual(events.map((e) => e.data));
      expect(read[1]!.prevHash).toBe(read[0]!.hash);
      expect(read[0]!.globalPosition).toBeLessThan(read[2]!.globalPosition);
      await t.store.append('flow:a', 3, commandEvents(1));
      expect(await t.store.streamVersion('flow:a')).toBe(4);
      expect(await t.store.streamVersion('flow:none')).toBe(0);
    });

    it('appendMany writes every stream or none', async () => {
      await t.store.append('grant:g', 0, commandEvents(1));
      const commandId = newCommandId();
      await expect(
        t.store.appendMany([
          { streamId: 'flow:f', expectedVersion: 0, events: commandEvents(2, { commandId }) },
          { streamId: 'grant:g', expectedVersion: 0, events: commandEvents(1, { commandId, startIndex: 2 }) },
        ]),
      ).rejects.toBeInstanceOf(ConcurrencyError);
      expect(await t.store.readStream('flow:f')).toHaveLength(0);
      expect(await t.store.readStream('grant:g')).toHaveLength(1);

      const ok = await t.store.appendMany([
        { streamId: 'flow:f', expectedVersion: 0, events: commandEvents(2, { commandId }) },
        { streamId: 'grant:g', expectedVersion: 1, events: commandEvents(1, { commandId, startIndex: 2 }) },
      ]);
      expect(ok.streams.map((s) => s.version)).toEqual([2, 2]);
    });

    it('names the stream and both versions in a ConcurrencyError', async () => {
      await t.store.append('flow:c', 0, commandEvents(2));
      const error = await t.store.append('flow:c', 1, commandEvents(1)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect(error).toMatchObject({ code: 'ERR_CONCURRENCY', streamId: 'flow:c', expectedVersion: 1, actualVersion: 2 });
    });

    it('lets exactly one of several concurrent writers on one stream win', async () => {
      for (let round = 0; round < 5; round++) {
        const streamId = `flow:race-${round}`;
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, () => t.store.append(streamId, 0, commandEvents(2))),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r) => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(7);
        for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ConcurrencyError);
        expect(await t.store.readStream(streamId)).toHaveLength(2);
      }
    });

    it('treats a true retry as idempotent and a different payload under the same ids as a conflict', async () => {
      const commandId = newCommandId();
      const events = commandEvents(2, { commandId });
      const first = await t.store.append('flow:i', 0, events);
      const retry = await t.store.append('flow:i', 0, events);
      expect(retry.alreadyAppended).toBe(true);
      expect(retry.streams[0]!.events.map((e) => e.globalPosition)).toEqual(
        first.streams[0]!.events.map((e) => e.globalPosition),
      );
      // The same retry after the stream moved on still returns the first result.
      await t.store.append('flow:i', 2, commandEvents(1));
      const late = await t.store.append('flow:i', 2, events);
      expect(late.alreadyAppended).toBe(true);

      const altered = events.map((e, i) => (i === 1 ? { ...e, data: { changed: true } } : e));
      await expect(t.store.append('flow:i', 0, altered)).rejects.toBeInstanceOf(IdempotencyConflictError);
      // Reused ids in another stream are a conflict too, not a silent duplicate.
      await expect(t.store.append('flow:other', 0, events)).rejects.toBeInstanceOf(IdempotencyConflictError);
      expect(await t.store.readStream('flow:i')).toHaveLength(3);
      expect(await t.store.readStream('flow:other')).toHaveLength(0);
    });

    it('derives different event ids for different commands', () => {
      const a = new Set(Array.from({ length: 50 }, (_, i) => deriveEventId(newCommandId(), i % 5)));
      expect(a.size).toBe(50);
      const c = newCommandId();
      expect(deriveEventId(c, 0)).toBe(deriveEventId(c, 0));
      expect(deriveEventId(c, 0)).not.toBe(deriveEventId(c, 1));
    });

    it('rolls the append back when a projection throws', async () => {
      await counterProjection(t.store, { failOn: 'boom' });
      await t.store.append('flow:p', 0, commandEvents(1));
      const bad = commandEvents(2, { data: (i) => ({ note: i === 1 ? 'boom' : 'fine' }) });
      await expect(t.store.append('flow:p', 1, bad)).rejects.toThrow('projection failed on purpose');
      expect(await t.store.readStream('flow:p')).toHaveLength(1);
      const row = await t.store.db.selectFrom('test_counts').selectAll().executeTakeFirstOrThrow();
      expect(Number(row.events)).toBe(1);
    });

    it('rebuilds a projection from the log into the same rows as the live one', async () => {
      await counterProjection(t.store);
      for (let s = 0; s < 20; s++) {
        await t.store.append(`flow:r${s}`, 0, commandEvents(1 + (s % 4)));
        if (s % 3 === 0) await t.store.append(`flow:r${s}`, 1 + (s % 4), commandEvents(1, { type: 'test.other' }));
        await t.store.append(`ignored:${s}`, 0, commandEvents(1, { type: 'test.ignored' }));
      }
      const live = await t.store.db.selectFrom('test_counts').selectAll().orderBy('stream_id').execute();
      await sql`UPDATE test_counts SET events = 999`.execute(t.store.db);
      const { events } = await t.store.rebuild('test_counts');
      expect(events).toBe(live.reduce((sum, r) => sum + Number(r.events), 0));
      const rebuilt = await t.store.db.selectFrom('test_counts').selectAll().orderBy('stream_id').execute();
      expect(rebuilt).toEqual(live);
    });

    it('reads the whole log in global order across batch boundaries', async () => {
      for (let s = 0; s < 7; s++) await t.store.append(`flow:o${s}`, 0, commandEvents(3));
      const all: StoredEvent[] = [];
      for await (const e of t.store.readAll({ batchSize: 4 })) all.push(e);
      expect(all).toHaveLength(21);
      const positions = all.map((e) => e.globalPosition);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      const tail: StoredEvent[] = [];
      for await (const e of t.store.readAll({ fromPosition: positions[9]!, toPosition: positions[14]!, batchSize: 2 })) {
        tail.push(e);
      }
      expect(tail.map((e) => e.globalPosition)).toEqual(positions.slice(10, 15));
    });

    it('verifies the chain of an untouched log', async () => {
      for (let s = 0; s < 5; s++) await t.store.append(`flow:v${s}`, 0, commandEvents(4));
      expect(await t.store.verifyChain({ batchSize: 3 })).toEqual([]);
    });

    const tamperings: Array<{ column: string; change: string }> = [
      { column: 'data', change: `data = replace(data, 'event 1', 'event 7')` },
      { column: 'metadata', change: `metadata = replace(metadata, '"test"', '"tset"')` },
      { column: 'type', change: `type = 'test.happenet'` },
      { column: 'event_id', change: `event_id = CASE WHEN substr(event_id, 1, 1) = '0' THEN '1' ELSE '0' END || substr(event_id, 2)` },
      { column: 'stream_version', change: `stream_version = stream_version + 100` },
      { column: 'schema_version', change: `schema_version = 2` },
      { column: 'occurred_at', change: `occurred_at = occurred_at + 1` },
      { column: 'payload_hash', change: `payload_hash = CASE WHEN substr(payload_hash, 1, 1) = '0' THEN '1' ELSE '0' END || substr(payload_hash, 2)` },
      { column: 'prev_hash', change: `prev_hash = CASE WHEN substr(prev_hash, 1, 1) = '0' THEN '1' ELSE '0' END || substr(prev_hash, 2)` },
      { column: 'hash', change: `hash = CASE WHEN substr(hash, 1, 1) = '0' THEN '1' ELSE '0' END || substr(hash, 2)` },
    ];
    for (const { column, change } of tamperings) {
      it(`detects and locates a change to ${column}`, async () => {
        for (let s = 0; s < 3; s++) await t.store.append(`flow:t${s}`, 0, commandEvents(3));
        const victim = (await t.store.readStream('flow:t1'))[1]!;
        await tamper(t.store, sql`UPDATE events SET ${sql.raw(change)} WHERE global_position = ${victim.globalPosition}`);
        const breaks = await t.store.verifyChain();
        expect(breaks.length).toBeGreaterThan(0);
        expect(breaks.every((b) => b.streamId === 'flow:t1')).toBe(true);
        expect(breaks.map((b) => b.globalPosition)).toContain(victim.globalPosition);
      });
    }

    it('rejects UPDATE and DELETE on the events table', async () => {
      await t.store.append('flow:u', 0, commandEvents(2));
      await expect(sql`UPDATE events SET type = 'x'`.execute(t.store.db)).rejects.toThrow(/append-only/);
      await expect(sql`DELETE FROM events`.execute(t.store.db)).rejects.toThrow(/append-only/);
      expect(await t.store.readStream('flow:u')).toHaveLength(2);
      const translated = t.store.dialect.translateError(
        await sql`DELETE FROM events`.execute(t.store.db).catch((e: unknown) => e),
      );
      expect(translated).toBeInstanceOf(AppendOnlyError);
    });

    it('allows deletion only of rows a retention checkpoint covers, and the rest still verifies', async () => {
      await t.store.append('flow:old', 0, commandEvents(3));
      await t.store.append('flow:new', 0, commandEvents(2));
      const old = await t.store.readStream('flow:old');
      await t.store.db
        .insertInto('stream_checkpoints')
        .values({ stream_id: 'flow:old', through_version: 2, through_hash: old[1]!.hash, archive_digest: 'x', created_at: 0 })
        .execute();
      await expect(sql`DELETE FROM events WHERE stream_id = 'flow:old'`.execute(t.store.db)).rejects.toThrow(/append-only/);
      await sql`DELETE FROM events WHERE stream_id = 'flow:old' AND stream_version <= 2`.execute(t.store.db);
      expect(await t.store.readStream('flow:old')).toHaveLength(1);
      expect(await t.store.verifyChain()).toEqual([]);
      await expect(sql`DELETE FROM stream_checkpoints`.execute(t.store.db)).rejects.toThrow(/append-only/);
    });
  });
}

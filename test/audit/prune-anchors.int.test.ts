/**
 * Signed anchors across `flowgate prune` (docs/audit.md, "Signed anchors"; migration 0007):
 * the retention path records every removed event's (position, stream, version, hash) in
 * `pruned_events`, so anchors made before a prune still verify, anchors made after it cover
 * the pruned positions, and the audit says what was pruned since the newest anchor. Changing
 * or deleting a `pruned_events` row (triggers out of the way) is caught by the anchors.
 *
 * Checked by mutation (once, then restored): without the `pruned_events` rows in the global
 * pass and the heads (the audit before migration 0007), "what remains still verifies"
 * failed with anchor findings; without the digest comparison in src/audit/global-pass.ts,
 * "a changed pruned_events row" and "a deleted pruned_events row" failed (unseen or
 * unlocated).
 */
import { sql, type RawBuilder } from 'kysely';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pruneLog } from '../../src/audit/archive/prune.js';
import { runAudit, type AuditReport } from '../../src/audit/index.js';
import type { EventStore } from '../../src/store/event-store.js';
import { exportLog } from '../../src/store/export.js';
import { importLog } from '../../src/store/import.js';
import { exportKeys, parseKeyFile } from '../../src/store/key-file.js';
import { fileSink } from '../../src/store/line-sink.js';
import { readFileSync } from 'node:fs';
import { storeTargets } from '../support/stores.js';
import { engineWithTraffic } from './support/traffic.js';

/** Runs raw statements on `pruned_events` with its append-only triggers out of the way. */
async function tamperPruned(store: EventStore, ...statements: RawBuilder<unknown>[]): Promise<void> {
  const db = store.db;
  if (store.dialect.name === 'sqlite') {
    for (const trigger of ['pruned_events_no_update', 'pruned_events_no_delete']) await sql`DROP TRIGGER IF EXISTS ${sql.id(trigger)}`.execute(db);
    for (const statement of statements) await statement.execute(db);
    return;
  }
  await db.connection().execute(async (conn) => {
    await sql`ALTER TABLE pruned_events DISABLE TRIGGER USER`.execute(conn);
    try {
      for (const statement of statements) await statement.execute(conn);
    } finally {
      await sql`ALTER TABLE pruned_events ENABLE TRIGGER USER`.execute(conn);
    }
  });
}

function kinds(report: AuditReport): string[] {
  return Object.keys(report.findings.byKind).sort();
}

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`anchors across a prune on ${target.name}`, () => {
    let ctx: Awaited<ReturnType<typeof engineWithTraffic>>;
    let dir: string;
    let anchors: string;
    let pruned: Awaited<ReturnType<typeof pruneLog>>;
    const store = () => ctx.t.store.store;
    const audit = () => runAudit(store(), { anchorsFile: anchors, checks: { projections: false }, now: ctx.t.clock.now });
    const anchor = async () => {
      const report = await runAudit(store(), { anchor: ctx.anchorKey, checks: { projections: false }, now: ctx.t.clock.now });
      if (!report.anchor || !('created' in report.anchor)) throw new Error(`no anchor: ${JSON.stringify(report.findings.listed)}`);
      writeFileSync(anchors, `${report.anchor.created.jws}\n`, { flag: 'a' });
      return report.anchor.created;
    };

    beforeEach(async () => {
      ctx = await engineWithTraffic(target);
      dir = mkdtempSync(join(tmpdir(), 'flowgate-prune-anchors-'));
      anchors = join(dir, 'anchors.jws');
      await anchor();
      ctx.t.clock.advance(3_600_000);
      pruned = await pruneLog(store(), fileSink(join(dir, 'archive.jsonl')), { before: ctx.t.clock.now(), now: ctx.t.clock.now });
      expect(pruned.events).toBeGreaterThan(0);
    });
    afterEach(async () => {
      await ctx.t.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    it('what remains still verifies against the anchors made before the prune, and the report says what was pruned', async () => {
      const report = await audit();
      expect(report.findings.listed).toEqual([]);
      expect(report.checks.anchors).toBeGreaterThan(0);
      expect(report.pruned.events).toBe(pruned.events);
      expect(report.pruned.digested).toBe(pruned.events);
      expect(report.pruned.checkpoints).toBe(pruned.streams);
      expect(report.pruned.unrecorded).toBe(0);
      expect(report.pruned.sinceAnchor).toMatchObject({ events: pruned.events, checkpoints: pruned.streams });
      expect(report.pruned.sinceAnchor.anchorPosition).not.toBeNull();
      expect(report.pruned.sinceAnchor.listed.reduce((n, c) => n + c.events, 0)).toBe(pruned.events);
    });

    it('an anchor made after the prune covers the pruned events, and verifies with the earlier one', async () => {
      const before = await runAudit(store(), { checks: { projections: false } });
      const second = await anchor();
      expect(second.payload.events).toBe(before.events + pruned.events);
      const report = await audit();
      expect(report.findings.listed).toEqual([]);
      expect(report.checks.anchors).toBe(2);
      expect(report.pruned.sinceAnchor).toMatchObject({ events: 0, checkpoints: 0, listed: [] });
      // More traffic and a third anchor continue the chain.
      ctx.t.clock.advance(1000);
      await ctx.t.engine.sweep();
      await anchor();
      expect((await audit()).findings.listed).toEqual([]);
    });

    it('a changed pruned_events row is caught by the anchor and located', async () => {
      const row = await store().db.selectFrom('pruned_events').selectAll().orderBy('global_position').limit(1).executeTakeFirstOrThrow();
      await tamperPruned(store(), sql`UPDATE pruned_events SET hash = ${'0'.repeat(64)} WHERE global_position = ${row.global_position}`);
      const report = await audit();
      expect(kinds(report)).toEqual(expect.arrayContaining(['anchor.digest', 'anchor.segment']));
      expect(report.findings.listed.filter((f) => f.kind === 'anchor.segment').map((f) => f.position)).toContain(Number(row.global_position));
    });

    it('a deleted pruned_events row is caught by the anchor, before and after a new anchor', async () => {
      await anchor();
      const row = await store().db.selectFrom('pruned_events').selectAll().orderBy('global_position', 'desc').limit(1).executeTakeFirstOrThrow();
      await tamperPruned(store(), sql`DELETE FROM pruned_events WHERE global_position = ${row.global_position}`);
      const report = await audit();
      expect(kinds(report)).toEqual(expect.arrayContaining(['anchor.digest', 'anchor.events']));
      expect(report.pruned.unrecorded).toBe(1);
    });

    it('an export after the prune, imported into an empty store, still verifies against the anchors', async () => {
      const exported = join(dir, 'log.jsonl');
      const keysFile = join(dir, 'keys.jsonl');
      const summary = await exportLog(store(), fileSink(exported));
      expect(summary).toMatchObject({ checkpoints: pruned.streams, pruned: pruned.events });
      await exportKeys(store().db, fileSink(keysFile), ctx.t.clock.now());
      const restored = await target.open();
      try {
        const imported = await importLog(restored.store, exported, { keys: parseKeyFile(readFileSync(keysFile, 'utf8'), keysFile) });
        expect(imported).toMatchObject({ checkpoints: pruned.streams, pruned: pruned.events });
        const report = await runAudit(restored.store, { anchorsFile: anchors, checks: { projections: false }, now: ctx.t.clock.now });
        expect(report.findings.listed).toEqual([]);
        expect(report.checks.anchors).toBeGreaterThan(0);
        expect(report.pruned).toMatchObject({ events: pruned.events, checkpoints: pruned.streams, unrecorded: 0 });
        // New appends take positions after the pruned ones too.
        const appended = await restored.store.append('test:after-import', 0, [
          { eventId: '00000000-0000-8000-8000-00000000b001', type: 'test.happened', data: {}, occurredAt: 1 },
        ]);
        const highest = await restored.store.db.selectFrom('pruned_events').select((eb) => eb.fn.max('global_position').as('p')).executeTakeFirstOrThrow();
        expect(appended.streams[0]!.events[0]!.globalPosition).toBeGreaterThan(Number(highest.p));
      } finally {
        await restored.dispose();
      }
    });

    it('pruned_events is append-only', async () => {
      await expect(sql`UPDATE pruned_events SET hash = ${'0'.repeat(64)}`.execute(store().db)).rejects.toThrow(/append-only/);
      await expect(sql`DELETE FROM pruned_events`.execute(store().db)).rejects.toThrow(/append-only/);
    });
  });
}

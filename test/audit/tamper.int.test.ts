/**
 * Tampering with raw SQL, the way someone with write access to the database would, on a log
 * written by the real engine and anchored with the real keyring (in the database and in a
 * file): each change is detected and located.
 *
 * Each expectation below was checked to fail with its protection removed (once, then
 * restored): without the payload check the changed byte goes unseen; without the version
 * check a deleted row goes unseen by the chains; without the anchor digest and locator a
 * swap and a re-chained rewrite go unseen; without the heads check a dropped stream is not
 * named; without the file lookup deleted anchor rows go unseen.
 */
import { sql } from 'kysely';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runAudit, type AuditReport, type Finding } from '../../src/audit/index.js';
import { chainHash, canonicalEnvelope, payloadHashOfCanonical } from '../../src/store/hash-chain.js';
import { storeTargets } from '../support/stores.js';
import { swapPositions, tamper } from './support/forge.js';
import { engineWithTraffic } from './support/traffic.js';

function kinds(report: AuditReport): string[] {
  return Object.keys(report.findings.byKind).sort();
}

function located(report: AuditReport, kind: string): Finding[] {
  return report.findings.listed.filter((f) => f.kind === kind);
}

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`tampering is detected and located on ${target.name}`, () => {
    let ctx: Awaited<ReturnType<typeof engineWithTraffic>>;
    let dir: string;
    let file: string;

    /** The row of a stream version. */
    async function rowOf(streamId: string, version: number) {
      return ctx.t.store.store.db
        .selectFrom('events')
        .selectAll()
        .where('stream_id', '=', streamId)
        .where('stream_version', '=', version)
        .executeTakeFirstOrThrow();
    }

    /** Audits with the anchors file, projections included. */
    const audit = () => runAudit(ctx.t.store.store, { anchorsFile: file });

    beforeEach(async () => {
      ctx = await engineWithTraffic(target);
      dir = mkdtempSync(join(tmpdir(), 'flowgate-audit-'));
      file = join(dir, 'anchors.jws');
      const report = await runAudit(ctx.t.store.store, { anchor: ctx.anchorKey, checks: { projections: false } });
      if (!report.anchor || !('created' in report.anchor)) throw new Error('no anchor');
      writeFileSync(file, `${report.anchor.created.jws}\n`);
      expect((await audit()).findings.total).toBe(0);
    });
    afterEach(async () => {
      await ctx.t.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    it('one byte changed in an old event: the payload hash breaks at that event', async () => {
      const victim = await rowOf(ctx.traffic.flows[0]!.flow, 1);
      const position = Number(victim.global_position);
      await tamper(
        ctx.t.store.store,
        sql`UPDATE events SET data = substr(data, 1, 20) || CASE WHEN substr(data, 21, 1) = 'x' THEN 'y' ELSE 'x' END || substr(data, 22)
            WHERE global_position = ${position}`,
      );
      const report = await audit();
      expect(located(report, 'chain.payload_hash')).toEqual([
        { kind: 'chain.payload_hash', streamId: victim.stream_id, position, version: 1, reason: expect.stringContaining('payload') },
      ]);
    });

    it('an old event rewritten and its stream re-chained: the anchor locates the event and the stream', async () => {
      const stream = ctx.traffic.flows[0]!.flow;
      const rows = await ctx.t.store.store.db.selectFrom('events').selectAll().where('stream_id', '=', stream).orderBy('stream_version').execute();
      // Change consent.approved's basis from "user" to "remembered", then recompute every hash after it.
      const statements = [];
      let prev = rows[0]!.hash as string;
      for (const row of rows.slice(1)) {
        const data = row.stream_version === 3 ? (row.data as string).replace('"user"', '"remembered"') : (row.data as string);
        const payloadHash = payloadHashOfCanonical(data);
        const envelope = canonicalEnvelope({
          eventId: row.event_id,
          streamId: row.stream_id,
          streamVersion: Number(row.stream_version),
          type: row.type,
          schemaVersion: Number(row.schema_version),
          occurredAt: Number(row.occurred_at),
          metadata: JSON.parse(row.metadata),
        });
        const hash = chainHash(prev, envelope, payloadHash);
        statements.push(
          sql`UPDATE events SET data = ${data}, payload_hash = ${payloadHash}, prev_hash = ${prev}, hash = ${hash} WHERE global_position = ${row.global_position}`,
        );
        prev = hash;
      }
      await tamper(ctx.t.store.store, ...statements);
      const report = await audit();
      expect(kinds(report).filter((k) => k.startsWith('chain.'))).toEqual([]);
      const changed = rows.find((r) => Number(r.stream_version) === 3)!;
      const segments = located(report, 'anchor.segment');
      expect(segments.map((f) => [f.streamId, f.position])).toContainEqual([stream, Number(changed.global_position)]);
      expect(segments.every((f) => f.streamId === stream)).toBe(true);
      expect(located(report, 'anchor.heads')).toEqual([expect.objectContaining({ streamId: stream, reason: expect.stringContaining('anchored head is version') })]);
      expect(located(report, 'anchor.digest')).toHaveLength(1);
    });

    it('a deleted row: the chain names the gap, the anchor the position', async () => {
      const stream = ctx.traffic.flows[0]!.flow;
      const victim = await rowOf(stream, 3);
      const position = Number(victim.global_position);
      await tamper(ctx.t.store.store, sql`DELETE FROM events WHERE global_position = ${position}`);
      const report = await audit();
      expect(located(report, 'chain.version_gap')).toEqual([
        expect.objectContaining({ streamId: stream, version: 4, reason: 'expected version 3, found 4: an event was removed' }),
      ]);
      expect(located(report, 'anchor.segment')).toContainEqual(
        expect.objectContaining({ streamId: '(log)', position, reason: expect.stringContaining(`no event left at position ${position}`) }),
      );
      expect(located(report, 'anchor.events')).toHaveLength(1);
    });

    it("a stream's last row deleted: the chains cannot see it, the anchored heads can", async () => {
      const grant = ctx.traffic.flows[0]!.grant;
      const last = await ctx.t.store.store.db
        .selectFrom('events')
        .selectAll()
        .where('stream_id', '=', grant)
        .orderBy('stream_version', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow();
      await tamper(ctx.t.store.store, sql`DELETE FROM events WHERE global_position = ${last.global_position}`);
      const report = await audit();
      expect(kinds(report).filter((k) => k.startsWith('chain.'))).toEqual([]);
      expect(located(report, 'anchor.heads')).toEqual([
        expect.objectContaining({
          streamId: grant,
          reason: expect.stringContaining(`anchored head is version ${last.stream_version}`),
        }),
      ]);
    });

    it('two rows swapped in global order: the anchor locates both positions', async () => {
      const a = await rowOf(ctx.traffic.flows[0]!.flow, 2);
      const b = await rowOf(ctx.traffic.flows[2]!.flow, 2);
      const pa = Number(a.global_position);
      const pb = Number(b.global_position);
      await swapPositions(ctx.t.store.store, pa, pb);
      const report = await audit();
      // Each stream's chain still verifies: the global position is not hashed.
      expect(kinds(report).filter((k) => k.startsWith('chain.'))).toEqual([]);
      expect(located(report, 'anchor.segment').map((f) => [f.position, f.streamId])).toEqual([
        [pa, b.stream_id],
        [pb, a.stream_id],
      ]);
    });

    it('a whole stream dropped: the anchor names the stream', async () => {
      const grant = ctx.traffic.flows[0]!.grant;
      await tamper(ctx.t.store.store, sql`DELETE FROM events WHERE stream_id = ${grant}`);
      const report = await audit();
      expect(located(report, 'anchor.heads')).toContainEqual(
        expect.objectContaining({ streamId: grant, reason: expect.stringContaining('the stream was removed') }),
      );
      expect(located(report, 'anchor.events')).toHaveLength(1);
      // The flow's redemption lost its grant; the grants projection still has it.
      expect(located(report, 'invariant.redemption_without_grant')).toEqual([
        expect.objectContaining({ streamId: ctx.traffic.flows[0]!.flow }),
      ]);
      expect(located(report, 'projection.extra_row').map((f) => f.streamId)).toContain(grant);
    });

    it('the anchor rows deleted: the anchors kept in a file reveal it', async () => {
      // A second anchor, so the database holds a chain of two.
      const second = await runAudit(ctx.t.store.store, { anchor: ctx.anchorKey, checks: { projections: false } });
      if (!second.anchor || !('created' in second.anchor)) throw new Error('no second anchor');
      writeFileSync(file, `${second.anchor.created.jws}\n`, { flag: 'a' });
      const anchors = await ctx.t.store.store.db.selectFrom('audit_anchors').select(['anchor_id', 'position']).orderBy('anchor_id').execute();
      expect(anchors).toHaveLength(2);

      // Deleting the older one breaks the chain of anchors in the database already.
      await tamper(ctx.t.store.store, sql`DELETE FROM audit_anchors WHERE anchor_id = ${anchors[0]!.anchor_id}`);
      const withoutFile = await runAudit(ctx.t.store.store, { checks: { projections: false } });
      expect(located(withoutFile, 'anchor.chain')).toEqual([expect.objectContaining({ position: Number(anchors[1]!.position) })]);

      // Deleting them all leaves nothing in the database to compare with: the file does.
      await tamper(ctx.t.store.store, sql`DELETE FROM audit_anchors`);
      expect((await runAudit(ctx.t.store.store, { checks: { projections: false } })).findings.total).toBe(0);
      const report = await audit();
      expect(located(report, 'anchor.missing').map((f) => f.position)).toEqual(anchors.map((a) => Number(a.position)));
      expect(report.findings.total).toBe(2);
    });
  });
}

/**
 * `flowgate prune` on SQLite and PostgreSQL: finished flows and ended grants older than the
 * cutoff are archived and removed through checkpoints; a flow whose grant is still live
 * stays; what remains verifies, audits clean and rebuilds to the same projections, which
 * keep no row of a pruned stream; the archive verifies on its own and against the store,
 * and a changed, removed or re-forged archive line is found.
 *
 * Protections checked by mutation (each removed once, the test watched failing, restored):
 * - the chain check in src/store/retention.ts (`verifyStreamChain` before deleting):
 *   "keeps a stream whose chain does not verify" failed (the tampered stream was pruned);
 * - the grant-state rule in src/audit/archive/prune.ts (`ENDED_GRANT_STATES`): "keeps a
 *   flow whose grant is live" failed (the live grant was pruned);
 * - the projection clean-up (`removeProjectedRows`): "leaves no projection row" failed;
 * - the store comparison in src/audit/archive/verify-archive.ts (`compareWithStore`):
 *   "finds a re-forged archive against the store" failed (the forgery verified);
 * - the events table's delete trigger (migration 0001), dropped on a scratch store: "the
 *   log refuses to delete rows no checkpoint covers" failed.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneLog } from '../../src/audit/archive/prune.js';
import { PRUNED_ROWS } from '../../src/audit/archive/projection-retention.js';
import { verifyArchive } from '../../src/audit/archive/verify-archive.js';
import { runAudit } from '../../src/audit/index.js';
import { grantKeyId } from '../../src/crypto/vault.js';
import { rebuildAll } from '../../src/engine/replay.js';
import { canonicalJson } from '../../src/events/canonical-json.js';
import { canonicalEnvelope, chainHash, genesisHash, payloadHashOfCanonical } from '../../src/store/hash-chain.js';
import { fileSink } from '../../src/store/line-sink.js';
import { storeTargets } from '../support/stores.js';
import { tamperEvents } from './support.js';
import { openScenarioEngine, writeScenario, type Scenario, type ScenarioEngine } from '../replay/support/scenario.js';
import { projectionRows } from '../replay/support/tables.js';

const HOUR = 3_600_000;

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`prune on ${target.name}`, () => {
    let s: ScenarioEngine;
    let scenario: Scenario;
    let dir: string;
    let archive: string;
    let report: Awaited<ReturnType<typeof pruneLog>>;
    let tampered: string;
    beforeAll(async () => {
      s = await openScenarioEngine(target);
      scenario = await writeScenario(s);
      // One more finished flow, whose chain someone broke: it must stay as evidence.
      s.clock.advance(1000);
      const extra = await s.engine.execute({
        type: 'StartFlow',
        clientId: 'client-replay',
        redirectUri: 'http://127.0.0.1:53682/callback',
        codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        scopes: ['mcp:tools'],
        resource: 'http://127.0.0.1:8787/mcp',
        clientState: null,
        browserHash: 'b'.repeat(43),
      });
      s.clock.advance(s.engine.options.settings.flowTtlMs + 1000);
      await s.engine.sweep();
      tampered = `flow:${extra.flowId}`;
      await tamperEvents(s.store, sql`UPDATE events SET data = replace(data, '"scopes":["mcp:tools"]', '"scopes":["mcp:admin"]') WHERE stream_id = ${tampered} AND stream_version = 1`);
      s.clock.advance(HOUR);
      dir = mkdtempSync(join(tmpdir(), 'flowgate-prune-'));
      archive = join(dir, 'archive.jsonl');
      report = await pruneLog(s.store, fileSink(archive), { before: s.clock.now() - HOUR / 2, batchSize: 2, now: s.clock.now });
    });
    afterAll(async () => {
      await s?.dispose();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const eventsOf = async (streamId: string) => (await s.store.readStream(streamId)).length;

    it('archives and removes finished flows with their ended grants, one transaction per batch', async () => {
      expect(report).toMatchObject({ units: 4, streams: 6, dryRun: false });
      expect(report.batches).toBeGreaterThanOrEqual(2);
      for (const id of [scenario.revoked.flow, scenario.revoked.grant, scenario.denied.flow, scenario.abandoned.flow, scenario.replayed.flow, scenario.replayed.grant]) {
        expect(await eventsOf(id), id).toBe(0);
      }
      const checkpoints = await s.store.db.selectFrom('stream_checkpoints').selectAll().execute();
      expect(checkpoints).toHaveLength(6);
      const lines = readFileSync(archive, 'utf8').trimEnd().split('\n');
      expect(JSON.parse(lines[0]!)).toMatchObject({ kind: 'header', type: 'archive', cutoff: s.clock.now() - HOUR / 2 });
      expect(lines.filter((l) => l.includes('"kind":"event"'))).toHaveLength(report.events);
    });

    it('keeps a flow whose grant is live, and the client', async () => {
      expect(await eventsOf(scenario.live.flow)).toBe(8);
      expect(await eventsOf(scenario.live.grant)).toBe(4);
      expect(await eventsOf(scenario.client)).toBeGreaterThan(0);
      expect(report.kept).toContainEqual({ label: scenario.live.flow, reason: 'its grant is in state live.idle, not ended' });
    });

    it('keeps a stream whose chain does not verify', async () => {
      expect(await eventsOf(tampered)).toBe(2);
      expect(report.kept).toContainEqual({ label: tampered, reason: `the hash chain of ${tampered} does not verify; it is kept as evidence (run flowgate audit)` });
    });

    it('leaves a log that verifies and audits clean apart from the tampered stream', async () => {
      const breaks = await s.store.verifyChain();
      expect(breaks.map((b) => `${b.streamId} ${b.kind}`)).toEqual([`${tampered} payload_hash`]);
      const audited = await runAudit(s.store);
      expect(audited.findings.listed.every((f) => f.streamId === tampered)).toBe(true);
      expect(audited.findings.total).toBeGreaterThan(0);
    });

    it('leaves no projection row of a pruned stream, and a rebuild equals the live views', async () => {
      const gone = { flow: [scenario.revoked.flow, scenario.denied.flow, scenario.abandoned.flow, scenario.replayed.flow], grant: [scenario.revoked.grant, scenario.replayed.grant] };
      for (const [table, columns] of Object.entries(PRUNED_ROWS)) {
        for (const category of ['flow', 'grant'] as const) {
          const column = columns[category];
          if (!column) continue;
          const ids = gone[category].map((id) => id.slice(id.indexOf(':') + 1));
          const rows = await s.store.db.selectFrom(table).select(column).where(column, 'in', ids).execute();
          expect(rows, `${table}.${column}`).toEqual([]);
        }
      }
      const live = await projectionRows(s.store.db);
      expect(live.transactions!.length).toBe(2);
      await rebuildAll(s.store);
      // The tampered flow's row differs by design (its payload was changed under the projection).
      const honest = (rows: string[]) => rows.filter((r) => !r.includes(tampered.slice('flow:'.length)));
      const rebuilt = await projectionRows(s.store.db);
      for (const table of Object.keys(live)) expect(honest(rebuilt[table]!), table).toEqual(honest(live[table]!));
    });

    it("destroys the pruned grants' data keys, not the live one's", async () => {
      const keys = await s.store.db.selectFrom('data_keys').select(['key_id', 'destroyed_at']).execute();
      const destroyed = (id: string) => keys.find((k) => k.key_id === grantKeyId(id))?.destroyed_at !== null;
      expect(destroyed(scenario.denied.grantId)).toBe(true);
      expect(destroyed(scenario.revoked.grant.slice('grant:'.length))).toBe(true);
      expect(destroyed(scenario.live.grant.slice('grant:'.length))).toBe(false);
    });

    it('writes an archive that verifies on its own and against the store', async () => {
      const offline = await verifyArchive(archive);
      expect(offline).toMatchObject({ streams: 6, events: report.events, againstStore: false, findings: [] });
      const online = await verifyArchive(archive, { db: s.store.db });
      expect(online.findings).toEqual([]);
    });

    it('finds a changed line and a removed line in the archive', async () => {
      const lines = readFileSync(archive, 'utf8').trimEnd().split('\n');
      const victim = lines.findIndex((l) => l.includes('"type":"consent.denied"'));
      const changed = join(dir, 'changed.jsonl');
      writeFileSync(changed, `${lines.map((l, i) => (i === victim ? l.replace('"type":"consent.denied"', '"type":"consent.approved"') : l)).join('\n')}\n`);
      const found = await verifyArchive(changed);
      expect(found.findings.map((f) => `${f.line} ${f.kind}`)).toEqual([`${victim + 1} chain`, `${victim + 2} digest`, `${lines.length} digest`]);
      expect(found.findings[0]!.reason).toMatch(/the envelope does not match its hash/);

      const removed = join(dir, 'removed.jsonl');
      writeFileSync(removed, `${lines.filter((_, i) => i !== victim - 1).join('\n')}\n`);
      const missing = await verifyArchive(removed);
      expect(missing.findings[0]).toMatchObject({ line: victim, kind: 'chain' });
      expect(missing.findings[0]!.reason).toMatch(/an event is missing/);
    });

    it('finds a re-forged archive against the store', async () => {
      // A forger edits the denied flow's first event and recomputes every hash and digest.
      const lines = readFileSync(archive, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      const stream = lines.filter((l) => l.streamId === scenario.denied.flow && l.kind === 'event');
      let prev = genesisHash(scenario.denied.flow);
      for (const e of stream) {
        if (e.version === 1) e.data = { ...e.data, redirectUri: 'http://127.0.0.1:1/evil' };
        e.payloadHash = payloadHashOfCanonical(canonicalJson(e.data));
        e.prevHash = prev;
        e.hash = chainHash(prev, canonicalEnvelope({ eventId: e.eventId, streamId: e.streamId, streamVersion: e.version, type: e.type, schemaVersion: e.schemaVersion, occurredAt: e.occurredAt, metadata: e.metadata }), e.payloadHash);
        prev = e.hash;
      }
      const checkpoint = lines.find((l) => l.kind === 'checkpoint' && l.streamId === scenario.denied.flow)!;
      checkpoint.throughHash = prev;
      checkpoint.archiveDigest = createHash('sha256').update(stream.map((e) => `${canonicalJson(e)}\n`).join('')).digest('hex');
      const body = lines.slice(0, -1).map((l) => canonicalJson(l));
      const end = { kind: 'end', events: lines.at(-1)!.events, digest: createHash('sha256').update(body.map((l) => `${l}\n`).join('')).digest('hex') };
      const forged = join(dir, 'forged.jsonl');
      writeFileSync(forged, `${[...body, canonicalJson(end)].join('\n')}\n`);
      expect((await verifyArchive(forged)).findings).toEqual([]);
      const online = await verifyArchive(forged, { db: s.store.db });
      expect(online.findings).toHaveLength(1);
      expect(online.findings[0]).toMatchObject({ streamId: scenario.denied.flow, kind: 'checkpoint.mismatch' });
      expect(online.findings[0]!.reason).toContain('the last hash differs');
    });

    it('prunes nothing more on a second run, and counts on a dry run without writing', async () => {
      const dry = await pruneLog(s.store, null, { before: s.clock.now(), dryRun: true });
      expect(dry).toMatchObject({ units: 0, streams: 0, dryRun: true, digest: null });
      const second = await pruneLog(s.store, fileSink(join(dir, 'second.jsonl')), { before: s.clock.now(), now: s.clock.now });
      expect(second).toMatchObject({ units: 0, streams: 0 });
      expect((await verifyArchive(join(dir, 'second.jsonl'), { db: s.store.db })).findings).toEqual([]);
    });

    it('the log refuses to delete rows no checkpoint covers', async () => {
      await expect(s.store.db.deleteFrom('events').where('stream_id', '=', scenario.live.flow).execute()).rejects.toThrow(/append-only/);
      expect(await eventsOf(scenario.live.flow)).toBe(8);
    });

    // Runs last: it expires the live grant.
    it('prunes the last flow once its grant has expired, and what remains still verifies', async () => {
      s.clock.advance(s.engine.options.settings.refreshIdleTtlMs + HOUR);
      await s.engine.sweep();
      expect((await s.store.readStream(scenario.live.grant)).at(-1)!.type).toBe('grant.expired');
      s.clock.advance(HOUR);
      const file = join(dir, 'expired.jsonl');
      const third = await pruneLog(s.store, fileSink(file), { before: s.clock.now(), now: s.clock.now });
      expect(third).toMatchObject({ units: 1, streams: 2, events: 13 });
      expect(await eventsOf(scenario.live.flow)).toBe(0);
      expect(await eventsOf(scenario.live.grant)).toBe(0);
      expect((await verifyArchive(file)).findings).toEqual([]);
      expect((await verifyArchive(file, { db: s.store.db })).findings).toEqual([]);
      expect((await verifyArchive(archive, { db: s.store.db })).findings).toEqual([]);
      expect((await s.store.verifyChain()).map((b) => b.streamId)).toEqual([tampered]);
      expect(await s.store.db.selectFrom('grants').select('grant_id').execute()).toEqual([]);
    });
  });
}

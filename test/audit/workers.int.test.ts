/**
 * The stream pass on worker threads (a SQLite file split into ranges of streams) finds
 * exactly what the single-threaded pass finds, heads included; findings of a log broken
 * everywhere are all counted but listed in bounded number; and the synthetic log the
 * benchmark audits is sealed exactly as the store seals events. The projection diff on its
 * worker thread reports exactly what it reports in the main thread.
 */
import { sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/index.js';
import { parseConfig } from '../../src/config/load.js';
import { rebuildAll } from '../../src/engine/replay.js';
import { PROJECTIONS } from '../../src/projections/index.js';
import type { EventStore } from '../../src/store/event-store.js';
import { openStore } from '../../src/store/open-store.js';
import { sealEvent } from '../../src/store/seal-event.js';
import { tamper } from './support/forge.js';
import { seedSqliteFile, syntheticCommands } from './support/synthetic-log.js';

describe('synthetic log', () => {
  it('seals every row as the store does', () => {
    const heads = new Map<string, string>();
    let rows = 0;
    for (const command of syntheticCommands({ events: 400, clients: 3 })) {
      for (const row of command) {
        const metadata = JSON.parse(row.metadata);
        const sealed = sealEvent(row.stream_id, row.stream_version, row.prev_hash, {
          eventId: row.event_id,
          type: row.type,
          data: JSON.parse(row.data),
          metadata,
          occurredAt: row.occurred_at,
        });
        expect(sealed).toEqual(row);
        if (row.stream_version > 1) expect(row.prev_hash).toBe(heads.get(row.stream_id));
        heads.set(row.stream_id, row.hash);
        rows++;
      }
    }
    expect(rows).toBeGreaterThanOrEqual(400);
  });
});

describe('the stream pass on worker threads', () => {
  let dir: string;
  let store: EventStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-audit-workers-'));
    const config = parseConfig({ values: { dataDir: dir, store: { sqlitePath: join(dir, 'log.db'), synchronous: 'NORMAL' } } });
    await (await openStore(config)).close();
    seedSqliteFile(join(dir, 'log.db'), { events: 3000, clients: 5 });
    store = await openStore(config);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const checks = { projections: false } as const;

  it('finds, counts and locates exactly what one thread does', async () => {
    const victim = await store.db
      .selectFrom('events')
      .select(['global_position', 'stream_id', 'stream_version'])
      .where('type', '=', 'code.issued')
      .orderBy('stream_id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    await tamper(store, sql`UPDATE events SET type = 'code.reissued' WHERE global_position = ${victim.global_position}`);
    const one = await runAudit(store, { workers: 0, checks });
    const two = await runAudit(store, { workers: 2, checks, batchSize: 500 });
    expect([one.workers, two.workers]).toEqual([0, 2]);
    expect(two.findings).toEqual(one.findings);
    expect([two.events, two.streams, two.refolded]).toEqual([one.events, one.streams, one.refolded]);
    expect(one.refolded.notRefolded).toBe(0);
    // The changed type breaks the row's hash, and the re-fold refuses it.
    expect(one.findings.listed).toEqual([
      expect.objectContaining({ kind: 'chain.hash', streamId: victim.stream_id, position: Number(victim.global_position) }),
      expect.objectContaining({ kind: 'machine.illegal', streamId: victim.stream_id, reason: expect.stringMatching(/^code.reissued is not accepted/) }),
    ]);
  });

  it('counts every finding of a log broken everywhere, and lists a bounded number', async () => {
    // One byte more in every payload (still JSON): every row breaks its payload hash.
    await tamper(store, sql`UPDATE events SET data = data || ' '`);
    const rows = Number((await sql<{ n: number }>`SELECT count(*) AS n FROM events`.execute(store.db)).rows[0]!.n);
    const report = await runAudit(store, { workers: 2, checks });
    const f = report.findings;
    expect(f.byKind['chain.payload_hash']).toBe(rows);
    expect(f.listed.filter((x) => x.kind === 'chain.payload_hash')).toHaveLength(200);
    expect(f.unlisted).toBe(f.total - f.listed.length);
    expect(f.listed.map((x) => x.position)).toEqual([...f.listed.map((x) => x.position)].sort((a, b) => a - b));
    const fewer = await runAudit(store, { workers: 2, checks, maxListed: 50 });
    expect([fewer.findings.total, fewer.findings.listed.length]).toEqual([f.total, 50]);
  });
});

describe('the projection diff on a worker thread', () => {
  let dir: string;
  let store: EventStore;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-audit-projection-worker-'));
    const config = parseConfig({ values: { dataDir: dir, store: { sqlitePath: join(dir, 'log.db'), synchronous: 'NORMAL' } } });
    await (await openStore(config)).close();
    seedSqliteFile(join(dir, 'log.db'), { events: 3000, clients: 5 });
    store = await openStore(config);
    for (const p of PROJECTIONS) store.registerProjection(p);
    await rebuildAll(store);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rebuilds, compares and reports exactly what the main thread does', async () => {
    const clean = await runAudit(store, { workers: 2, scratch: 'file' });
    expect(clean.findings.total).toBe(0);
    expect(clean.projections).toMatchObject({ events: clean.events, scratch: 'file', inFlux: 0 });

    const grant = await store.db.selectFrom('grants').select('grant_id').orderBy('grant_id').limit(1).executeTakeFirstOrThrow();
    await sql`UPDATE grants SET status = 'revoked' WHERE grant_id = ${grant.grant_id}`.execute(store.db);
    await sql`DELETE FROM refresh_tokens WHERE rowid IN (SELECT rowid FROM refresh_tokens ORDER BY rowid LIMIT 3)`.execute(store.db);
    const progress = (phases: string[]) => ({ phase: (name: string) => phases.push(name), advance: () => {}, end: () => {} });
    const mainPhases: string[] = [];
    const workerPhases: string[] = [];
    const main = await runAudit(store, { workers: 0, batchSize: 500, progress: progress(mainPhases) });
    const worker = await runAudit(store, { workers: 2, batchSize: 500, progress: progress(workerPhases) });
    expect(worker.workers).toBe(2);
    expect(worker.findings).toEqual(main.findings);
    expect(worker.projections).toEqual(main.projections);
    expect(workerPhases).toEqual(mainPhases);
    expect(main.findings.byKind).toEqual({ 'projection.differs': 1, 'projection.missing_row': 3 });
    expect(main.findings.listed).toContainEqual(expect.objectContaining({ kind: 'projection.differs', streamId: `grant:${grant.grant_id}` }));
  });
});

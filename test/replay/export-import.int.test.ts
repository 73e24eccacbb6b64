/**
 * `export` and `import` on SQLite and PostgreSQL (and from SQLite into PostgreSQL): the
 * round trip keeps every row (global positions included), verifies, rebuilds to the same
 * projections, opens sealed personal data with the restored keys and passes the audit with
 * its signed anchor; the export holds no secret; import refuses a non-empty store, a
 * changed, missing or reordered line, a truncated file, a partial export and keys wrapped
 * by another master key, leaving the store empty.
 *
 * The edited files get a recomputed end line, as a forger would write them, so each refusal
 * comes from the per-event checks, not from the end digest.
 *
 * Protections checked by mutation (each removed once, the test watched failing, restored):
 * - the re-hash of each line in src/store/import.ts (`eventLineProblem`): "refuses a changed
 *   line" failed (the import succeeded);
 * - the emptiness check (`assertEmpty`): "refuses a store that is not empty" failed;
 * - the global-position order check: "refuses … reordered lines" failed (imported);
 * - the destroyed-key check of `PersonalOpener` (src/replay/fields.ts): "restores without
 *   the keys file" failed (the subject read `(erased)` though nobody forgot it).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/index.js';
import { parseMasterKey, generateMasterKeyText } from '../../src/crypto/master-key.js';
import { Vault } from '../../src/crypto/vault.js';
import { Keyring } from '../../src/keys/keyring.js';
import { keyringOptionsFrom } from '../../src/keys/settings.js';
import { PROJECTIONS } from '../../src/projections/index.js';
import { findStreams } from '../../src/replay/find-streams.js';
import { readTimeline } from '../../src/replay/timeline.js';
import { exportLog } from '../../src/store/export.js';
import { importLog, ImportRefusedError } from '../../src/store/import.js';
import { checkMasterKey, exportKeys, KeyImportError, parseKeyFile } from '../../src/store/key-file.js';
import { fileSink } from '../../src/store/line-sink.js';
import { LogFileError } from '../../src/store/log-lines.js';
import type { EventStore } from '../../src/store/event-store.js';
import { storeTargets, type StoreTarget, type TestStore } from '../support/stores.js';
import { openScenarioEngine, writeScenario, type Scenario, type ScenarioEngine } from './support/scenario.js';
import { eventRows, projectionRows } from './support/tables.js';

const [sqlite, postgres] = storeTargets() as [StoreTarget, StoreTarget];

async function emptyStore(target: StoreTarget): Promise<TestStore> {
  const opened = await target.open();
  for (const projection of PROJECTIONS) opened.store.registerProjection(projection);
  return opened;
}

async function count(store: EventStore, table: string): Promise<number> {
  const row = await store.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

const routes: Array<[StoreTarget, StoreTarget]> = [
  [sqlite, sqlite],
  [postgres, postgres],
  [sqlite, postgres],
];

for (const [from, to] of routes) {
  describe.skipIf(!from.available || !to.available)(`export from ${from.name}, import into ${to.name}`, () => {
    let s: ScenarioEngine;
    let scenario: Scenario;
    let dir: string;
    let exportFile: string;
    let keysFile: string;
    let lines: string[];
    const targets: TestStore[] = [];
    const fresh = async () => {
      const t = await emptyStore(to);
      targets.push(t);
      return t;
    };

    beforeAll(async () => {
      s = await openScenarioEngine(from);
      scenario = await writeScenario(s);
      const keyring = await Keyring.open(s.store.db, s.vault, keyringOptionsFrom(s.config, s.clock.now));
      const audited = await runAudit(s.store, { anchor: { signingKey: () => keyring.anchorSigningKey() }, checks: { projections: false } });
      expect(audited.anchor && 'created' in audited.anchor).toBe(true);
      dir = mkdtempSync(join(tmpdir(), 'flowgate-export-'));
      exportFile = join(dir, 'log.jsonl');
      keysFile = join(dir, 'keys.jsonl');
      const summary = await exportLog(s.store, fileSink(exportFile));
      expect(summary).toMatchObject({ checkpoints: 0, anchors: 1, window: false });
      await exportKeys(s.store.db, fileSink(keysFile), s.clock.now());
      lines = readFileSync(exportFile, 'utf8').trimEnd().split('\n');
    });
    afterAll(async () => {
      for (const t of targets) await t.dispose();
      await s?.dispose();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('writes a header, every event in global order, the anchor and an end line, with no secret', async () => {
      expect(JSON.parse(lines[0]!)).toMatchObject({ kind: 'header', format: 'flowgate-log', version: 1, type: 'export', since: null, until: null });
      const events = lines.filter((l) => l.startsWith('{"data"') || JSON.parse(l).kind === 'event').map((l) => JSON.parse(l));
      expect(events.length).toBe(await count(s.store, 'events'));
      const positions = events.map((e) => e.position);
      expect(positions).toEqual([...positions].sort((a, b) => a - b));
      expect(JSON.parse(lines.at(-2)!).kind).toBe('anchor');
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ kind: 'end', events: events.length });
      const text = lines.join('\n') + readFileSync(keysFile, 'utf8');
      expect(s.random.secrets.length).toBeGreaterThan(5);
      for (const secret of s.random.secrets) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/up-(at|rt)-|"alice"|alice@example/);
    });

    it('restores every row, verifies, rebuilds the same projections and passes the audit with its anchor', async () => {
      const target = await fresh();
      const keys = parseKeyFile(readFileSync(keysFile, 'utf8'), keysFile);
      checkMasterKey(keys, parseMasterKey(s.masterKey));
      const summary = await importLog(target.store, exportFile, { keys });
      expect(summary).toMatchObject({ events: await count(s.store, 'events'), anchors: 1, anchorsSkipped: 0 });
      expect(await eventRows(target.store.db)).toEqual(await eventRows(s.store.db));
      expect(await target.store.verifyChain()).toEqual([]);
      expect(await projectionRows(target.store.db)).toEqual(await projectionRows(s.store.db));
      const report = await runAudit(target.store);
      expect(report.findings.listed).toEqual([]);
      expect(report.checks.anchors).toBe(1);
      // The restored keys open the sealed subject with the same master key.
      const vault = new Vault(target.store.db, parseMasterKey(s.masterKey));
      const timeline = await readTimeline(target.store, scenario.live.flow, { vault });
      expect(timeline.entries.find((e) => e.type === 'upstream.tokens_received')!.fields.personal.subject).toEqual({ status: 'open', value: 'alice' });
      // New appends continue after the restored positions.
      const appended = await target.store.append('test:after-import', 0, [
        { eventId: '00000000-0000-8000-8000-00000000a001', type: 'test.happened', data: {}, occurredAt: 1 },
      ]);
      expect(appended.streams[0]!.events[0]!.globalPosition).toBeGreaterThan(Number(JSON.parse(lines.at(-3)!).position));
    });

    it('restores without the keys file: personal data stays sealed, and is not reported as erased', async () => {
      const target = await fresh();
      const summary = await importLog(target.store, exportFile);
      expect(summary.keys).toBeNull();
      expect(await count(target.store, 'data_keys')).toBe(0);
      const vault = new Vault(target.store.db, parseMasterKey(s.masterKey));
      const timeline = await readTimeline(target.store, scenario.live.flow, { vault });
      const received = timeline.entries.find((e) => e.type === 'upstream.tokens_received')!;
      expect(received.fields.personal).toEqual({ subject: { status: 'sealed' }, claims: { status: 'sealed' } });
      expect(await findStreams(target.store.db, { kinds: ['flow'], state: 'code_redeemed' }, vault)).toSatisfy((found: Array<{ subject: unknown }>) =>
        found.every((f) => JSON.stringify(f.subject) === '{"status":"sealed"}'),
      );
    });

    it('refuses a store that is not empty', async () => {
      const target = await fresh();
      await target.store.append('test:x', 0, [{ eventId: '00000000-0000-8000-8000-00000000a002', type: 'test.happened', data: {}, occurredAt: 1 }]);
      await expect(importLog(target.store, exportFile)).rejects.toThrow(ImportRefusedError);
      await expect(importLog(target.store, exportFile)).rejects.toThrow(/is not empty \(1 event\); import loads only into an empty store/);
      expect(await count(target.store, 'events')).toBe(1);
    });

    /** Imports an edited copy whose end line is recomputed (as a forger would), expecting a refusal. */
    const refusedWith = async (name: string, edit: (lines: string[]) => string[], message: RegExp) => {
      const file = join(dir, `${name}.jsonl`);
      const edited = edit([...lines]);
      const last = JSON.parse(edited.at(-1)!) as { kind: string };
      if (last.kind === 'end') {
        const body = edited.slice(0, -1);
        const digest = createHash('sha256').update(body.map((l) => `${l}\n`).join('')).digest('hex');
        const events = body.filter((l) => (JSON.parse(l) as { kind: string }).kind === 'event').length;
        edited[edited.length - 1] = JSON.stringify({ digest, events, kind: 'end' });
      }
      writeFileSync(file, `${edited.join('\n')}\n`);
      const target = await fresh();
      const error = await importLog(target.store, file).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LogFileError);
      expect((error as Error).message, (error as Error).message).toMatch(message);
      expect(await count(target.store, 'events')).toBe(0);
      expect(await count(target.store, 'transactions')).toBe(0);
    };

    it('refuses a changed line, naming it, and writes nothing', async () => {
      const victim = lines.findIndex((l) => l.includes('"type":"upstream.tokens_received"'));
      await refusedWith(
        'changed',
        (l) => {
          l[victim] = l[victim]!.replace('"upstreamRefreshable":true', '"upstreamRefreshable":false');
          return l;
        },
        new RegExp(`line ${victim + 1}: flow:\\S+ version 6: data does not match its payloadHash`),
      );
    });

    it('refuses a missing line, reordered lines and a truncated file', async () => {
      const victim = lines.findIndex((l) => l.includes('"type":"consent.approved"'));
      await refusedWith('missing', (l) => l.filter((_, i) => i !== victim), new RegExp(`line ${victim + 1}: flow:\\S+ version 4 where version 3 was due`));
      // Two neighbours of different streams swapped: each stream's own order is intact.
      const streamOf = (l: string) => (JSON.parse(l) as { streamId?: string }).streamId;
      const i = lines.findIndex((l, k) => k > 0 && streamOf(l) !== undefined && streamOf(lines[k + 1]!) !== undefined && streamOf(l) !== streamOf(lines[k + 1]!));
      await refusedWith(
        'reordered',
        (l) => {
          [l[i], l[i + 1]] = [l[i + 1]!, l[i]!];
          return l;
        },
        new RegExp(`line ${i + 2}: global position \\d+ after \\d+: the lines are out of order`),
      );
      await refusedWith('truncated', (l) => l.slice(0, -1), /no end line: the file is truncated/);
    });

    it('exports a window: exactly the events in [since, until), in global order, without checkpoints or anchors', async () => {
      const all = await s.store.db.selectFrom('events').select(['global_position', 'occurred_at']).orderBy('global_position').execute();
      const times = [...new Set(all.map((r) => Number(r.occurred_at)))].sort((a, b) => a - b);
      const since = times[2]!;
      const until = times[times.length - 3]!;
      const expected = all.filter((r) => Number(r.occurred_at) >= since && Number(r.occurred_at) < until).map((r) => Number(r.global_position));
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(all.length);
      const file = join(dir, 'between.jsonl');
      const summary = await exportLog(s.store, fileSink(file), { since, until });
      const body = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { kind: string; position?: number });
      expect(body[0]).toMatchObject({ kind: 'header', since, until });
      expect(body.filter((l) => l.kind === 'event').map((l) => l.position)).toEqual(expected);
      expect(body.filter((l) => l.kind === 'checkpoint' || l.kind === 'anchor')).toEqual([]);
      expect(summary).toMatchObject({ events: expected.length, firstPosition: expected[0], lastPosition: expected.at(-1), window: true });
    });

    it('refuses a partial export and keys wrapped by another master key', async () => {
      const windowFile = join(dir, 'window.jsonl');
      const summary = await exportLog(s.store, fileSink(windowFile), { since: scenario.endedAt - 1 });
      expect(summary).toMatchObject({ window: true, checkpoints: 0, anchors: 0 });
      expect(summary.events).toBeGreaterThan(0);
      const target = await fresh();
      await expect(importLog(target.store, windowFile)).rejects.toThrow(/is a partial export \(a time window\)/);
      const keys = parseKeyFile(readFileSync(keysFile, 'utf8'), keysFile);
      expect(() => checkMasterKey(keys, parseMasterKey(generateMasterKeyText()))).toThrow(KeyImportError);
    });
  });
}

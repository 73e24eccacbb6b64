/**
 * Anchors over more streams than they list (more than HEADS_INLINE_MAX, so only the
 * LtHash of the heads and the count are signed, and the locator's ranges span several
 * positions): what production logs look like. A dropped stream, two rows swapped far
 * apart, a stream's last event deleted: each is still detected, and located to the
 * locator ranges that hold the positions concerned.
 *
 * Checked to fail with the protection removed (once, then restored): without the count
 * comparison the dropped stream has no `anchor.heads`; without the heads digest comparison
 * the truncated stream is not reported as a heads mismatch.
 */
import { sql } from 'kysely';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HEADS_INLINE_MAX, runAudit, type AuditReport } from '../../src/audit/index.js';
import { Keyring } from '../../src/keys/keyring.js';
import { keyringOptionsFrom } from '../../src/keys/settings.js';
import { openTestEngine, type TestEngine } from '../support/engine.js';
import { storeTargets } from '../support/stores.js';
import { swapPositions, tamper } from './support/forge.js';
import { seedStore } from './support/synthetic-log.js';

/** The positions an `anchor.segment` finding names after its label (`position 7`, `positions 5–8`). */
function rangeOf(reason: string): [number, number] {
  const m = /positions? (\d+)(?:–(\d+))?/.exec(reason.slice(reason.indexOf('): ') + 3));
  if (!m) throw new Error(`no range in: ${reason}`);
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

function locates(report: AuditReport, position: number): boolean {
  return report.findings.listed.some((f) => {
    if (f.kind !== 'anchor.segment') return false;
    const [a, b] = rangeOf(f.reason);
    return a <= position && position <= b;
  });
}

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`anchors over more than ${HEADS_INLINE_MAX} streams on ${target.name}`, () => {
    let t: TestEngine;
    let dir: string;
    let file: string;
    const store = () => t.store.store;
    const audit = () => runAudit(store(), { anchorsFile: file, checks: { projections: false } });

    beforeEach(async () => {
      t = await openTestEngine(target);
      await seedStore(store(), { events: 3000, clients: 4 });
      const keyring = await Keyring.open(store().db, t.vault, keyringOptionsFrom(t.store.config, t.clock.now));
      const report = await runAudit(store(), { anchor: { signingKey: () => keyring.anchorSigningKey() }, checks: { projections: false } });
      if (!report.anchor || !('created' in report.anchor)) throw new Error(`no anchor: ${JSON.stringify(report.anchor)}`);
      const payload = report.anchor.created.payload;
      expect(payload.streams).toBeGreaterThan(HEADS_INLINE_MAX);
      expect(payload.heads).toBeUndefined();
      expect(payload.locator.step).toBeGreaterThan(1);
      dir = mkdtempSync(join(tmpdir(), 'flowgate-audit-large-'));
      file = join(dir, 'anchors.jws');
      writeFileSync(file, `${report.anchor.created.jws}\n`);
      expect((await audit()).findings.total).toBe(0);
    }, 60_000);
    afterEach(async () => {
      await t.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    /** A grant stream with at least `events` events, and its rows' positions. */
    async function grantWith(events: number) {
      const row = await sql<{ stream_id: string }>`SELECT stream_id FROM events WHERE stream_id LIKE 'grant:%'
        GROUP BY stream_id HAVING count(*) >= ${events} ORDER BY stream_id LIMIT 1`.execute(store().db);
      const streamId = row.rows[0]!.stream_id;
      const rows = await store().readStream(streamId);
      return { streamId, positions: rows.map((e) => e.globalPosition) };
    }

    it('a whole stream dropped: the count of streams differs and the locator holds its positions', async () => {
      const { streamId, positions } = await grantWith(2);
      await tamper(store(), sql`DELETE FROM events WHERE stream_id = ${streamId}`);
      const report = await audit();
      const heads = report.findings.listed.filter((f) => f.kind === 'anchor.heads');
      expect(heads).toContainEqual(expect.objectContaining({ streamId: '(log)', reason: expect.stringMatching(/covers (\d+) streams, the log has \d+ up to that position/) }));
      const [, covered, now] = /covers (\d+) streams, the log has (\d+)/.exec(heads[0]!.reason)!;
      expect(Number(now)).toBe(Number(covered) - 1);
      for (const position of positions) expect(locates(report, position), `position ${position}`).toBe(true);
      expect(report.findings.byKind['anchor.events']).toBe(1);
      // The flow whose redemption created the grant now has none.
      expect(report.findings.byKind['invariant.redemption_without_grant']).toBe(1);
    });

    it('two rows of different streams swapped far apart: both ranges are located, no chain breaks', async () => {
      const a = (await grantWith(3)).positions[0]!;
      const far = await sql<{ p: number }>`SELECT max(global_position) AS p FROM events WHERE type = 'flow.started'`.execute(store().db);
      const b = Number(far.rows[0]!.p);
      await swapPositions(store(), a, b);
      const report = await audit();
      expect(Object.keys(report.findings.byKind).filter((k) => k.startsWith('chain.'))).toEqual([]);
      expect(locates(report, a)).toBe(true);
      expect(locates(report, b)).toBe(true);
      expect(report.findings.byKind['anchor.digest']).toBe(1);
    });

    it("a stream's last event deleted: no chain breaks, the signed heads digest does not match", async () => {
      const { positions } = await grantWith(3);
      const last = positions[positions.length - 1]!;
      await tamper(store(), sql`DELETE FROM events WHERE global_position = ${last}`);
      const report = await audit();
      expect(Object.keys(report.findings.byKind).filter((k) => k.startsWith('chain.'))).toEqual([]);
      expect(report.findings.listed).toContainEqual(
        expect.objectContaining({ kind: 'anchor.heads', streamId: '(log)', reason: expect.stringContaining('the chain heads of the streams up to that position differ') }),
      );
      expect(locates(report, last)).toBe(true);
    });
  });
}

/**
 * A reader that tails the log by global position must never skip an event that commits
 * late. On PostgreSQL an identity value is taken at insert, not at commit, so without the
 * append lock (docs/store.md, "Global order") a slow transaction's event becomes visible
 * after a faster, later-numbered one, and a tailing reader jumps past it. Checked by hand:
 * with `lockForAppend` made a no-op this test fails on PostgreSQL with skipped events.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../src/store/index.js';
import { commandEvents } from '../support/events.js';
import { storeTargets, type TestStore } from '../support/stores.js';

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`global order on ${target.name}`, () => {
    let t: TestStore;
    beforeEach(async () => {
      t = await target.open();
    });
    afterEach(async () => {
      await t.dispose();
    });

    it('a tailing reader sees every event, in position order, while slow and fast appends overlap', async () => {
      t.store.registerProjection({
        name: 'slow',
        handles: ['test.slow'],
        tables: [],
        async apply(_trx, event) {
          await sleep((event.data as { delayMs: number }).delayMs);
        },
      });
      const seen: StoredEvent[] = [];
      let writing = true;
      const tail = (async () => {
        let position = 0;
        for (;;) {
          const done = !writing;
          for await (const event of t.store.readAll({ fromPosition: position, batchSize: 5 })) {
            seen.push(event);
            position = event.globalPosition;
          }
          if (done) return;
          await sleep(1);
        }
      })();
      const writers = Array.from({ length: 6 }, async (_, w) => {
        for (let i = 0; i < 6; i++) {
          const delayMs = (w * 7 + i * 13) % 3 === 0 ? 25 : 0;
          await t.store.append(`flow:w${w}-${i}`, 0, commandEvents(1, { type: 'test.slow', data: () => ({ delayMs }) }));
        }
      });
      await Promise.all(writers);
      writing = false;
      await tail;

      const all: StoredEvent[] = [];
      for await (const event of t.store.readAll()) all.push(event);
      expect(all).toHaveLength(36);
      expect(seen.map((e) => e.globalPosition)).toEqual(all.map((e) => e.globalPosition));
    });
  });
}

/**
 * The store's head cache (src/store/head-cache.ts): a remembered stream head is used only
 * while nothing has been written to the database since, by another connection or process
 * (`PRAGMA data_version`) or through this one outside `append` (`total_changes()`), as an
 * import or a prune does.
 *
 * Checked once by hand: with the change mark reduced to `total_changes()` alone, the
 * two-connection cases fail (the first store answers the head it wrote itself and refuses
 * the next append as a conflict); with it reduced to `data_version` alone, the
 * same-connection case fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConcurrencyError } from '../../src/store/errors.js';
import type { EventStore } from '../../src/store/event-store.js';
import { openStore } from '../../src/store/open-store.js';
import { sealEvent } from '../../src/store/seal-event.js';
import { commandEvents } from '../support/events.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Two stores (two connections) on one SQLite file. */
async function twoStoresOnOneFile(): Promise<[EventStore, EventStore]> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-head-cache-'));
  const config = parseConfig({ values: { dataDir: dir, store: { sqlitePath: join(dir, 'f.db'), synchronous: 'NORMAL' } } });
  const a = await openStore(config);
  const b = await openStore(config);
  cleanups.push(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return [a, b];
}

describe('the stream head cache on SQLite', () => {
  it("sees another connection's append to a stream it appended to itself", async () => {
    const [a, b] = await twoStoresOnOneFile();
    const first = await a.append('flow:one', 0, commandEvents(1));
    expect(await a.streamHead('flow:one')).toEqual({ version: 1, hash: first.streams[0]!.events[0]!.hash });

    const second = await b.append('flow:one', 1, commandEvents(1));
    expect(await a.streamHead('flow:one')).toEqual({ version: 2, hash: second.streams[0]!.events[0]!.hash });
  });

  it("appends after another connection's append when the caller expects the new version", async () => {
    const [a, b] = await twoStoresOnOneFile();
    await a.append('flow:two', 0, commandEvents(1));
    await b.append('flow:two', 1, commandEvents(1));
    // Without re-reading the head inside its transaction, `a` would take version 1 for the
    // truth and refuse this append.
    const third = await a.append('flow:two', 2, commandEvents(1));
    expect(third.streams[0]!.version).toBe(3);
    await expect(b.append('flow:two', 2, commandEvents(1))).rejects.toBeInstanceOf(ConcurrencyError);
  });

  it('sees a row written through its own connection outside append (as import does)', async () => {
    const [a] = await twoStoresOnOneFile();
    const first = await a.append('flow:three', 0, commandEvents(1));
    const head = await a.streamHead('flow:three');
    expect(head?.version).toBe(1);

    const row = sealEvent('flow:three', 2, first.streams[0]!.events[0]!.hash, commandEvents(1)[0]!);
    await a.db.insertInto('events').values(row).execute();

    expect(await a.streamHead('flow:three')).toEqual({ version: 2, hash: row.hash });
    const appended = await a.append('flow:three', 2, commandEvents(1));
    expect(appended.streams[0]!.events[0]!.prevHash).toBe(row.hash);
    expect(await a.verifyChain({ streamId: 'flow:three' })).toEqual([]);
  });
});

/**
 * The periodic sweep every instance runs (src/engine/sweeper.ts): an abandoned flow is
 * expired in the log without an operator, a failing sweep is logged and retried, and
 * `stop()` waits for a sweep in progress so the store can close under it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSweeper } from '../../src/engine/sweeper.js';
import { findTransaction } from '../../src/projections/transactions.js';
import { openTestEngine, type TestEngine } from '../support/engine.js';
import { clientSide } from '../support/flows.js';
import { storeTargets } from '../support/stores.js';

const sqlite = storeTargets().find((t) => t.name.startsWith('sqlite'))!;

function recordingLog() {
  const lines: Array<{ level: string; fields: object; message: string }> = [];
  return {
    lines,
    info: (fields: object, message: string) => lines.push({ level: 'info', fields, message }),
    warn: (fields: object, message: string) => lines.push({ level: 'warn', fields, message }),
  };
}

const until = async (check: () => Promise<boolean> | boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('periodic sweep', () => {
  let t: TestEngine;
  beforeEach(async () => {
    t = await openTestEngine(sqlite);
  });
  afterEach(() => t.dispose());

  it('expires an abandoned flow on its own and logs what it did', async () => {
    const client = clientSide();
    const { flowId } = await t.engine.execute({
      type: 'StartFlow',
      clientId: client.clientId,
      redirectUri: client.redirectUri,
      codeChallenge: client.challenge,
      scopes: ['mcp:tools'],
      resource: 'http://127.0.0.1:8787/mcp',
      clientState: client.state,
      browserHash: client.browser,
    });
    t.clock.advance(t.settings.flowTtlMs + 1);
    const log = recordingLog();
    const sweeper = startSweeper(t.engine, 20, log);
    try {
      await until(async () => (await findTransaction(t.store.store.db, flowId))?.state === 'expired');
      await until(() => log.lines.length > 0);
      expect(log.lines[0]).toMatchObject({ level: 'info', message: 'sweep expired overdue records', fields: { expired: { flows: 1 } } });
    } finally {
      await sweeper.stop();
    }
  });

  it('logs a failing sweep and keeps going; stop() waits for the sweep in progress', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const failing = {
      async sweep() {
        calls++;
        if (calls === 1) throw new Error('database is locked');
        await gate;
        return { flows: 0, grants: 0, clients: 0 };
      },
    } as unknown as TestEngine['engine'];
    const log = recordingLog();
    const sweeper = startSweeper(failing, 10, log);
    await until(() => calls >= 2);
    expect(log.lines).toEqual([
      { level: 'warn', fields: { err: { name: 'Error', message: 'database is locked' } }, message: 'sweep failed; will retry' },
    ]);
    let stopped = false;
    const stopping = sweeper.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(stopped).toBe(false);
    expect(calls).toBe(2); // no new sweep starts while one runs, nor after stop()
    release();
    await stopping;
    expect(stopped).toBe(true);
  });

  it('never runs with an interval of 0', async () => {
    let calls = 0;
    const counting = { sweep: async () => (calls++, { flows: 0, grants: 0, clients: 0 }) } as unknown as TestEngine['engine'];
    const sweeper = startSweeper(counting, 0, recordingLog());
    await new Promise((r) => setTimeout(r, 50));
    await sweeper.stop();
    expect(calls).toBe(0);
  });
});

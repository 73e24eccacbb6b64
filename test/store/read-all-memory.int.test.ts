/**
 * `readAll` streams in constant memory: a child process reads one million events and its
 * resident set grows by less than ~100 MB.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { seedEvents } from '../support/seed.js';
import { storeTargets } from '../support/stores.js';

const run = promisify(execFile);
const EVENTS = 1_000_000;
const MB = 1024 * 1024;

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`readAll memory on ${target.name}`, () => {
    it(
      `reads ${EVENTS.toLocaleString('en')} events with under 100 MB of RSS growth`,
      async () => {
        const t = await target.open({ file: true });
        try {
          await seedEvents(t.store, EVENTS);
          const env: Record<string, string> = { ...process.env } as Record<string, string>;
          if (t.config.store.databaseUrl) {
            env.FLOWGATE_DATABASE_URL = t.config.store.databaseUrl;
            env.FLOWGATE_DATABASE_SCHEMA = t.config.store.postgresSchema;
          } else {
            env.FLOWGATE_DB = t.config.store.sqlitePath!;
          }
          const { stdout } = await run(
            process.execPath,
            ['--import', 'tsx', 'test/support/read-all-child.ts'],
            { env, maxBuffer: MB },
          );
          const report = JSON.parse(stdout.trim().split('\n').pop()!) as {
            count: number;
            baseline: number;
            peak: number;
            ordered: boolean;
          };
          expect(report.count).toBe(EVENTS);
          expect(report.ordered).toBe(true);
          expect(report.peak - report.baseline).toBeLessThan(100 * MB);
        } finally {
          await t.dispose();
        }
      },
      180_000,
    );
  });
}

/**
 * The databases the store contract suite runs against: SQLite (in memory, or a temp
 * file) and, when a server is available, PostgreSQL in a fresh schema per store.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { FlowgateConfig } from '../../src/config/schema.js';
import type { EventStore } from '../../src/store/event-store.js';
import { openStore } from '../../src/store/open-store.js';

/** A store under test and how to dispose of it. */
export interface TestStore {
  readonly store: EventStore;
  readonly config: FlowgateConfig;
  /** Closes the store and removes its database. */
  dispose(): Promise<void>;
}

/** A database flavour the contract suite runs on. */
export interface StoreTarget {
  readonly name: 'sqlite' | 'postgres';
  /** False when the target is not available in this run (the case is skipped, loudly). */
  readonly available: boolean;
  open(options?: { file?: boolean; synchronous?: 'FULL' | 'NORMAL' }): Promise<TestStore>;
}

/** The PostgreSQL URL of this run, or null when PostgreSQL cases are skipped. */
export function pgUrl(): string | null {
  return inject('pgUrl');
}

/** A fresh schema name. */
export function freshSchema(): string {
  return `fg_test_${randomBytes(6).toString('hex')}`;
}

/** Drops a test schema. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

const sqliteTarget: StoreTarget = {
  name: 'sqlite',
  available: true,
  async open(options = {}) {
    let dir: string | undefined;
    let sqlitePath = ':memory:';
    if (options.file) {
      dir = mkdtempSync(join(tmpdir(), 'flowgate-test-'));
      sqlitePath = join(dir, 'flowgate.db');
    }
    const config = parseConfig({
      values: { dataDir: dir ?? '.flowgate-unused', store: { sqlitePath, synchronous: options.synchronous ?? 'NORMAL' } },
    });
    const store = await openStore(config);
    return {
      store,
      config,
      async dispose() {
        await store.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

function postgresTarget(): StoreTarget {
  const url = pgUrl();
  return {
    name: 'postgres',
    available: url !== null,
    async open() {
      if (!url) throw new Error('PostgreSQL is not available in this run');
      const schema = freshSchema();
      const config = parseConfig({ values: { store: { databaseUrl: url, postgresSchema: schema, poolSize: 8 } } });
      const store = await openStore(config);
      return {
        store,
        config,
        async dispose() {
          await store.close();
          await dropSchema(url, schema);
        },
      };
    },
  };
}

/** Every target, SQLite first. */
export function storeTargets(): StoreTarget[] {
  return [sqliteTarget, postgresTarget()];
}

/**
 * Opening a store fails with a message that names what is wrong and where.
 */
import { sql } from 'kysely';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { migrate, openDialect, openStore, SchemaTooNewError, StoreOpenError } from '../../src/store/index.js';
import { STORE_MIGRATIONS } from '../../src/store/migrations/index.js';
import { dropSchema, freshSchema, pgUrl } from '../support/stores.js';

describe('opening a SQLite store', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'flowgate-open-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const sqliteConfig = (sqlitePath: string) => parseConfig({ values: { store: { sqlitePath } } });

  it('creates the file and its directory, migrates, and reports nothing to do the second time', async () => {
    const path = join(dir, 'nested', 'deeper', 'flowgate.db');
    const first = await openDialect(sqliteConfig(path));
    expect((await migrate(first)).applied).toEqual(STORE_MIGRATIONS.map((m) => m.name));
    await first.close();
    const second = await openDialect(sqliteConfig(path));
    expect((await migrate(second)).applied).toEqual([]);
    await second.close();
  });

  it('uses WAL and synchronous=FULL by default', async () => {
    const store = await openStore(sqliteConfig(join(dir, 'f.db')));
    const mode = await sql<{ journal_mode: string }>`PRAGMA journal_mode`.execute(store.db);
    const sync = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(store.db);
    expect(mode.rows[0]!.journal_mode).toBe('wal');
    expect(sync.rows[0]!.synchronous).toBe(2);
    await store.close();
  });

  it('says the location is not writable when its directory cannot be created', async () => {
    writeFileSync(join(dir, 'a-file'), 'x');
    const error = await openStore(sqliteConfig(join(dir, 'a-file', 'sub', 'flowgate.db'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreOpenError);
    expect(error).toMatchObject({ reason: 'not_writable' });
    expect((error as Error).message).toContain(join(dir, 'a-file', 'sub', 'flowgate.db'));
  });

  it('says a file that is not a database is not a database', async () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(path, 'this is not a database, just some text that is long enough to look like a header'.repeat(20));
    const error = await openStore(sqliteConfig(path)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreOpenError);
    expect(error).toMatchObject({ reason: 'not_a_database' });
    expect((error as Error).message).toContain(path);
  });

  it('refuses a database whose schema is newer than this code', async () => {
    const path = join(dir, 'newer.db');
    const store = await openStore(sqliteConfig(path));
    await store.db
      .insertInto('flowgate_migration')
      .values({ name: '9999-from-the-future', timestamp: new Date().toISOString() })
      .execute();
    await store.close();
    const error = await openStore(sqliteConfig(path)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaTooNewError);
    expect((error as Error).message).toContain('9999-from-the-future');
    expect((error as Error).message).toContain('newer flowgate');
  });
});

describe('opening a PostgreSQL store', () => {
  it('says an unreachable server is unreachable, without the password', async () => {
    const config = parseConfig({ values: { store: { databaseUrl: 'postgres://postgres:s3cret@127.0.0.1:1/test' } } });
    const error = await openStore(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreOpenError);
    expect(error).toMatchObject({ reason: 'unreachable' });
    expect((error as Error).message).toContain('127.0.0.1:1');
    expect((error as Error).message).not.toContain('s3cret');
  });

  const url = pgUrl();
  it.skipIf(!url)('says a refused login was refused', async () => {
    const parsed = new URL(url!);
    parsed.username = 'flowgate_no_such_role';
    const config = parseConfig({ values: { store: { databaseUrl: parsed.toString() } } });
    const error = await openStore(config).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreOpenError);
    expect(error).toMatchObject({ reason: 'login_refused' });
  });

  it.skipIf(!url)('refuses a database whose schema is newer than this code', async () => {
    const schema = freshSchema();
    const config = parseConfig({ values: { store: { databaseUrl: url!, postgresSchema: schema } } });
    try {
      const store = await openStore(config);
      await store.db
        .insertInto('flowgate_migration')
        .values({ name: '9999-from-the-future', timestamp: new Date().toISOString() })
        .execute();
      await store.close();
      await expect(openStore(config)).rejects.toBeInstanceOf(SchemaTooNewError);
    } finally {
      await dropSchema(url!, schema);
    }
  });
});

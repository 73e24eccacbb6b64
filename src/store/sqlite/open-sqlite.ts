/**
 * Opens a SQLite database for the store: WAL, `synchronous=FULL` by default (a consumed
 * code must not come back after a power cut), a busy timeout for several processes on one
 * file, and clear errors for the usual ways a file can be wrong.
 *
 * @module
 */
import Database from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { StoreDialect } from '../dialect.js';
import { AppendOnlyError, StoreOpenError } from '../errors.js';
import { CachedSqliteDialect } from './sqlite-dialect.js';

/** How to open a SQLite store. */
export interface SqliteStoreOptions {
  /** File path, or `:memory:`. */
  readonly path: string;
  readonly synchronous: 'FULL' | 'NORMAL';
  readonly busyTimeoutMs: number;
}

function sqliteCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** Maps better-sqlite3 errors on `where` to flowgate's store errors. */
export function translateSqliteError(error: unknown, where: string): unknown {
  const code = sqliteCode(error);
  if (!code) return error;
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new StoreOpenError('not_a_database', `${where} is not a SQLite database (or is corrupt)`, { cause: error });
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM') {
    return new StoreOpenError(
      'not_writable',
      `cannot write the SQLite database at ${where}: the file or its directory is not writable`,
      { cause: error },
    );
  }
  if (code === 'SQLITE_CONSTRAINT_TRIGGER' || (error instanceof Error && error.message.includes('append-only'))) {
    return new AppendOnlyError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  return error;
}

/**
 * `mkdir -p` one level at a time: Node's recursive mkdir can spin forever on special file
 * systems (such as /proc) instead of failing.
 */
function createDirectory(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) createDirectory(parent);
  mkdirSync(dir);
}

/** Opens (creating when missing) the SQLite database at `options.path`. */
export function openSqliteDialect(options: SqliteStoreOptions): StoreDialect {
  const inMemory = options.path === ':memory:';
  const where = inMemory ? ':memory:' : resolve(options.path);
  if (!inMemory) {
    try {
      createDirectory(dirname(where));
    } catch (error) {
      throw new StoreOpenError(
        'not_writable',
        `cannot create the directory for the SQLite database at ${where}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  let sqlite: Database.Database;
  try {
    sqlite = new Database(where);
  } catch (error) {
    throw translateSqliteError(error, where);
  }
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma(`synchronous = ${options.synchronous}`);
    sqlite.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
    sqlite.pragma('foreign_keys = ON');
    // A harmless write proves the file is writable now, not at the first user request.
    sqlite.exec('CREATE TABLE IF NOT EXISTS flowgate_probe (x INTEGER); DROP TABLE flowgate_probe;');
  } catch (error) {
    sqlite.close();
    throw translateSqliteError(error, where);
  }
  const db = new Kysely<any>({ dialect: new CachedSqliteDialect(sqlite) });
  const ownChanges = sqlite.prepare('SELECT total_changes()').pluck();
  const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
  return {
    name: 'sqlite',
    db,
    location: where,
    async lockForAppend() {
      // BEGIN IMMEDIATE (CachedSqliteDialect) already holds the write lock.
    },
    changeMark() {
      try {
        return `${String(dataVersion.get())}:${String(ownChanges.get())}`;
      } catch {
        // A closed or busy connection: no mark, so the caller reads the head instead.
        return undefined;
      }
    },
    async tableExists(name) {
      const rows = await sql<{ n: number }>`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ${name}`.execute(db);
      return Number(rows.rows[0]?.n ?? 0) > 0;
    },
    translateError: (error) => translateSqliteError(error, where),
    close: () => db.destroy(),
  };
}

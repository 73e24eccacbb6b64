/**
 * Opens a PostgreSQL store through `pg`: a pool with int8 parsed as numbers (on this pool
 * only), an optional schema, and clear errors for an unreachable server or a refused login.
 *
 * @module
 */
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { StoreDialect } from '../dialect.js';
import { AppendOnlyError, StoreOpenError } from '../errors.js';

/** How to open a PostgreSQL store. */
export interface PostgresStoreOptions {
  readonly url: string;
  /** Schema holding flowgate's tables; created when missing. */
  readonly schema: string;
  readonly poolSize: number;
  readonly connectTimeoutMs?: number;
}

const INT8_OID = 20;

/** The URL with its password replaced, safe for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable database URL)';
  }
}

function pgCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** The default of {@link PostgresStoreOptions.connectTimeoutMs}. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/**
 * pg-pool's error when a server accepted the TCP connection but did not complete the
 * PostgreSQL handshake within `connectionTimeoutMillis` (it carries no `code`).
 */
function isConnectTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Connection terminated due to connection timeout';
}

/** Maps `pg` errors on `where` to flowgate's store errors. */
export function translatePostgresError(error: unknown, where: string, connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): unknown {
  if (isConnectTimeout(error)) {
    const seconds = Math.round(connectTimeoutMs / 100) / 10;
    return new StoreOpenError('unreachable', `cannot reach PostgreSQL at ${where} (no answer within ${seconds} s)`, { cause: error });
  }
  const code = pgCode(error);
  if (!code) return error;
  if (code === 'FG001') {
    return new AppendOnlyError((error as Error).message, { cause: error });
  }
  if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET', 'EAI_AGAIN'].includes(code)) {
    return new StoreOpenError('unreachable', `cannot reach PostgreSQL at ${where} (${code})`, { cause: error });
  }
  if (code === '28P01' || code === '28000') {
    return new StoreOpenError('login_refused', `PostgreSQL at ${where} refused the login: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (code === '3D000') {
    return new StoreOpenError('no_such_database', `PostgreSQL at ${where}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return error;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Opens the PostgreSQL database at `options.url`, proving the connection works. */
export async function openPostgresDialect(options: PostgresStoreOptions): Promise<StoreDialect> {
  const where = redactUrl(options.url);
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    options: `-c search_path=${quoteIdentifier(options.schema)}`,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as never,
    },
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
  try {
    const exists = await sql<{ found: number }>`SELECT 1 AS found FROM pg_namespace WHERE nspname = ${options.schema}`.execute(db);
    if (exists.rows.length === 0) await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(options.schema)}`.execute(db);
  } catch (error) {
    await db.destroy().catch(() => {});
    throw translatePostgresError(error, where, connectTimeoutMs);
  }
  return {
    name: 'postgres',
    db,
    schema: options.schema,
    location: where,
    async lockForAppend(trx) {
      await sql`SELECT pg_advisory_xact_lock(hashtext('flowgate/append:' || current_schema()))`.execute(trx);
    },
    async tableExists(name) {
      const rows = await sql<{ found: string | null }>`SELECT to_regclass(${name}) AS found`.execute(db);
      return rows.rows[0]?.found !== null && rows.rows[0]?.found !== undefined;
    },
    translateError: (error) => translatePostgresError(error, where, connectTimeoutMs),
    close: () => db.destroy(),
  };
}

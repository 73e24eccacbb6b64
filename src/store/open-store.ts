/**
 * Opens the event store the configuration names: PostgreSQL if and only if
 * `store.databaseUrl` is set, SQLite otherwise. Migrations are applied on open.
 *
 * @module
 */
import { join } from 'node:path';
import type { FlowgateConfig } from '../config/schema.js';
import type { StoreDialect } from './dialect.js';
import { EventStore } from './event-store.js';
import { migrate } from './migrate.js';
import { openPostgresDialect } from './postgres/open-postgres.js';
import { openSqliteDialect } from './sqlite/open-sqlite.js';

/** The SQLite file a configuration points at (ignored when PostgreSQL is configured). */
export function sqlitePathOf(config: Pick<FlowgateConfig, 'dataDir' | 'store'>): string {
  return config.store.sqlitePath ?? join(config.dataDir, 'flowgate.db');
}

/** Opens the database the configuration names, without migrating it. */
export async function openDialect(config: Pick<FlowgateConfig, 'dataDir' | 'store'>): Promise<StoreDialect> {
  const { store } = config;
  if (store.databaseUrl !== undefined) {
    return openPostgresDialect({ url: store.databaseUrl, schema: store.postgresSchema, poolSize: store.poolSize });
  }
  return openSqliteDialect({
    path: sqlitePathOf(config),
    synchronous: store.synchronous,
    busyTimeoutMs: store.busyTimeoutMs,
  });
}

/** Opens the store and brings its schema up to date. */
export async function openStore(config: Pick<FlowgateConfig, 'dataDir' | 'store'>): Promise<EventStore> {
  const dialect = await openDialect(config);
  try {
    await migrate(dialect);
  } catch (error) {
    await dialect.close().catch(() => {});
    throw dialect.translateError(error);
  }
  return new EventStore(dialect);
}

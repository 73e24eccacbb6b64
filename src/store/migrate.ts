/**
 * Applies the schema migrations (kysely `Migrator`), refusing a database whose schema is
 * newer than this code.
 *
 * @module
 */
import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { StoreDialect } from './dialect.js';
import { SchemaTooNewError } from './errors.js';
import { STORE_MIGRATIONS, type NamedMigration } from './migrations/index.js';

const MIGRATION_TABLE = 'flowgate_migration';
const MIGRATION_LOCK_TABLE = 'flowgate_migration_lock';

class ListMigrationProvider implements MigrationProvider {
  constructor(
    private readonly dialect: StoreDialect,
    private readonly list: readonly NamedMigration[],
  ) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(this.list.map((m) => [m.name, m.migration(this.dialect.name)]));
  }
}

async function appliedMigrationNames(dialect: StoreDialect): Promise<string[]> {
  if (!(await dialect.tableExists(MIGRATION_TABLE))) return [];
  const table = dialect.schema ? sql.table(`${dialect.schema}.${MIGRATION_TABLE}`) : sql.table(MIGRATION_TABLE);
  const rows = await sql<{ name: string }>`SELECT name FROM ${table}`.execute(dialect.db);
  return rows.rows.map((r) => r.name);
}

/** What `migrate` did. */
export interface MigrationReport {
  readonly applied: readonly string[];
  readonly current: readonly string[];
}

/**
 * Brings the schema up to date. Throws {@link SchemaTooNewError} when the database holds a
 * migration this code does not know (it was written by a newer flowgate).
 */
export async function migrate(
  dialect: StoreDialect,
  list: readonly NamedMigration[] = STORE_MIGRATIONS,
): Promise<MigrationReport> {
  const known = new Set(list.map((m) => m.name));
  const before = await appliedMigrationNames(dialect);
  const unknown = before.filter((name) => !known.has(name));
  if (unknown.length > 0) throw new SchemaTooNewError(unknown, dialect.location);

  const migrator = new Migrator({
    db: dialect.db,
    provider: new ListMigrationProvider(dialect, list),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    // kysely's introspection sees every schema; name ours so another schema's tables never count.
    ...(dialect.schema ? { migrationTableSchema: dialect.schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw dialect.translateError(error);
  const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  return { applied, current: [...before, ...applied] };
}

/**
 * `flowgate migrate`: applies the schema migrations and says what it did.
 *
 * @module
 */
import type { Command } from 'commander';
import { loadConfigFile } from '../../config/load.js';
import { migrate } from '../../store/migrate.js';
import { openDialect } from '../../store/open-store.js';

/** Registers `migrate` on the program. */
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply the database schema migrations (also done on every start)')
    .option('-c, --config <file>', 'configuration file (.json, .js, .mjs)')
    .action(async (options: { config?: string }) => {
      const config = await loadConfigFile(options.config, process.env);
      const dialect = await openDialect(config);
      try {
        const report = await migrate(dialect);
        const applied = report.applied.length === 0 ? 'nothing to apply' : `applied ${report.applied.join(', ')}`;
        process.stdout.write(
          `flowgate: ${dialect.name} at ${dialect.location}: ${applied}; schema at ${report.current.at(-1) ?? 'empty'}\n`,
        );
      } finally {
        await dialect.close();
      }
    });
}

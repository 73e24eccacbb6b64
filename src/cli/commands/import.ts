/**
 * `flowgate import FILE`: restores a whole-log export into an empty store, keeping global
 * positions, stream ids, versions and hashes; every line is checked before anything is
 * written, and a refused import leaves the store empty (docs/replay.md, "Export and
 * import"). `--keys FILE` restores the wrapped keys of `flowgate export --with-keys`,
 * after checking that the configured master key unwraps them.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfigFile } from '../../config/load.js';
import { resolveMasterKey } from '../../crypto/master-key.js';
import { FlowgateError } from '../../errors/flowgate-error.js';
import { PROJECTIONS } from '../../projections/index.js';
import { importLog } from '../../store/import.js';
import { checkMasterKey, parseKeyFile } from '../../store/key-file.js';
import { openStore } from '../../store/open-store.js';
import type { ConfigOptions } from '../operator-engine.js';
import { say, sayJson } from '../table.js';
import { configOption } from './options.js';

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new FlowgateError('ERR_INPUT_FILE', `cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Registers `import` on the program. */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description('restore a whole-log export (flowgate export) into an empty store')
    .argument('<file>', 'the export (JSONL)')
    .addOption(configOption())
    .option('--keys <file>', 'also restore the wrapped keys written by flowgate export --with-keys')
    .option('--json', 'print JSON instead of text')
    .action(async (file: string, options: ConfigOptions & { keys?: string; json?: boolean }) => {
      if (!existsSync(file)) throw new FlowgateError('ERR_INPUT_FILE', `cannot read ${file}: no such file`);
      const config = await loadConfigFile(options.config, process.env);
      const keys = options.keys === undefined ? undefined : parseKeyFile(readText(options.keys), options.keys);
      if (keys) {
        const master = resolveMasterKey({ configured: config.masterKey, dataDir: config.dataDir, requireConfigured: config.store.databaseUrl !== undefined });
        checkMasterKey(keys, master.bytes);
      }
      const store = await openStore(config);
      try {
        for (const projection of PROJECTIONS) store.registerProjection(projection);
        const summary = await importLog(store, file, keys ? { keys } : {});
        if (options.json) {
          sayJson(summary);
          return;
        }
        say(`flowgate: imported ${summary.events} event(s) of ${summary.streams} stream(s), ${summary.checkpoints} checkpoint(s), ${summary.anchors} anchor(s) into ${store.dialect.location}`);
        if (summary.anchorsSkipped > 0) say(`flowgate: left out ${summary.anchorsSkipped} anchor(s) whose signing key is not in this store (import the keys file with --keys)`);
        if (summary.keys) say(`flowgate: restored ${summary.keys.dataKeys} data key(s) and ${summary.keys.signingKeys} signing key(s)`);
        else say('flowgate: no keys restored: sealed values (subjects, upstream tokens) stay sealed (restore the keys with --keys in the same import)');
        say(`flowgate: projections rebuilt: ${Object.entries(summary.projections).map(([name, n]) => `${name} ${n}`).join(', ')}`);
      } finally {
        await store.close();
      }
    });
}

/**
 * `flowgate export`: the event log as JSONL (docs/replay.md, "Export and import"), to a new
 * file or stdout. No secret is in it by construction: the log holds hashes and sealed
 * values only. `--with-keys FILE` also writes the data keys and signing keys, each wrapped
 * by the master key, to a separate file: what a restore on another machine needs besides
 * the master key itself (docs/privacy.md, "Export and restore").
 *
 * @module
 */
import type { Command } from 'commander';
import { loadConfigFile } from '../../config/load.js';
import { FlowgateError } from '../../errors/flowgate-error.js';
import { exportLog } from '../../store/export.js';
import { exportKeys } from '../../store/key-file.js';
import { fileSink, streamSink } from '../../store/line-sink.js';
import { openStore } from '../../store/open-store.js';
import type { ConfigOptions } from '../operator-engine.js';
import { parseTime } from './audit.js';
import { configOption } from './options.js';

interface ExportCliOptions extends ConfigOptions {
  readonly since?: string;
  readonly until?: string;
  readonly out?: string;
  readonly withKeys?: string;
}

/** Registers `export` on the program. */
export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write the event log as JSONL (no secret in it: hashes and sealed values only)')
    .addOption(configOption())
    .option('--since <time>', 'only events at or after this time (a slice to read, not to restore)')
    .option('--until <time>', 'only events before this time')
    .option('--out <file>', 'write to this new file (default: stdout)')
    .option('--with-keys <file>', 'also write the wrapped data keys and signing keys to this new file (needed to restore elsewhere)')
    .action(async (options: ExportCliOptions) => {
      const now = Date.now();
      const since = options.since === undefined ? undefined : parseTime('--since', options.since, now);
      const until = options.until === undefined ? undefined : parseTime('--until', options.until, now);
      if (since !== undefined && until !== undefined && since >= until) throw new FlowgateError('ERR_USAGE', '--since must be before --until');
      if (options.withKeys !== undefined && options.withKeys === options.out) throw new FlowgateError('ERR_USAGE', '--with-keys needs a file of its own');
      const config = await loadConfigFile(options.config, process.env);
      const store = await openStore(config);
      try {
        const keysSink = options.withKeys === undefined ? undefined : fileSink(options.withKeys);
        const sink = options.out === undefined ? streamSink(process.stdout) : fileSink(options.out);
        const summary = await exportLog(store, sink, { ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) });
        const where = options.out ?? 'stdout';
        const range = summary.firstPosition === null ? '' : ` (positions ${summary.firstPosition}–${summary.lastPosition})`;
        const extra = summary.window ? ', a time window: for reading, not for import' : `, ${summary.checkpoints} checkpoint(s), ${summary.anchors} anchor(s)`;
        process.stderr.write(`flowgate: exported ${summary.events} event(s) of ${summary.streams} stream(s)${range}${extra} to ${where}; digest ${summary.digest}\n`);
        if (keysSink) {
          const keys = await exportKeys(store.db, keysSink, now);
          process.stderr.write(
            `flowgate: wrote ${keys.dataKeys} data key(s) and ${keys.signingKeys} signing key(s), wrapped by the master key, to ${options.withKeys}; keep it apart from the export\n`,
          );
        }
      } finally {
        await store.close();
      }
    });
}

/**
 * `flowgate prune --before <time> --archive FILE`: archives finished flows and ended grants
 * whose last event is older than the cutoff, then removes them through the one sanctioned
 * deletion, leaving a checkpoint per stream (docs/privacy.md, "Retention"). The archive is a
 * new file; `flowgate verify-archive FILE` checks it, on its own and against the store.
 *
 * @module
 */
import type { Command } from 'commander';
import { pruneLog } from '../../audit/archive/prune.js';
import { loadConfigFile } from '../../config/load.js';
import { FlowgateError } from '../../errors/flowgate-error.js';
import { PROJECTIONS } from '../../projections/index.js';
import { fileSink } from '../../store/line-sink.js';
import { openStore } from '../../store/open-store.js';
import type { ConfigOptions } from '../operator-engine.js';
import { say, sayJson, when } from '../table.js';
import { parseTime } from './audit.js';
import { configOption } from './options.js';

interface PruneCliOptions extends ConfigOptions {
  readonly before?: string;
  readonly archive?: string;
  readonly batch: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
}

/** Registers `prune` on the program. */
export function registerPrune(program: Command): void {
  program
    .command('prune')
    .description('archive finished flows and ended grants older than a cutoff to JSONL, then remove them from the log (leaving checkpoints)')
    .addOption(configOption())
    .option('--before <time>', 'streams whose last event is before this time (ISO 8601, epoch ms, or an age like 90d)')
    .option('--archive <file>', 'the new archive file (JSONL); required unless --dry-run')
    .option('--batch <n>', 'flows per transaction', '100')
    .option('--dry-run', 'count what would be pruned; change nothing')
    .option('--json', 'print JSON instead of text')
    .action(async (options: PruneCliOptions) => {
      const now = Date.now();
      if (options.before === undefined) throw new FlowgateError('ERR_USAGE', '--before is required (e.g. --before 90d)');
      const before = parseTime('--before', options.before, now);
      if (before > now) throw new FlowgateError('ERR_USAGE', '--before is in the future');
      if (!options.dryRun && options.archive === undefined) throw new FlowgateError('ERR_USAGE', '--archive FILE is required (or --dry-run)');
      const batchSize = Number(options.batch);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new FlowgateError('ERR_USAGE', '--batch must be an integer from 1 to 10000');
      const config = await loadConfigFile(options.config, process.env);
      const store = await openStore(config);
      try {
        for (const projection of PROJECTIONS) store.registerProjection(projection);
        const archive = options.dryRun ? null : fileSink(options.archive!);
        const report = await pruneLog(store, archive, { before, batchSize, dryRun: options.dryRun ?? false });
        if (options.json) {
          sayJson({ ...report, before: new Date(report.before).toISOString(), archive: options.dryRun ? null : options.archive });
          return;
        }
        const verb = report.dryRun ? 'would prune' : 'pruned';
        say(
          `flowgate: ${verb} ${report.units} finished flow(s) with their grants before ${when(before)}: ${report.streams} stream(s), ${report.events} event(s)` +
            (report.dryRun ? '' : ` in ${report.batches} transaction(s), archived to ${options.archive} (digest ${report.digest})`),
        );
        if (report.keptTotal > 0) {
          say(`flowgate: kept ${report.keptTotal} finished-looking flow(s):`);
          for (const k of report.kept.slice(0, 10)) say(`  ${k.label}: ${k.reason}`);
          if (report.keptTotal > 10) say(`  … and ${report.keptTotal - 10} more (--json lists up to 100)`);
        }
      } finally {
        await store.close();
      }
    });
}

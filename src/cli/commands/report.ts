/**
 * `flowgate report <stream id> --html out.html`: one self-contained HTML page with the
 * stream's statechart (generated from its machine version's definition), the path it took
 * highlighted and its timeline beside it. `--all --since <time> --html DIR/index.html`
 * writes a page per flow and grant active since then, and an index linking them
 * (docs/replay.md, "Reports").
 *
 * @module
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Option, type Command } from 'commander';
import { writeAllReports, writeStreamReport } from '../../audit/report/report.js';
import { FlowgateError } from '../../errors/flowgate-error.js';
import { withOperatorEngine, type ConfigOptions } from '../operator-engine.js';
import { say } from '../table.js';
import { parseTime } from './audit.js';
import { configOption } from './options.js';
import { resolveStreamId } from './replay.js';

interface ReportOptions extends ConfigOptions {
  readonly html?: string;
  readonly all?: boolean;
  readonly since?: string;
  readonly limit: string;
}

/** Registers `report` on the program. */
export function registerReport(program: Command): void {
  program
    .command('report')
    .description("a stream's HTML report: its statechart with the path taken, and its timeline (self-contained, no network)")
    .argument('[stream-id]', 'flow:<id>, grant:<id> or client:<id>')
    .addOption(configOption())
    .addOption(new Option('--html <file>', 'the HTML file to write (with --all: the index; stream pages go beside it)'))
    .option('--all', 'a report per flow and grant active since --since, and an index')
    .option('--since <time>', 'with --all: streams with an event at or after this time (ISO 8601, epoch ms, or an age like 7d)')
    .option('--limit <n>', 'with --all: at most this many streams', '500')
    .action(async (argument: string | undefined, options: ReportOptions) => {
      const now = Date.now();
      if (options.html === undefined) throw new FlowgateError('ERR_USAGE', '--html <file> is required');
      if (options.all && argument !== undefined) throw new FlowgateError('ERR_USAGE', 'give a stream id or --all, not both');
      if (!options.all && argument === undefined) throw new FlowgateError('ERR_USAGE', 'name the stream to report on (see flowgate flows), or use --all --since <time>');
      if (!options.all && options.since !== undefined) throw new FlowgateError('ERR_USAGE', '--since goes with --all');
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new FlowgateError('ERR_USAGE', '--limit must be an integer from 1 to 100000');
      const since = options.since === undefined ? null : parseTime('--since', options.since, now);
      const dir = dirname(options.html);
      if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
      await withOperatorEngine(options, async ({ engine, vault }) => {
        if (options.all) {
          const entries = await writeAllReports(engine.store, options.html!, { vault, since, limit, kinds: ['flow', 'grant'], now });
          say(`flowgate: wrote ${entries.length} report(s) and the index ${options.html}`);
          return;
        }
        const streamId = await resolveStreamId(engine.store, argument!);
        const timeline = await writeStreamReport(engine.store, streamId, options.html!, { vault, now });
        say(`flowgate: wrote the report of ${streamId} (${timeline.entries.length} events, now ${timeline.finalState}) to ${options.html}`);
      });
    });
}

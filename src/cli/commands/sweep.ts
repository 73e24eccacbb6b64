/**
 * `flowgate sweep`: expires what ran out of time — flows past their deadline and codes never
 * redeemed (RFC 6749 §4.1.2: short-lived codes), grants past their idle or absolute
 * lifetime, and dynamic clients unused too long. Each expiry is a command checked by its
 * stream's machine, so a sweep racing live traffic never expires what was just used.
 * Running instances sweep on their own; this is for cron jobs and maintenance windows.
 *
 * @module
 */
import type { Command } from 'commander';
import { withOperatorEngine, type ConfigOptions } from '../operator-engine.js';
import { say, sayJson, textTable } from '../table.js';
import { configOption } from './options.js';

/** Registers `sweep` on the program. */
export function registerSweep(program: Command): void {
  program
    .command('sweep')
    .description('expire overdue flows and codes, grants past their lifetime and unused dynamic clients')
    .addOption(configOption())
    .option('--json', 'print JSON instead of a table')
    .action(async (options: ConfigOptions & { json?: boolean }) => {
      await withOperatorEngine(options, async ({ engine }) => {
        const report = await engine.sweep({ limit: 100_000 });
        if (options.json) {
          sayJson({ expired: report });
          return;
        }
        const rows = [
          ['flows and codes', report.flows],
          ['grants', report.grants],
          ['clients', report.clients],
        ] as const;
        say(textTable([['EXPIRED', (r) => r[0]], ['COUNT', (r) => String(r[1])]], rows));
      });
    });
}

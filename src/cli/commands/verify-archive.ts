/**
 * `flowgate verify-archive FILE`: checks a retention archive on its own (every stream
 * chains from its genesis hash to its checkpoint line, the digests match) and against the
 * store's `stream_checkpoints` (the same last hash and archive digest, the events gone);
 * `--offline` skips the store. Exits 1 on any finding (docs/privacy.md, "Retention").
 *
 * @module
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { verifyArchive, type ArchiveFinding } from '../../audit/archive/verify-archive.js';
import { loadConfigFile } from '../../config/load.js';
import { FlowgateError } from '../../errors/flowgate-error.js';
import { openStore } from '../../store/open-store.js';
import type { ConfigOptions } from '../operator-engine.js';
import { say, sayJson, textTable, when } from '../table.js';
import { configOption } from './options.js';

/** The archive did not verify (the report says where). */
export class ArchiveFindingsError extends FlowgateError {
  constructor(file: string, total: number) {
    super('ERR_ARCHIVE_FINDINGS', `${file} does not verify: ${total} problem${total === 1 ? '' : 's'}`);
  }
}

/** Registers `verify-archive` on the program. */
export function registerVerifyArchive(program: Command): void {
  program
    .command('verify-archive')
    .description("verify a retention archive (flowgate prune): its hash chains and digests, and the store's checkpoints for it")
    .argument('<file>', 'the archive (JSONL)')
    .addOption(configOption())
    .option('--offline', 'check the file alone, without the store')
    .option('--json', 'print JSON instead of text')
    .action(async (file: string, options: ConfigOptions & { offline?: boolean; json?: boolean }) => {
      if (!existsSync(file)) throw new FlowgateError('ERR_INPUT_FILE', `cannot read ${file}: no such file`);
      let report;
      if (options.offline) {
        report = await verifyArchive(file);
      } else {
        const config = await loadConfigFile(options.config, process.env);
        const store = await openStore(config);
        try {
          report = await verifyArchive(file, { db: store.db });
        } finally {
          await store.close();
        }
      }
      if (options.json) {
        sayJson({ ok: report.findings.length === 0, ...report });
      } else {
        const against = report.againstStore ? ', checked against the store' : ', checked on its own (--offline)';
        say(
          `flowgate verify-archive: ${file}: ${report.streams} stream(s), ${report.events} event(s), cutoff ${when(report.cutoff)}, written ${when(report.createdAt)}${against}`,
        );
        if (report.findings.length === 0) say('findings: none');
        else {
          say(`findings: ${report.findings.length}`);
          say(textTable<ArchiveFinding>([['  LINE', (f) => `  ${f.line}`], ['STREAM', (f) => f.streamId ?? '-'], ['KIND', (f) => f.kind], ['REASON', (f) => f.reason]], report.findings));
        }
      }
      if (report.findings.length > 0) throw new ArchiveFindingsError(file, report.findings.length);
    });
}

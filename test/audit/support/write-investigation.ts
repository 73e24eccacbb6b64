/**
 * Writes the investigation log of docs/audit.md into a data directory, for running the
 * commands of that page against it:
 *
 *   FLOWGATE_MASTER_KEY=… node --import tsx test/audit/support/write-investigation.ts /tmp/flowgate-demo
 *
 * The master key (flowgate's `FLOWGATE_MASTER_KEY` text) seals the personal data, so the
 * CLI run with the same key can open it in `flowgate replay`.
 */
import { mkdirSync } from 'node:fs';
import { parseMasterKey } from '../../../src/crypto/master-key.js';
import { writeInvestigationLog } from './investigation.js';

const dir = process.argv[2];
const keyText = process.env.FLOWGATE_MASTER_KEY;
if (!dir || !keyText) {
  process.stderr.write('usage: FLOWGATE_MASTER_KEY=… node --import tsx test/audit/support/write-investigation.ts <data dir>\n');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const log = await writeInvestigationLog(dir, parseMasterKey(keyText));
process.stdout.write(`${JSON.stringify(log, null, 2)}\n`);

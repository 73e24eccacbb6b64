/**
 * Writes the log that docs/replay.md and docs/privacy.md show, with the real engine:
 * the scenario of ./scenario.ts in a SQLite file under the directory given (which must not
 * hold a flowgate database yet), with `flowgate.config.json` beside it. Prints the master
 * key the CLI needs (FLOWGATE_MASTER_KEY) on stdout.
 *
 * ```sh
 * node --import tsx test/replay/support/docs-log.ts /tmp/flowgate-replay-demo
 * ```
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openScenarioFile, writeScenario } from './scenario.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: docs-log.ts <new directory>');
if (existsSync(join(dir, 'flowgate.db'))) throw new Error(`${dir} already holds a flowgate database`);
mkdirSync(dir, { recursive: true });
const s = await openScenarioFile(dir);
const scenario = await writeScenario(s);
await s.dispose();
process.stderr.write(`${JSON.stringify(scenario, null, 2)}\n`);
process.stdout.write(`${s.masterKey}\n`);

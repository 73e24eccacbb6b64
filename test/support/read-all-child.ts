/**
 * Child process for the readAll memory test: opens the store named by FLOWGATE_* in its
 * environment, reads the whole log, and prints the event count and its RSS growth.
 */
import { loadConfigFile } from '../../src/config/load.js';
import { openStore } from '../../src/store/open-store.js';

const config = await loadConfigFile(undefined, process.env);
const store = await openStore(config);
global.gc?.();
const baseline = process.memoryUsage().rss;
let peak = baseline;
let count = 0;
let last = 0;
let ordered = true;
for await (const event of store.readAll({ batchSize: 1000 })) {
  if (event.globalPosition <= last) ordered = false;
  last = event.globalPosition;
  count++;
  if (count % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
}
peak = Math.max(peak, process.memoryUsage().rss);
await store.close();
process.stdout.write(JSON.stringify({ count, baseline, peak, ordered }) + '\n');

/**
 * `npm run bench:audit`: `flowgate audit` on a generated log of 1,000,000 events (SQLite
 * file; interleaved authorization flows, redemptions, grants and refreshes, every event
 * legal, correct hash chains: test/audit/support/synthetic-log.ts).
 *
 * - **Chain verification + machine re-run** (target ≥ 0.7×): flowgate's stream pass
 *   (`streamPass`: keyset-paginated reads, chain, version/position order, re-fold with
 *   legality and drift checks; worker threads on the machine's cores) against a raw
 *   single-threaded baseline that only reads the same rows (better-sqlite3, one iterating
 *   statement), parses them, hashes them (payload, envelope, chain) and folds each stream
 *   with the same reused-scope runner. Medians of alternating runs.
 * - **Full audit without projections** (stream pass with invariants, global pass, code
 *   duplicates) and **projection rebuild + diff**: events per second, no target.
 * - **Peak RSS** of each (target < 200 MB for the audit).
 *
 * Every measured run is a fresh process running the compiled code (this file and the
 * sources are compiled once into a temporary directory), as `flowgate audit` runs in
 * production: throughput is measured on the wall clock of the whole process, both sides
 * alike, and each run reports its own peak RSS.
 *
 * Environment: BENCH_EVENTS (default 1,000,000), BENCH_RUNS (3), BENCH_PROJECTIONS=0 to
 * skip the projection rebuild (it needs the live projections built first, which takes as
 * long again), BENCH_KEEP=1 to keep the database.
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnyMachineSnapshot } from 'xstate';
import { runAudit } from '../src/audit/audit.js';
import { projectionDiff } from '../src/audit/projection-diff.js';
import { countEvents, maxPosition } from '../src/audit/queries.js';
import { envelopeOfCanonical } from '../src/audit/stream-auditor.js';
import { streamPass } from '../src/audit/stream-pass.js';
import { parseConfig } from '../src/config/load.js';
import type { MachineRunner } from '../src/engine/machine-runner.js';
import { rebuildAll } from '../src/engine/replay.js';
import { machineOfStream, runnerFor } from '../src/engine/runners.js';
import { PROJECTIONS } from '../src/projections/index.js';
import { openStore } from '../src/store/open-store.js';
import { chainHash, genesisHash } from '../src/store/hash-chain.js';
import type { StoredEvent } from '../src/store/types.js';
import { compare, median, printHeader, writeResults, type Row } from './lib/measure.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WITH_PROJECTIONS = process.env.BENCH_PROJECTIONS !== '0';

const STREAM_ORDER = `SELECT global_position, event_id, stream_id, stream_version, type, schema_version, data, metadata,
  occurred_at, payload_hash, prev_hash, hash FROM events ORDER BY stream_id, stream_version`;

/**
 * The raw baseline: read (one iterating statement), parse, hash, fold with the pure
 * transition function (the reused-scope runner), nothing else. Returns events checked.
 */
function rawBaseline(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    let stream = '';
    let prev = '';
    let runner: MachineRunner | undefined;
    let snapshot: AnyMachineSnapshot | undefined;
    let events = 0;
    let bad = 0;
    for (const row of db.prepare(STREAM_ORDER).raw(true).iterate() as Iterable<any[]>) {
      const data = JSON.parse(row[6]);
      const metadata = JSON.parse(row[7]);
      if (row[2] !== stream) {
        stream = row[2];
        prev = genesisHash(stream);
        runner = runnerFor(machineOfStream(stream, { metadata } as unknown as StoredEvent));
        snapshot = runner.initial;
      }
      if (createHash('sha256').update(row[6]).digest('hex') !== row[9]) bad++;
      if (row[10] !== prev || chainHash(row[10], envelopeOfCanonical(row as never), row[9]) !== row[11]) bad++;
      prev = row[11];
      const next = runner!.step(snapshot!, { ...data, type: row[4], at: row[8] });
      if (next) snapshot = next;
      else bad++;
      events++;
    }
    if (bad > 0) throw new Error(`baseline: ${bad} rows did not verify`);
    return events;
  } finally {
    db.close();
  }
}

function configFor(path: string) {
  return parseConfig({ values: { dataDir: join(path, '..'), store: { sqlitePath: path, synchronous: 'NORMAL' } } });
}

/** flowgate's chain + machine pass (the audit's stream pass, invariants off). */
async function chainAndMachine(path: string): Promise<number> {
  const store = await openStore(configFor(path));
  try {
    const upTo = await maxPosition(store.db);
    const result = await streamPass({
      db: store.db,
      upTo,
      total: await countEvents(store.db, upTo),
      checks: { chain: true, machine: true, invariants: false },
      targets: [],
      batchSize: 2000,
      sqliteFile: path,
      workers: Math.min(availableParallelism(), 4),
      onFinding: (f) => {
        throw new Error(`unexpected finding: ${JSON.stringify(f)}`);
      },
      onProgress: () => {},
    });
    return result.stats.events;
  } finally {
    await store.close();
  }
}

/** The whole audit except the projections. */
async function fullAudit(path: string): Promise<number> {
  const store = await openStore(configFor(path));
  try {
    const report = await runAudit(store, { checks: { projections: false } });
    if (report.findings.total > 0) throw new Error(`unexpected findings: ${JSON.stringify(report.findings.byKind)}`);
    return report.events;
  } finally {
    await store.close();
  }
}

/** Projection rebuild into a scratch file + diff with the live tables. */
async function projections(path: string): Promise<number> {
  const store = await openStore(configFor(path));
  try {
    let differing = 0;
    const result = await projectionDiff({
      db: store.db,
      dialect: 'sqlite',
      upTo: await maxPosition(store.db),
      projections: PROJECTIONS,
      scratch: 'file',
      batchSize: 2000,
      onFinding: () => differing++,
      onProgress: () => {},
    });
    if (differing > 0) throw new Error(`projection diff found ${differing} differences`);
    return result.events;
  } finally {
    await store.close();
  }
}

const SUBJECTS: Record<string, (path: string) => Promise<number>> = {
  baseline: async (path) => rawBaseline(path),
  'chain-machine': chainAndMachine,
  audit: fullAudit,
  projections,
};

/** Child mode: one run of one subject, then its time and peak RSS on stdout. */
async function child(subject: string, path: string): Promise<void> {
  const start = performance.now();
  const events = await SUBJECTS[subject]!(path);
  const seconds = (performance.now() - start) / 1000;
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ subject, events, seconds, maxRssMb })}\n`);
}

interface ChildRun {
  readonly events: number;
  readonly seconds: number;
  readonly maxRssMb: number;
}

/** Compiles this benchmark and the sources into `dir` (tsc; the project's own settings). */
function compile(dir: string): string {
  const root = join(import.meta.dirname, '..');
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: { noEmit: false, declaration: false, sourceMap: false, rootDir: root, outDir: join(dir, 'out') },
      include: [join(root, 'src'), join(root, 'machines'), join(root, 'bench/audit.ts'), join(root, 'bench/lib')],
    }),
  );
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { stdio: 'pipe' });
  } catch {
    // Type errors elsewhere in a work-in-progress checkout do not stop tsc from emitting.
  }
  // The compiled modules resolve packages and ESM the way the checkout does.
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const entry = join(dir, 'out', 'bench', 'audit.js');
  if (!existsSync(entry)) throw new Error('bench:audit could not compile the sources');
  return entry;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-audit-'));
  const path = join(dir, 'log.db');
  const runs: Record<string, ChildRun[]> = {};
  try {
    let t = performance.now();
    const entry = compile(dir);
    process.stdout.write(`compiled in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    const runChild = (subject: string): ChildRun => {
      const out = execFileSync(process.execPath, [entry, '--child', subject, path], { encoding: 'utf8', maxBuffer: 1 << 20 });
      const run = JSON.parse(out.trim().split('\n').at(-1)!) as ChildRun;
      (runs[subject] ??= []).push(run);
      return run;
    };

    await (await openStore(configFor(path))).close();
    const { seedSqliteFile } = await import('../test/audit/support/synthetic-log.js');
    t = performance.now();
    const seeded = seedSqliteFile(path, { events: EVENTS, clients: 50 });
    const seedSeconds = (performance.now() - t) / 1000;
    process.stdout.write(
      `seeded ${seeded.toLocaleString('en')} events in ${seedSeconds.toFixed(1)} s (${Math.round(statSync(path).size / 1048576)} MB)\n`,
    );
    let liveProjectionSeconds: number | undefined;
    if (WITH_PROJECTIONS) {
      t = performance.now();
      const store = await openStore(configFor(path));
      for (const p of PROJECTIONS) store.registerProjection(p);
      await rebuildAll(store);
      await store.close();
      liveProjectionSeconds = (performance.now() - t) / 1000;
      process.stdout.write(`built the live projections in ${liveProjectionSeconds.toFixed(1)} s\n`);
    }

    const rows: Row[] = [];
    printHeader(`audit of ${seeded.toLocaleString('en')} events (SQLite file; medians of ${RUNS} alternating runs; ${availableParallelism()} CPUs)`);
    const target = await compare(
      'chain + machine re-run vs raw baseline',
      { name: 'flowgate stream pass (worker threads)', run: async () => runChild('chain-machine').events },
      { name: 'raw: read + parse + hash + fold, 1 thread', run: async () => runChild('baseline').events },
      RUNS,
      0.7,
    );
    if (target) rows.push(target);

    const extra: Array<{ scenario: string; perSecond: number; maxRssMb: number }> = [];
    const single = (scenario: string, subject: string) => {
      const measured = Array.from({ length: Math.max(1, Math.min(RUNS, 2)) }, () => runChild(subject));
      const perSecond = median(measured.map((r) => r.events / r.seconds));
      const maxRssMb = Math.max(...measured.map((r) => r.maxRssMb));
      extra.push({ scenario, perSecond, maxRssMb });
      process.stdout.write(`${scenario.padEnd(44)} ${Math.round(perSecond).toLocaleString('en').padStart(10)}  events/s (no target)\n`);
    };
    single('full audit, projections excluded', 'audit');
    if (WITH_PROJECTIONS) single('projection rebuild + diff', 'projections');

    process.stdout.write('\npeak RSS (highest of the runs; every run is its own process)\n');
    const peak: Record<string, number> = {};
    for (const [subject, list] of Object.entries(runs)) {
      peak[subject] = Math.max(...list.map((r) => r.maxRssMb));
      const verdict = subject === 'chain-machine' || subject === 'audit' ? (peak[subject]! < 200 ? '  < 200 MB ok' : '  ≥ 200 MB MISSED') : '';
      const seconds = median(list.map((r) => r.seconds));
      process.stdout.write(`${subject.padEnd(44)} ${peak[subject]!.toFixed(0).padStart(7)} MB  (median ${seconds.toFixed(1)} s in process)${verdict}\n`);
    }
    writeResults('audit', rows, {
      events: seeded,
      seedSeconds,
      liveProjectionSeconds,
      extra,
      peakRssMb: Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v)])),
      runs,
    });
  } finally {
    if (process.env.BENCH_KEEP === '1') process.stdout.write(`kept ${path}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4]!);
else await main();

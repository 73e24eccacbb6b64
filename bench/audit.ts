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
 *   with the same reused-scope runner. Medians of alternating runs. The stream pass on
 *   one thread is measured once too, to tell per-event cost from parallelism.
 * - **Full audit without projections** (stream pass with invariants, global pass, code
 *   duplicates), **projection rebuild + diff** (in its worker thread, as the audit runs it;
 *   once in the main thread too, for comparison) and the **default audit** as users run
 *   it, projections included: events per second, no target.
 * - **Peak RSS** of each (target < 200 MB for the audit, with and without projections).
 *
 * Every measured run is a fresh process running the compiled code (this file and the
 * sources are compiled once into a temporary directory), as `flowgate audit` runs in
 * production; each child imports only what its subject needs, times the subject from its
 * first query to its result (worker start-up included) and reports its own peak RSS
 * (`process.resourceUsage().maxRSS`, worker threads included).
 *
 * Options (flags, or the environment):
 *
 *   npm run bench:audit -- --events 50000 --runs 1 --no-projections
 *
 * - `--events N` / BENCH_EVENTS: the size of the log (default 1,000,000);
 * - `--runs N` / BENCH_RUNS: timed runs per side of the comparison (default 3);
 * - `--no-projections` / BENCH_PROJECTIONS=0: skip the projection rebuild + diff (it needs
 *   the live projections built first, which takes as long again);
 * - `--keep` / BENCH_KEEP=1: keep the database; `--no-save`: do not write bench/results/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { median, writeResults, type Row } from './lib/measure.js';

/** The bench's settings, from flags first, then the environment. */
function settings() {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      runs: { type: 'string' },
      'no-projections': { type: 'boolean' },
      keep: { type: 'boolean' },
      'no-save': { type: 'boolean' },
    },
    strict: true,
  });
  const count = (name: string, text: string | undefined, fallback: number) => {
    const n = Number((text ?? String(fallback)).replaceAll('_', ''));
    if (!Number.isInteger(n) || n < 1) throw new Error(`bench:audit: ${name} must be a positive whole number, got "${text}"`);
    return n;
  };
  return {
    events: count('--events', values.events ?? process.env.BENCH_EVENTS, 1_000_000),
    runs: count('--runs', values.runs ?? process.env.BENCH_RUNS, 3),
    projections: !values['no-projections'] && process.env.BENCH_PROJECTIONS !== '0',
    keep: values.keep === true || process.env.BENCH_KEEP === '1',
    save: !values['no-save'],
  };
}

const STREAM_ORDER = `SELECT global_position, event_id, stream_id, stream_version, type, schema_version, data, metadata,
  occurred_at, payload_hash, prev_hash, hash FROM events ORDER BY stream_id, stream_version`;

async function configFor(path: string) {
  const { parseConfig } = await import('../src/config/load.js');
  return parseConfig({ values: { dataDir: join(path, '..'), store: { sqlitePath: path, synchronous: 'NORMAL' } } });
}

/** A subject: loads what it needs, then returns the timed work. */
type Subject = (path: string) => Promise<() => Promise<number>>;

/**
 * The raw baseline: read (one iterating statement), parse, hash, fold with the pure
 * transition function (the reused-scope runner), nothing else. Returns events checked.
 */
const baseline: Subject = async (path) => {
  const { default: Database } = await import('better-sqlite3');
  const { createHash } = await import('node:crypto');
  const { envelopeOfCanonical } = await import('../src/audit/stream-auditor.js');
  const { machineOfStream, runnerFor } = await import('../src/engine/runners.js');
  const { chainHash, genesisHash } = await import('../src/store/hash-chain.js');
  type Runner = ReturnType<typeof runnerFor>;
  return async () => {
    const db = new Database(path, { readonly: true });
    try {
      let stream = '';
      let prev = '';
      let runner: Runner | undefined;
      let snapshot: Runner['initial'] | undefined;
      let events = 0;
      let bad = 0;
      for (const row of db.prepare(STREAM_ORDER).raw(true).iterate() as Iterable<any[]>) {
        const data = JSON.parse(row[6]);
        const metadata = JSON.parse(row[7]);
        if (row[2] !== stream) {
          stream = row[2];
          prev = genesisHash(stream);
          runner = runnerFor(machineOfStream(stream, { metadata } as never));
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
  };
};

/** flowgate's chain + machine pass (the audit's stream pass, invariants off) on `workers` threads. */
const chainAndMachine =
  (workers: number): Subject =>
  async (path) => {
    const { openStore } = await import('../src/store/open-store.js');
    const { countEvents, maxPosition } = await import('../src/audit/queries.js');
    const { streamPass } = await import('../src/audit/stream-pass.js');
    const config = await configFor(path);
    return async () => {
      const store = await openStore(config);
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
          workers,
          onFinding: (f) => {
            throw new Error(`unexpected finding: ${JSON.stringify(f)}`);
          },
          onProgress: () => {},
        });
        return result.stats.events;
      } finally {
        await store.close();
      }
    };
  };

/**
 * The whole audit with default workers: as `flowgate audit` runs it (projections included),
 * or as `flowgate audit --no-projections` does.
 */
const fullAudit =
  (withProjections: boolean): Subject =>
  async (path) => {
    const { openStore } = await import('../src/store/open-store.js');
    const { runAudit } = await import('../src/audit/audit.js');
    const config = await configFor(path);
    return async () => {
      const store = await openStore(config);
      try {
        const report = await runAudit(store, { checks: { projections: withProjections } });
        if (report.findings.total > 0) throw new Error(`unexpected findings: ${JSON.stringify(report.findings.byKind)}`);
        return report.events;
      } finally {
        await store.close();
      }
    };
  };

/** Projection rebuild into a scratch file + diff with the live tables, in its worker thread as the audit runs it. */
const projections: Subject = async (path) => {
  const { projectionDiffInWorker } = await import('../src/audit/projection-diff.js');
  const { maxPosition } = await import('../src/audit/queries.js');
  const { openStore } = await import('../src/store/open-store.js');
  const { PROJECTIONS } = await import('../src/projections/index.js');
  const config = await configFor(path);
  return async () => {
    const store = await openStore(config);
    try {
      let differing = 0;
      const result = await projectionDiffInWorker(
        path,
        PROJECTIONS.map((p) => p.name),
        {
          upTo: await maxPosition(store.db),
          scratch: 'file',
          batchSize: 2000,
          onFinding: () => differing++,
          onProgress: () => {},
        },
      );
      if (differing > 0) throw new Error(`projection diff found ${differing} differences`);
      return result.events;
    } finally {
      await store.close();
    }
  };
};

/** The same in the main thread, as before it had a worker (for comparison). */
const projectionsMainThread: Subject = async (path) => {
  const { openStore } = await import('../src/store/open-store.js');
  const { projectionDiff } = await import('../src/audit/projection-diff.js');
  const { maxPosition } = await import('../src/audit/queries.js');
  const { PROJECTIONS } = await import('../src/projections/index.js');
  const config = await configFor(path);
  return async () => {
    const store = await openStore(config);
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
  };
};

const WORKERS = Math.min(availableParallelism(), 4);

const SUBJECTS: Record<string, Subject> = {
  baseline,
  'chain-machine': chainAndMachine(WORKERS),
  'chain-machine-1-thread': chainAndMachine(0),
  audit: fullAudit(false),
  'audit-default': fullAudit(true),
  projections,
  'projections-main-thread': projectionsMainThread,
};

/** Child mode: one run of one subject, then its time and peak RSS on stdout. */
async function child(subject: string, path: string): Promise<void> {
  const work = await SUBJECTS[subject]!(path);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const events = await work();
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ subject, events, seconds, cpuSeconds, maxRssMb })}\n`);
}

interface ChildRun {
  readonly events: number;
  /** Wall clock from the first query to the result. */
  readonly seconds: number;
  /** CPU time of the process over the same span, every thread included. */
  readonly cpuSeconds: number;
  readonly maxRssMb: number;
}

/** Compiles this benchmark and the sources into `dir` (tsc; the project's own settings). */
function compile(dir: string): string {
  const root = join(import.meta.dirname, '..');
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: { noEmit: false, declaration: false, sourceMap: false, incremental: false, rootDir: root, outDir: join(dir, 'out') },
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

const say = (text: string) => process.stdout.write(`${text}\n`);
const perSecond = (r: ChildRun) => r.events / r.seconds;
const fmt = (n: number) => Math.round(n).toLocaleString('en');

async function main(): Promise<void> {
  const options = settings();
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-audit-'));
  const path = join(dir, 'log.db');
  const runs: Record<string, ChildRun[]> = {};
  try {
    let t = performance.now();
    const entry = compile(dir);
    say(`compiled in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const runChild = (subject: string, record = true): ChildRun => {
      const out = execFileSync(process.execPath, [entry, '--child', subject, path], { encoding: 'utf8', maxBuffer: 1 << 20 });
      const run = JSON.parse(out.trim().split('\n').at(-1)!) as ChildRun;
      if (record) (runs[subject] ??= []).push(run);
      say(`  ${subject.padEnd(24)} ${fmt(run.events)} events in ${run.seconds.toFixed(1)} s (CPU ${run.cpuSeconds.toFixed(1)} s): ${fmt(perSecond(run)).padStart(7)}/s, peak RSS ${run.maxRssMb.toFixed(0)} MB`);
      return run;
    };

    // The database: migrated by flowgate, filled with the synthetic log, live projections built.
    const { openStore } = await import('../src/store/open-store.js');
    await (await openStore(await configFor(path))).close();
    const { seedSqliteFile } = await import('../test/audit/support/synthetic-log.js');
    t = performance.now();
    const seeded = seedSqliteFile(path, { events: options.events, clients: 50 });
    const seedSeconds = (performance.now() - t) / 1000;
    say(`seeded ${fmt(seeded)} events in ${seedSeconds.toFixed(1)} s (${Math.round(statSync(path).size / 1048576)} MB)`);
    let liveProjectionSeconds: number | undefined;
    if (options.projections) {
      const { rebuildAll } = await import('../src/engine/replay.js');
      const { PROJECTIONS } = await import('../src/projections/index.js');
      t = performance.now();
      const store = await openStore(await configFor(path));
      for (const p of PROJECTIONS) store.registerProjection(p);
      await rebuildAll(store);
      await store.close();
      liveProjectionSeconds = (performance.now() - t) / 1000;
      say(`built the live projections in ${liveProjectionSeconds.toFixed(1)} s`);
    }

    say(`\naudit of ${fmt(seeded)} events (SQLite file; ${availableParallelism()} CPUs; every run a fresh process)`);
    // One untimed read of every row first, so both sides find the file in the page cache.
    say('warm-up (not counted)');
    runChild('baseline', false);
    say(`chain + machine re-run vs raw baseline: ${options.runs} alternating runs each`);
    for (let i = 0; i < options.runs; i++) {
      for (const subject of i % 2 === 0 ? ['chain-machine', 'baseline'] : ['baseline', 'chain-machine']) runChild(subject);
    }
    say('for comparison: the stream pass on one thread, the full audit, the projections');
    runChild('chain-machine-1-thread');
    const extraRuns = Math.max(1, Math.min(options.runs, 2));
    for (let i = 0; i < extraRuns; i++) runChild('audit');
    if (options.projections) {
      for (let i = 0; i < extraRuns; i++) runChild('projections');
      runChild('projections-main-thread');
      for (let i = 0; i < extraRuns; i++) runChild('audit-default');
    }

    const rate = (subject: string) => median(runs[subject]!.map(perSecond));
    const peakOf = (subject: string) => Math.max(...runs[subject]!.map((r) => r.maxRssMb));
    const row: Row = {
      scenario: 'chain + machine re-run vs raw baseline',
      subject: `flowgate stream pass (${WORKERS} worker threads)`,
      subjectPerSecond: rate('chain-machine'),
      baseline: 'raw: read + parse + hash + fold, 1 thread',
      baselinePerSecond: rate('baseline'),
      runs: options.runs,
      target: 0.7,
    };
    const ratio = row.subjectPerSecond / row.baselinePerSecond;
    const rssTarget = (mb: number) => (mb < 200 ? '< 200 MB ok' : '≥ 200 MB MISSED');
    const table: Array<[string, string, string, string]> = [
      ['chain + machine, stream pass', `${fmt(row.subjectPerSecond)}/s`, `${peakOf('chain-machine').toFixed(0)} MB`, `${ratio.toFixed(2)}× baseline (target ≥ 0.7: ${ratio >= 0.7 ? 'ok' : 'MISSED'})`],
      ['raw baseline, 1 thread', `${fmt(row.baselinePerSecond)}/s`, `${peakOf('baseline').toFixed(0)} MB`, ''],
      ['stream pass, 1 thread', `${fmt(rate('chain-machine-1-thread'))}/s`, `${peakOf('chain-machine-1-thread').toFixed(0)} MB`, `${(rate('chain-machine-1-thread') / row.baselinePerSecond).toFixed(2)}× baseline (one run)`],
      ['full audit, projections excluded', `${fmt(rate('audit'))}/s`, `${peakOf('audit').toFixed(0)} MB`, `RSS ${rssTarget(peakOf('audit'))}`],
    ];
    if (options.projections) {
      table.push(['projection rebuild + diff', `${fmt(rate('projections'))}/s`, `${peakOf('projections').toFixed(0)} MB`, 'no target']);
      table.push(['projections, main thread', `${fmt(rate('projections-main-thread'))}/s`, `${peakOf('projections-main-thread').toFixed(0)} MB`, 'one run, for comparison']);
      table.push(['default audit, projections included', `${fmt(rate('audit-default'))}/s`, `${peakOf('audit-default').toFixed(0)} MB`, `RSS ${rssTarget(peakOf('audit-default'))}`]);
    }
    say(`\n${'medians'.padEnd(34)} ${'events/s'.padStart(11)} ${'peak RSS'.padStart(9)}`);
    for (const [name, speed, rss, note] of table) say(`${name.padEnd(34)} ${speed.padStart(11)} ${rss.padStart(9)}  ${note}`);

    if (options.save) {
      writeResults('audit', [row], {
        events: seeded,
        workers: WORKERS,
        seedSeconds,
        liveProjectionSeconds,
        medians: Object.fromEntries(Object.keys(runs).map((s) => [s, { perSecond: Math.round(rate(s)), peakRssMb: Math.round(peakOf(s)) }])),
        targets: {
          ratio: { target: 0.7, met: ratio >= 0.7 },
          auditPeakRssMb: {
            target: 200,
            met: peakOf('audit') < 200 && peakOf('chain-machine') < 200 && (!options.projections || peakOf('audit-default') < 200),
          },
        },
        runs,
      });
    }
  } finally {
    if (options.keep) say(`kept ${path}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]!, process.argv[4]!);
else await main();

/**
 * Small helpers shared by the benchmarks: timed runs, medians, a printed table and a JSON
 * record under bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

/** Median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * What a run reports: how many operations it did, or that and the seconds they took when
 * the run times itself (to leave its setup and teardown, such as opening and migrating a
 * fresh database, out of the rate).
 */
export type RunResult = number | { readonly ops: number; readonly seconds: number };

/** Seconds since `start` (from `process.hrtime.bigint()`). */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Runs `fn` and returns operations per second. */
export async function rate(fn: () => Promise<RunResult>): Promise<number> {
  const start = process.hrtime.bigint();
  const result = await fn();
  const seconds = secondsSince(start);
  return typeof result === 'number' ? result / seconds : result.ops / result.seconds;
}

/** One line of a comparison: flowgate next to its baseline. */
export interface Row {
  readonly scenario: string;
  readonly subject: string;
  readonly subjectPerSecond: number;
  readonly baseline: string;
  readonly baselinePerSecond: number;
  readonly runs: number;
  readonly target?: number;
  /**
   * Median of the per-run ratios subject/baseline, each taken from two adjacent runs: less
   * sensitive than the ratio of the medians to load that changes during the benchmark.
   */
  readonly pairedRatio?: number;
}

/**
 * Measures `subject` and `baseline` alternately (one warm-up each, then `runs` timed runs)
 * so drift on a shared machine hits both alike; returns the medians.
 */
export async function compare(
  scenario: string,
  subject: { name: string; run: () => Promise<RunResult> },
  baseline: { name: string; run: () => Promise<RunResult> },
  runs: number,
  target?: number,
): Promise<Row | undefined> {
  const only = process.env.BENCH_ONLY;
  if (only && !new RegExp(only, 'i').test(scenario)) return undefined;
  await subject.run();
  await baseline.run();
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      a.push(await rate(subject.run));
      b.push(await rate(baseline.run));
    } else {
      b.push(await rate(baseline.run));
      a.push(await rate(subject.run));
    }
  }
  const row: Row = {
    scenario,
    subject: subject.name,
    subjectPerSecond: median(a),
    baseline: baseline.name,
    baselinePerSecond: median(b),
    runs,
    ...(target === undefined ? {} : { target }),
    pairedRatio: median(a.map((x, i) => x / b[i]!)),
  };
  printRow(row);
  return row;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en').padStart(10);

/** Prints the table header. */
export function printHeader(title: string): void {
  process.stdout.write(`\n${title}\n`);
  process.stdout.write(
    `${'scenario'.padEnd(44)} ${'flowgate/s'.padStart(10)} ${'baseline/s'.padStart(10)}  ${'ratio'.padStart(5)}  target\n`,
  );
}

function printRow(row: Row): void {
  const ratio = row.subjectPerSecond / row.baselinePerSecond;
  const target = row.target === undefined ? '' : `≥ ${row.target}${ratio >= row.target ? ' ok' : ' MISSED'}`;
  process.stdout.write(
    `${row.scenario.padEnd(44)} ${fmt(row.subjectPerSecond)} ${fmt(row.baselinePerSecond)}  ${ratio.toFixed(2).padStart(5)}  ${target}\n`,
  );
}

/** Writes the rows as JSON to bench/results/<name>-<timestamp>.json and returns the path. */
export function writeResults(name: string, rows: readonly Row[], extra: Record<string, unknown> = {}): string {
  const dir = join(import.meta.dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(dir, `${name}-${stamp}.json`);
  const record = {
    benchmark: name,
    at: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    // The machine may be shared: its load when the results were written, for context.
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    ...extra,
    rows: rows.map((r) => ({ ...r, ratio: r.subjectPerSecond / r.baselinePerSecond })),
  };
  writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  process.stdout.write(`\nresults written to ${file}\n`);
  return file;
}

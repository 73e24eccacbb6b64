/**
 * Collects findings in constant memory: every finding is counted by kind, the first
 * `maxListed` are kept in full (a log broken everywhere must not exhaust memory), and at
 * most `maxPerKind` of one kind are listed so one flood does not hide the other kinds.
 *
 * @module
 */
import type { Finding, FindingsSummary } from './types.js';

/** Bounded collector of findings. */
export class FindingCollector {
  readonly #listed: Finding[] = [];
  readonly #byKind = new Map<string, number>();
  #total = 0;

  constructor(
    readonly maxListed = 1000,
    readonly maxPerKind = 200,
  ) {}

  add(finding: Finding): void {
    this.#total++;
    const n = (this.#byKind.get(finding.kind) ?? 0) + 1;
    this.#byKind.set(finding.kind, n);
    if (this.#listed.length < this.maxListed && n <= this.maxPerKind) this.#listed.push(finding);
  }

  get total(): number {
    return this.#total;
  }

  /** Sorted by position, then stream (stable for one position). */
  summary(): FindingsSummary {
    const listed = [...this.#listed].sort((a, b) => a.position - b.position || (a.streamId < b.streamId ? -1 : a.streamId > b.streamId ? 1 : 0));
    return {
      total: this.#total,
      byKind: Object.fromEntries([...this.#byKind.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      listed,
      unlisted: this.#total - listed.length,
    };
  }
}

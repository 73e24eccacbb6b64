/**
 * A bounded, per-process cache of validated metadata documents: at most `maxEntries`
 * entries (least recently used evicted first), each until its own deadline. Only
 * successfully validated documents go in; failures are never stored (CIMD: "MUST NOT cache
 * error responses or invalid documents").
 *
 * @module
 */

/** A bounded map whose entries expire. */
export class BoundedTtlCache<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(readonly maxEntries: number, private readonly clock: () => number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  /** The live value for `key` (and marks it recently used), or undefined. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.clock() >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` for `ttlMs` (nothing when `ttlMs` ≤ 0), evicting the least recently used beyond the bound. */
  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    if (!(ttlMs > 0)) return;
    this.#entries.set(key, { value, expiresAt: this.clock() + ttlMs });
    while (this.#entries.size > this.maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** How many entries are held (expired ones included until touched). */
  get size(): number {
    return this.#entries.size;
  }
}

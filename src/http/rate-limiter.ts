/**
 * A fixed-window rate limiter with a bounded number of keys (the oldest window is dropped
 * first), kept in memory: limits are per instance (documented).
 *
 * @module
 */
import type { RateLimiterPort } from './ports.js';

/** `limit` actions per `windowMs` per key, for at most `maxKeys` keys. */
export class FixedWindowLimiter implements RateLimiterPort {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number,
    private readonly maxKeys = 10_000,
  ) {}

  take(key: string): boolean {
    const now = this.now();
    let window = this.#windows.get(key);
    if (!window || now - window.start >= this.windowMs) {
      this.#windows.delete(key);
      if (this.#windows.size >= this.maxKeys) this.#windows.delete(this.#windows.keys().next().value!);
      window = { start: now, count: 0 };
      this.#windows.set(key, window);
    }
    if (window.count >= this.limit) return false;
    window.count++;
    return true;
  }
}

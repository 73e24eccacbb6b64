/**
 * An instance's view of the keyring: every row (the table holds a handful), re-read when
 * older than the refresh interval, so another instance's rotation is seen within seconds.
 * A `kid` the view does not know triggers an immediate re-read (a token signed with a key
 * another instance just promoted), at most once per `missRetryMs` while re-reads keep
 * finding nothing, so a flood of made-up kids costs one small query per interval.
 * Concurrent re-reads share one query.
 *
 * @module
 */
import type { Kysely } from 'kysely';
import { keyInfoOf, type KeyInfo, type SigningKeysTable } from './types.js';

/** The keyring as read at `loadedAt`. */
export interface KeySnapshot {
  readonly loadedAt: number;
  readonly keys: ReadonlyMap<string, KeyInfo>;
  /** Sealed private parts by kid (null once removed); opened only when a key is used. */
  readonly sealed: ReadonlyMap<string, string | null>;
}

/** Timing of a {@link KeyCache}. */
export interface KeyCacheOptions {
  readonly now: () => number;
  /** A view older than this is re-read before use. */
  readonly refreshIntervalMs: number;
  /** After a re-read for an unknown kid found nothing, the next such re-read waits this long. */
  readonly missRetryMs: number;
  /** Called with every new snapshot (the keyring drops material of keys that went away). */
  readonly onLoad?: (snapshot: KeySnapshot) => void;
}

/** @internal The cached view of `signing_keys` one keyring instance works from. */
export class KeyCache {
  #snapshot: KeySnapshot | undefined;
  #loading: Promise<KeySnapshot> | undefined;
  #lastFruitlessMissRead = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: Kysely<any>,
    private readonly options: KeyCacheOptions,
  ) {}

  async #load(): Promise<KeySnapshot> {
    const loadedAt = this.options.now();
    const rows = (await this.db.selectFrom('signing_keys').selectAll().execute()) as SigningKeysTable[];
    const snapshot: KeySnapshot = {
      loadedAt,
      keys: new Map(rows.map((row) => [row.kid, keyInfoOf(row)])),
      sealed: new Map(rows.map((row) => [row.kid, row.private_sealed])),
    };
    this.#snapshot = snapshot;
    this.options.onLoad?.(snapshot);
    return snapshot;
  }

  /** Re-reads the table, joining a read already in flight. */
  refresh(): Promise<KeySnapshot> {
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /** Re-reads the table with a query that starts after this call (after a change this instance committed). */
  async reload(): Promise<KeySnapshot> {
    await this.#loading?.catch(() => {});
    return this.refresh();
  }

  /** The current view, re-read first when it is older than the refresh interval. */
  async snapshot(): Promise<KeySnapshot> {
    const current = this.#snapshot;
    const now = this.options.now();
    if (current && now >= current.loadedAt && now - current.loadedAt < this.options.refreshIntervalMs) return current;
    return this.refresh();
  }

  /** The key `kid`, re-reading once (throttled) when the view does not know it. */
  async find(kid: string): Promise<KeyInfo | undefined> {
    const known = (await this.snapshot()).keys.get(kid);
    if (known) return known;
    const now = this.options.now();
    if (now >= this.#lastFruitlessMissRead && now - this.#lastFruitlessMissRead < this.options.missRetryMs) return undefined;
    const found = (await this.refresh()).keys.get(kid);
    if (!found) this.#lastFruitlessMissRead = now;
    return found;
  }
}

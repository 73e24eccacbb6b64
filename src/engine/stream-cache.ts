/**
 * Folded streams kept between commands. A flow is touched by several commands in a row;
 * re-reading and re-folding its whole stream each time costs more than the command's own
 * work. An entry is only ever used after the store confirms the stream's head (version
 * and chain hash of its last event) is still the one the entry was folded up to, so another
 * process appending to the stream just makes the entry miss. The entry holds what a fresh
 * load would: stored events (hashes and ciphertext only, as in the log) and the snapshot.
 *
 * @module
 */
import type { AnyMachineSnapshot } from 'xstate';
import type { MachineEntry } from '../../machines/registry.js';
import type { StoredEvent } from '../store/types.js';

/** A stream folded up to `version`, whose last event has chain hash `hash`. */
export interface CachedStream {
  readonly version: number;
  readonly hash: string;
  readonly machine: MachineEntry;
  readonly stored: readonly StoredEvent[];
  readonly snapshot: AnyMachineSnapshot;
}

/** A small LRU of folded streams. */
export class StreamCache {
  readonly #entries = new Map<string, CachedStream>();

  constructor(private readonly capacity = 512) {}

  /** The entry of `streamId` (not yet checked against the store), or undefined. */
  get(streamId: string): CachedStream | undefined {
    const entry = this.#entries.get(streamId);
    if (entry) {
      this.#entries.delete(streamId);
      this.#entries.set(streamId, entry);
    }
    return entry;
  }

  set(streamId: string, entry: CachedStream): void {
    this.#entries.delete(streamId);
    if (this.#entries.size >= this.capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(streamId, entry);
  }

  delete(streamId: string): void {
    this.#entries.delete(streamId);
  }
}

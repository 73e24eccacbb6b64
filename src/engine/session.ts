/**
 * One command's view of the streams it touches: it loads and folds them, checks every
 * new event against the stream's machine (refusing what the machine does not accept), and
 * collects the appends, with metadata naming the machine and the states before and after.
 *
 * @module
 */
import type { AnyMachineSnapshot } from 'xstate';
import type { MachineEntry } from '../../machines/registry.js';
import type { JsonValue } from '../events/canonical-json.js';
import { deriveEventId } from '../events/ids.js';
import type { EventStore } from '../store/event-store.js';
import type { AppendResult, NewEvent, StoredEvent, StreamAppend } from '../store/types.js';
import type { PendingKey, Vault } from '../crypto/vault.js';
import type { Transaction } from 'kysely';
import { IllegalTransitionError, StreamNotFoundError } from './errors.js';
import { stateName, type MachineEvent } from './machine-runner.js';
import { currentMachineFor, machineOfStream, runnerFor, toMachineEvent } from './runners.js';
import type { StreamCache } from './stream-cache.js';

/** What a command sees of one stream. */
export interface StreamView<C = any> {
  readonly streamId: string;
  /** Whether the stream has any event (stored or pending). */
  readonly exists: boolean;
  /** The state after every stored and pending event. */
  readonly state: string;
  readonly context: C;
  /** Stored events (pending ones are not included). */
  readonly events: readonly StoredEvent[];
  readonly machine: MachineEntry;
}

interface StreamWork {
  readonly streamId: string;
  readonly machine: MachineEntry;
  readonly storedVersion: number;
  readonly stored: readonly StoredEvent[];
  /** The snapshot after the stored events only. */
  readonly storedSnapshot: AnyMachineSnapshot;
  snapshot: AnyMachineSnapshot;
  readonly pending: NewEvent[];
}

/** Per-command state: loaded streams and pending events. */
export class Session {
  readonly #streams = new Map<string, StreamWork>();
  readonly #pendingKeys: PendingKey[] = [];
  #eventIndex = 0;

  constructor(
    private readonly store: EventStore,
    readonly commandId: string,
    readonly now: number,
    private readonly correlationId: string,
    private readonly cache?: StreamCache,
  ) {}

  /**
   * Loads (once) and folds a stream. A stream that does not exist yet is empty. A stream
   * folded by an earlier command is reused when the store's head still matches it.
   */
  async load<C = any>(streamId: string): Promise<StreamView<C>> {
    let work = this.#streams.get(streamId);
    if (!work) {
      work = (await this.#fromCache(streamId)) ?? (await this.#read(streamId));
      this.#streams.set(streamId, work);
    }
    return this.#view(work);
  }

  async #fromCache(streamId: string): Promise<StreamWork | undefined> {
    const cached = this.cache?.get(streamId);
    if (!cached) return undefined;
    const head = await this.store.streamHead(streamId);
    if (!head || head.version !== cached.version || head.hash !== cached.hash) {
      this.cache!.delete(streamId);
      return undefined;
    }
    const { machine, stored, snapshot } = cached;
    return { streamId, machine, storedVersion: cached.version, stored, storedSnapshot: snapshot, snapshot, pending: [] };
  }

  async #read(streamId: string): Promise<StreamWork> {
    const stored = await this.store.readStream(streamId);
    const machine = stored.length > 0 ? machineOfStream(streamId, stored[0]!) : currentMachineFor(streamId);
    const snapshot = runnerFor(machine).fold(stored.map(toMachineEvent));
    const last = stored[stored.length - 1];
    if (last) this.cache?.set(streamId, { version: last.streamVersion, hash: last.hash, machine, stored: Object.freeze(stored), snapshot });
    return { streamId, machine, storedVersion: last ? last.streamVersion : 0, stored, storedSnapshot: snapshot, snapshot, pending: [] };
  }

  /**
   * Records this command's committed events in the stream cache: each stream is folded on
   * from its stored snapshot over the events exactly as the store returned them, which is
   * what the next load would compute.
   */
  committed(result: AppendResult): void {
    if (!this.cache) return;
    for (const { streamId, events } of result.streams) {
      const work = this.#streams.get(streamId);
      const last = events[events.length - 1];
      if (result.alreadyAppended || !work || !last || work.storedVersion + events.length !== last.streamVersion) {
        this.cache.delete(streamId);
        continue;
      }
      try {
        const snapshot = runnerFor(work.machine).fold(events.map(toMachineEvent), work.storedSnapshot);
        const stored = Object.freeze([...work.stored, ...events]);
        this.cache.set(streamId, { version: last.streamVersion, hash: last.hash, machine: work.machine, stored, snapshot });
      } catch {
        // The append committed; a cache that cannot follow just forgets the stream.
        this.cache.delete(streamId);
      }
    }
  }

  /** Loads a stream that must exist. */
  async loadExisting<C = any>(streamId: string): Promise<StreamView<C>> {
    const view = await this.load<C>(streamId);
    if (!view.exists) throw new StreamNotFoundError(streamId);
    return view;
  }

  #view(work: StreamWork): StreamView {
    return {
      streamId: work.streamId,
      exists: work.stored.length > 0 || work.pending.length > 0,
      state: stateName(work.snapshot.value),
      context: work.snapshot.context,
      events: work.stored,
      machine: work.machine,
    };
  }

  #work(streamId: string): StreamWork {
    const work = this.#streams.get(streamId);
    if (!work) throw new Error(`session: load ${streamId} before emitting to it`);
    return work;
  }

  #machineEvent(type: string, data: Record<string, JsonValue>): MachineEvent {
    return { ...data, type, at: this.now };
  }

  /** Whether the stream's machine would accept this event now. */
  accepts(streamId: string, type: string, data: Record<string, JsonValue>): boolean {
    const work = this.#work(streamId);
    return work.snapshot.can(this.#machineEvent(type, data) as never);
  }

  /**
   * Adds an event to a stream after checking it with the stream's machine; throws
   * {@link IllegalTransitionError} (naming state and event) when the machine refuses it.
   */
  emit(streamId: string, type: string, data: Record<string, JsonValue>): StreamView {
    const work = this.#work(streamId);
    const from = stateName(work.snapshot.value);
    const next = runnerFor(work.machine).step(work.snapshot, this.#machineEvent(type, data));
    if (!next) throw new IllegalTransitionError(streamId, from, type);
    work.snapshot = next;
    work.pending.push({
      eventId: deriveEventId(this.commandId, this.#eventIndex++),
      type,
      data,
      occurredAt: this.now,
      metadata: {
        commandId: this.commandId,
        correlationId: this.correlationId,
        machine: { id: work.machine.id, version: work.machine.version, from, to: stateName(next.value) },
      },
    });
    return this.#view(work);
  }

  /**
   * Makes sure data key `keyId` exists; a new one is written in this command's append
   * transaction (so a key never exists without the events that use it, and the other way
   * round).
   */
  async useKey(vault: Vault, keyId: string): Promise<void> {
    if (this.#pendingKeys.some((k) => k.keyId === keyId)) return;
    const pending = await vault.prepareKey(keyId);
    if (pending) this.#pendingKeys.push(pending);
  }

  /** The writes that must commit with the append (new data keys). */
  get alongside(): ReadonlyArray<(trx: Transaction<any>) => Promise<void>> {
    return this.#pendingKeys.map((k) => (trx: Transaction<any>) => k.write(trx));
  }

  /** Forgets what this session prepared, when its append did not commit. */
  discard(): void {
    for (const key of this.#pendingKeys) key.discard();
  }

  /**
   * Whether any stream this session read has moved on since (another command committed
   * to it). Reads of several streams are not one snapshot, so a refusal decided on stale
   * state is a conflict to retry, not a verdict.
   */
  async isStale(): Promise<boolean> {
    for (const work of this.#streams.values()) {
      if ((await this.store.streamVersion(work.streamId)) !== work.storedVersion) return true;
    }
    return false;
  }

  /** The appends this command makes, one per stream that got events. */
  get appends(): StreamAppend[] {
    return [...this.#streams.values()]
      .filter((w) => w.pending.length > 0)
      .map((w) => ({ streamId: w.streamId, expectedVersion: w.storedVersion, events: w.pending }));
  }
}

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
import type { NewEvent, StoredEvent, StreamAppend } from '../store/types.js';
import type { PendingKey, Vault } from '../crypto/vault.js';
import type { Transaction } from 'kysely';
import { IllegalTransitionError, StreamNotFoundError } from './errors.js';
import { stateName, type MachineEvent } from './machine-runner.js';
import { currentMachineFor, machineOfStream, runnerFor, toMachineEvent } from './runners.js';

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
  ) {}

  /** Loads (once) and folds a stream. A stream that does not exist yet is empty. */
  async load<C = any>(streamId: string): Promise<StreamView<C>> {
    let work = this.#streams.get(streamId);
    if (!work) {
      const stored = await this.store.readStream(streamId);
      const machine = stored.length > 0 ? machineOfStream(streamId, stored[0]!) : currentMachineFor(streamId);
      const snapshot = runnerFor(machine).fold(stored.map(toMachineEvent));
      work = { streamId, machine, storedVersion: stored.length > 0 ? stored[stored.length - 1]!.streamVersion : 0, stored, snapshot, pending: [] };
      this.#streams.set(streamId, work);
    }
    return this.#view(work);
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

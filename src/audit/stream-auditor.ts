/**
 * The per-stream checks, fed one row at a time in (stream, version) order with state for a
 * single stream, so memory does not grow with the log (or with a stream):
 *
 * 1. **Chain** (docs/store.md, "Hash chain"): versions follow each other, `payload_hash`
 *    covers `data`, `prev_hash` is the previous event's hash (the genesis hash, or a
 *    retention checkpoint's `through_hash`), `hash` covers the envelope; and versions go up
 *    with global positions (a stream's rows moved in global order).
 * 2. **Machine**: the stream is re-folded through the machine version recorded in its
 *    first event (`machineOfStream`, `runnerFor`: the reused-scope runner), each event
 *    checked for legality in its state and for drift from the states the engine recorded.
 * 3. **Invariants**: the per-stream security rules of src/audit/invariants.ts.
 * 4. **Heads**: each stream's head as of some positions (for signed anchors), folded into
 *    an order-independent {@link LtHash16}, listed when few, compared when an anchor lists
 *    them.
 *
 * The chain check avoids re-canonicalising every envelope: the stored metadata is
 * canonical JSON, so the envelope is built by concatenation; only when that hash does not
 * match is the metadata parsed and canonicalised the slow way, to tell a non-canonical
 * metadata text (`chain.metadata_not_canonical`) from a real mismatch (`chain.hash`).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { AnyMachineSnapshot } from 'xstate';
import type { MachineEntry } from '../../machines/registry.js';
import { stateName, type MachineRunner } from '../engine/machine-runner.js';
import { categoryOf, machineOfStream, runnerFor } from '../engine/runners.js';
import { canonicalEnvelope, chainHash, genesisHash } from '../store/hash-chain.js';
import type { StoredEvent } from '../store/types.js';
import { invariantsFor, type StreamInvariants } from './invariants.js';
import { LtHash16 } from './lthash.js';
import { R, type Checkpoint, type RawRow } from './rows.js';
import type { AuditChecks, Finding, FindingKind } from './types.js';

/** Label of the heads hash an anchor signs. */
export const HEADS_LABEL = 'flowgate/anchor-heads/v1';

/** One stream's head. */
export interface Head {
  readonly version: number;
  readonly hash: string;
}

/** Heads to compute as of one global position. */
export interface HeadTarget {
  /** Who asked, for findings (`anchor at position 1234`). */
  readonly label: string;
  readonly position: number;
  /** Heads an anchor lists: each stream's head is compared with them. */
  readonly expected?: Readonly<Record<string, Head>>;
  /** List the heads as long as there are at most this many (to put them in a new anchor). */
  readonly collectUpTo?: number;
}

/** What the stream pass found for one {@link HeadTarget}. */
export interface HeadResult {
  /** Streams with an event at or before the position. */
  readonly count: number;
  /** LtHash16 lanes of `[stream_id, version, hash]` per stream. */
  readonly lanes: Uint16Array;
  /** The heads, sorted by stream id, when there were at most `collectUpTo`. */
  readonly collected: Array<[string, number, string]> | null;
  /** The streams of `expected` that were seen. */
  readonly seen: string[];
}

/** Counts of the stream pass. */
export interface StreamStats {
  events: number;
  streams: number;
  /** Streams re-folded from their first event. */
  refolded: number;
  /** Streams not re-folded: pruned (retention checkpoint) or unknown machine. */
  notRefolded: number;
}

/** The checks of the stream pass. */
export type StreamChecks = Required<Pick<AuditChecks, 'chain' | 'machine' | 'invariants'>>;

/** The heads of one {@link HeadTarget} being added up. */
export interface TargetState {
  readonly target: HeadTarget;
  readonly hash: LtHash16;
  collected: Array<[string, number, string]> | null;
  readonly seen: string[];
  head: Head | null;
}

/** Empty head sums for some targets. */
export function headStates(targets: readonly HeadTarget[]): TargetState[] {
  return targets.map((target) => ({
    target,
    hash: new LtHash16(),
    collected: target.collectUpTo !== undefined ? [] : null,
    seen: [],
    head: null,
  }));
}

/** The results of head sums. */
export function headResults(states: readonly TargetState[]): HeadResult[] {
  return states.map((t) => ({ count: t.hash.count, lanes: t.hash.lanes, collected: t.collected, seen: t.seen }));
}

/**
 * Adds a stream's head (as of the target's position) to a target: to the LtHash, to the
 * list, and compared with the anchor's list of heads when it has one.
 */
export function addHead(t: TargetState, streamId: string, head: Head, emit: (finding: Finding) => void): void {
  t.hash.add(JSON.stringify([streamId, head.version, head.hash]));
  if (t.collected) {
    if (t.collected.length < (t.target.collectUpTo ?? 0)) t.collected.push([streamId, head.version, head.hash]);
    else t.collected = null;
  }
  const expected = t.target.expected;
  if (!expected) return;
  const want = Object.hasOwn(expected, streamId) ? expected[streamId] : undefined;
  if (!want) {
    emit({
      kind: 'anchor.heads',
      streamId,
      position: t.target.position,
      reason: `${t.target.label}: the stream has events up to that position (version ${head.version}) but the anchor does not list it`,
    });
    return;
  }
  t.seen.push(streamId);
  if (want.version !== head.version || want.hash !== head.hash) {
    emit({
      kind: 'anchor.heads',
      streamId,
      position: t.target.position,
      version: head.version,
      reason: `${t.target.label}: anchored head is version ${want.version} (${want.hash.slice(0, 12)}…), the log has version ${head.version} (${head.hash.slice(0, 12)}…)`,
    });
  }
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The envelope's canonical JSON, given metadata that is already canonical JSON text (keys
 * in RFC 8785 order: event_id, metadata, occurred_at, schema_version, stream_id,
 * stream_version, type; strings as `JSON.stringify` writes them, integers as-is).
 */
export function envelopeOfCanonical(row: RawRow): string {
  return `{"event_id":${JSON.stringify(row[R.eventId])},"metadata":${row[R.metadata]},"occurred_at":${row[R.occurredAt]},"schema_version":${row[R.schemaVersion]},"stream_id":${JSON.stringify(row[R.streamId])},"stream_version":${row[R.version]},"type":${JSON.stringify(row[R.type])}}`;
}

/** Checks rows in stream order; see the module comment. */
export class StreamAuditor {
  readonly stats: StreamStats = { events: 0, streams: 0, refolded: 0, notRefolded: 0 };
  readonly #checks: StreamChecks;
  readonly #emit: (finding: Finding) => void;
  readonly #targets: TargetState[];

  // The current stream.
  #streamId: string | undefined;
  #expectedVersion = 1;
  #prevHash = '';
  #lastPosition = 0;
  #lastVersion = 0;
  #entry: MachineEntry | null = null;
  #runner: MachineRunner | null = null;
  #snapshot: AnyMachineSnapshot | null = null;
  #state = '';
  #invariants: StreamInvariants | null = null;

  constructor(options: { checks: StreamChecks; targets?: readonly HeadTarget[]; emit: (finding: Finding) => void }) {
    this.#checks = options.checks;
    this.#emit = options.emit;
    this.#targets = headStates(options.targets ?? []);
  }

  #finding(kind: FindingKind, row: RawRow, reason: string): void {
    this.#emit({ kind, streamId: row[R.streamId], position: row[R.position], version: row[R.version], reason });
  }

  /** The stream currently open (the last one seen). */
  get currentStream(): string | undefined {
    return this.#streamId;
  }

  /**
   * Checks one row. `checkpoint` is the stream's retention checkpoint, needed only for the
   * first row of a stream that does not start at version 1.
   */
  row(row: RawRow, checkpoint?: Checkpoint): void {
    const streamId = row[R.streamId];
    if (streamId !== this.#streamId) this.#openStream(row, checkpoint);
    this.stats.events++;
    const position = row[R.position];
    const version = row[R.version];

    let metadata: Record<string, any> | undefined;
    if (this.#checks.chain) {
      if (version !== this.#expectedVersion) {
        this.#finding('chain.version_gap', row, `expected version ${this.#expectedVersion}, found ${version}: an event was removed`);
      }
      if (this.#lastVersion > 0 && position < this.#lastPosition) {
        // A stream's events are appended in version order (later in the same command's
        // insert, or in a later, serialised append), so a later version always has a
        // later global position: an earlier one means rows were moved.
        this.#finding(
          'order.position',
          row,
          `version ${version} is at global position ${position}, before version ${this.#lastVersion} at ${this.#lastPosition}`,
        );
      }
      if (sha256Hex(row[R.data]) !== row[R.payloadHash]) {
        this.#finding('chain.payload_hash', row, 'data does not match its payload_hash (the payload was changed)');
      }
      if (row[R.prevHash] !== this.#prevHash) {
        this.#finding('chain.prev_hash', row, "prev_hash is not the previous event's hash");
      }
      if (chainHash(row[R.prevHash], envelopeOfCanonical(row), row[R.payloadHash]) !== row[R.hash]) {
        metadata = this.#slowHashCheck(row);
      }
    }
    this.#prevHash = row[R.hash];
    this.#expectedVersion = version + 1;
    this.#lastPosition = position;
    this.#lastVersion = version;
    for (const t of this.#targets) if (position <= t.target.position) t.head = { version, hash: row[R.hash] };

    if (!this.#runner && !this.#invariants) return;
    if (metadata === undefined) {
      try {
        metadata = JSON.parse(row[R.metadata]) as Record<string, any>;
      } catch {
        if (!this.#checks.chain) this.#finding('chain.metadata_not_json', row, 'metadata is not valid JSON');
        return;
      }
    }
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(row[R.data]) as Record<string, unknown>;
    } catch {
      this.#finding('event.data_not_json', row, 'data is not valid JSON: the event cannot be replayed');
      return;
    }
    if (this.#runner) this.#step(row, data, metadata);
    this.#invariants?.event(row[R.type], data, { streamId, position, version, at: row[R.occurredAt] });
  }

  /** The hash did not match with the stored metadata text: find out why. */
  #slowHashCheck(row: RawRow): Record<string, any> | undefined {
    let metadata: Record<string, any>;
    try {
      metadata = JSON.parse(row[R.metadata]) as Record<string, any>;
    } catch {
      this.#finding('chain.metadata_not_json', row, 'metadata is not valid JSON');
      return undefined;
    }
    const envelope = canonicalEnvelope({
      eventId: row[R.eventId],
      streamId: row[R.streamId],
      streamVersion: row[R.version],
      type: row[R.type],
      schemaVersion: row[R.schemaVersion],
      occurredAt: row[R.occurredAt],
      metadata,
    });
    if (chainHash(row[R.prevHash], envelope, row[R.payloadHash]) === row[R.hash]) {
      this.#finding('chain.metadata_not_canonical', row, 'metadata is not stored as the canonical JSON its hash covers (the text was rewritten)');
    } else {
      this.#finding('chain.hash', row, 'the envelope (id, stream, version, type, time or metadata) does not match the stored hash');
    }
    return metadata;
  }

  #step(row: RawRow, data: Record<string, unknown>, metadata: Record<string, any>): void {
    const entry = this.#entry!;
    const recorded = metadata.machine as { id?: unknown; version?: unknown; from?: unknown; to?: unknown } | undefined;
    if (recorded?.id !== entry.id || recorded?.version !== entry.version) {
      this.#finding(
        'machine.mixed',
        row,
        `written with machine ${String(recorded?.id)}@${String(recorded?.version)}, but the stream started with ${entry.id}@${entry.version}`,
      );
    }
    const before = this.#state;
    // The event as the machines take it (src/engine/runners.ts `toMachineEvent`).
    const event = { ...data, type: row[R.type], at: row[R.occurredAt] };
    const next = this.#runner!.step(this.#snapshot!, event);
    if (!next) {
      // The stream's state after a refused event is unknown: one finding, not one per later event.
      this.#finding(
        'machine.illegal',
        row,
        `${row[R.type]} is not accepted in state ${before} (${entry.id}@${entry.version}); the rest of the stream is not re-folded`,
      );
      this.#runner = null;
      return;
    }
    const after = stateName(next.value);
    if (recorded?.from !== before || recorded?.to !== after) {
      this.#finding(
        'machine.drift',
        row,
        `recorded ${String(recorded?.from)} → ${String(recorded?.to)}, replay gives ${before} → ${after}`,
      );
    }
    this.#snapshot = next;
    this.#state = after;
  }

  #openStream(row: RawRow, checkpoint: Checkpoint | undefined): void {
    this.#closeStream();
    const streamId = row[R.streamId];
    this.#streamId = streamId;
    this.stats.streams++;
    this.#lastPosition = 0;
    this.#lastVersion = 0;
    this.#entry = null;
    this.#runner = null;
    this.#snapshot = null;
    this.#invariants = null;
    const version = row[R.version];
    let fromGenesis = true;
    if (version === 1) {
      this.#expectedVersion = 1;
      this.#prevHash = genesisHash(streamId);
    } else if (checkpoint && checkpoint.version + 1 === version) {
      this.#expectedVersion = version;
      this.#prevHash = checkpoint.hash;
      fromGenesis = false;
    } else {
      if (this.#checks.chain) {
        const why = checkpoint
          ? `the stream starts at version ${version}, but its retention checkpoint ends at ${checkpoint.version}`
          : `the stream starts at version ${version}: versions 1–${version - 1} were removed without a retention checkpoint`;
        this.#finding('chain.version_gap', row, why);
      }
      // Verify the rest from what is there, so one removal is one finding.
      this.#expectedVersion = version;
      this.#prevHash = row[R.prevHash];
      fromGenesis = false;
    }
    if (!fromGenesis) {
      // A stream that does not start at its first event cannot be re-folded.
      this.stats.notRefolded++;
      return;
    }
    if (this.#checks.machine) {
      let metadata: Record<string, any>;
      try {
        metadata = JSON.parse(row[R.metadata]) as Record<string, any>;
      } catch {
        metadata = {};
      }
      try {
        const entry = machineOfStream(streamId, { metadata } as unknown as StoredEvent);
        if (entry.category !== categoryOf(streamId)) {
          this.#finding('machine.unknown', row, `a ${categoryOf(streamId)} stream written with machine ${entry.id}@${entry.version}`);
          this.stats.notRefolded++;
        } else {
          this.#entry = entry;
          this.#runner = runnerFor(entry);
          this.#snapshot = this.#runner.initial;
          this.#state = stateName(this.#snapshot.value);
          this.stats.refolded++;
        }
      } catch (error) {
        this.#finding('machine.unknown', row, `${(error as Error).message}; the stream cannot be re-folded`);
        this.stats.notRefolded++;
      }
    }
    if (this.#checks.invariants) this.#invariants = invariantsFor(categoryOf(streamId), this.#emit);
  }

  #closeStream(): void {
    const streamId = this.#streamId;
    if (streamId === undefined) return;
    for (const t of this.#targets) {
      const head = t.head;
      t.head = null;
      if (head) addHead(t, streamId, head, this.#emit);
    }
  }

  /** Closes the last stream and returns the heads per target. */
  finish(): HeadResult[] {
    this.#closeStream();
    this.#streamId = undefined;
    return headResults(this.#targets);
  }
}

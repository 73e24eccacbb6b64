/**
 * The last N commands the global pass closed, for `order.command_split`: "has this command
 * id been seen before, apart from here?".
 *
 * A `Map<string, number>` of the last 4,096 ids is the obvious structure, and the wrong
 * one over millions of events: every id lives long enough to be promoted to V8's old
 * space and dies there, so the old space fills with dead ids between full collections (on
 * a million events it was 70 MB of the audit's peak RSS). Here nothing is allocated per
 * command: fixed typed arrays hold a 64-bit hash of each id and the command's last
 * position, in a ring with a chained hash index. A hash match is only a candidate: the
 * caller confirms it against the row at that position, so a collision can never become a
 * finding.
 *
 * @module
 */

const NONE: readonly number[] = Object.freeze([]);

/** A fixed-size memory of closed commands (see the module comment). */
export class RecentCommands {
  readonly #capacity: number;
  readonly #mask: number;
  /** Per bucket: the newest slot + 1 in its chain, 0 when empty. */
  readonly #head: Int32Array;
  /** Per slot: the next slot + 1 in its bucket's chain, 0 at the end. */
  readonly #next: Int32Array;
  readonly #h1: Int32Array;
  readonly #h2: Int32Array;
  readonly #position: Float64Array;
  #size = 0;
  /** The slot written next (the oldest once the ring is full). */
  #cursor = 0;
  // The hash of the last id hashed, as two 32-bit halves (no tuple allocated per call).
  #a = 0;
  #b = 0;

  constructor(capacity = 4096) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
    let buckets = 1;
    while (buckets < capacity * 2) buckets *= 2;
    this.#mask = buckets - 1;
    this.#head = new Int32Array(buckets);
    this.#next = new Int32Array(capacity);
    this.#h1 = new Int32Array(capacity);
    this.#h2 = new Int32Array(capacity);
    this.#position = new Float64Array(capacity);
  }

  /** Two independent FNV-1a lanes over the UTF-16 code units, each finished with an avalanche. */
  #hash(id: string): void {
    let a = 0x811c9dc5;
    let b = 0x01000193 ^ id.length;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    a ^= a >>> 15;
    a = Math.imul(a, 0x2c1b3c6d);
    a ^= a >>> 12;
    b ^= b >>> 13;
    b = Math.imul(b, 0x297a2d39);
    b ^= b >>> 15;
    this.#a = a | 0;
    this.#b = b | 0;
  }

  /** How many commands are remembered. */
  get size(): number {
    return this.#size;
  }

  /** Remembers a closed command and the position of its last event (forgetting the oldest when full). */
  add(commandId: string, position: number): void {
    const slot = this.#cursor;
    if (this.#size === this.#capacity) this.#unlink(slot);
    else this.#size++;
    this.#hash(commandId);
    this.#h1[slot] = this.#a;
    this.#h2[slot] = this.#b;
    this.#position[slot] = position;
    const bucket = this.#a & this.#mask;
    this.#next[slot] = this.#head[bucket]!;
    this.#head[bucket] = slot + 1;
    this.#cursor = (slot + 1) % this.#capacity;
  }

  /**
   * The positions remembered for commands whose id hashes like `commandId`, newest first:
   * candidates to confirm, almost always none.
   */
  candidates(commandId: string): readonly number[] {
    this.#hash(commandId);
    let found: number[] | undefined;
    for (let s = this.#head[this.#a & this.#mask]!; s !== 0; s = this.#next[s - 1]!) {
      const slot = s - 1;
      if (this.#h1[slot] === this.#a && this.#h2[slot] === this.#b) (found ??= []).push(this.#position[slot]!);
    }
    return found ?? NONE;
  }

  #unlink(slot: number): void {
    const bucket = this.#h1[slot]! & this.#mask;
    let s = this.#head[bucket]!;
    if (s === slot + 1) {
      this.#head[bucket] = this.#next[slot]!;
      return;
    }
    while (s !== 0) {
      const after = this.#next[s - 1]!;
      if (after === slot + 1) {
        this.#next[s - 1] = this.#next[slot]!;
        return;
      }
      s = after;
    }
  }
}

/**
 * LtHash16 (Lewi, Kim, Maykov, Weis: "Securing Update Propagation with Homomorphic
 * Hashing", 2019): a hash of a *set* that does not depend on the order its elements are
 * added in. Each element is expanded with an extendable-output function (SHAKE128, 2048
 * bytes) into 1024 lanes of 16 bits, and the set's hash is the lane-wise sum modulo 2^16;
 * with these parameters finding two different sets with the same hash is believed to be as
 * hard as a lattice problem at well over 128-bit security.
 *
 * The audit uses it for the chain heads of every stream: heads are computed by several
 * worker threads over ranges of streams, and on PostgreSQL in the database's collation
 * order, so there is no single cheap sorted order to hash; partial sums simply add up.
 *
 * @module
 */
import { createHash } from 'node:crypto';

const LANES = 1024;

/** An order-independent hash of a set of strings. */
export class LtHash16 {
  readonly lanes: Uint16Array;
  count: number;

  constructor(lanes?: Uint16Array, count = 0) {
    this.lanes = lanes ? new Uint16Array(lanes) : new Uint16Array(LANES);
    this.count = count;
  }

  /** Adds one element. */
  add(element: string): void {
    const bytes = createHash('shake128', { outputLength: LANES * 2 }).update(element).digest();
    const lanes = this.lanes;
    for (let i = 0, j = 0; i < LANES; i++, j += 2) lanes[i] = lanes[i]! + (bytes[j]! | (bytes[j + 1]! << 8));
    this.count++;
  }

  /** Adds every element of another hash (the union of two disjoint sets). */
  merge(other: LtHash16): void {
    for (let i = 0; i < LANES; i++) this.lanes[i] = this.lanes[i]! + other.lanes[i]!;
    this.count += other.count;
  }

  /** The lanes as little-endian bytes. */
  bytes(): Buffer {
    const out = Buffer.alloc(LANES * 2);
    for (let i = 0; i < LANES; i++) out.writeUInt16LE(this.lanes[i]!, i * 2);
    return out;
  }

  /** SHA-256 over a label, the element count and the lanes: the value an anchor signs. */
  digest(label: string): string {
    const count = Buffer.alloc(8);
    count.writeBigUInt64BE(BigInt(this.count));
    return createHash('sha256').update(label).update(count).update(this.bytes()).digest('hex');
  }
}

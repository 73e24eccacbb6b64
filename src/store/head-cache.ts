/**
 * Stream heads remembered between appends. An append must know the version and chain hash
 * of the stream's last event, and the engine checks the same head before it reuses a
 * folded stream: two indexed reads per command that, in the usual case, return what this
 * process wrote a moment ago. A head is remembered together with the database's change
 * mark at the time it was read or written, and is used only while the mark is unchanged,
 * that is while nothing has been written to the database by anyone since (docs/store.md,
 * "Head cache").
 *
 * @module
 */

/** A stream's head: the version and chain hash of its last event. */
export interface StreamHead {
  readonly version: number;
  readonly hash: string;
}

/** A small LRU of stream heads, each valid only under the change mark it was recorded with. */
export class HeadCache {
  readonly #entries = new Map<string, { readonly head: StreamHead; readonly mark: string }>();

  constructor(private readonly capacity = 4096) {}

  /** The head of `streamId` if it was recorded under `mark`, else undefined. */
  get(streamId: string, mark: string): StreamHead | undefined {
    const entry = this.#entries.get(streamId);
    if (!entry) return undefined;
    if (entry.mark !== mark) {
      this.#entries.delete(streamId);
      return undefined;
    }
    return entry.head;
  }

  /** Records `head` as current under `mark`. */
  set(streamId: string, head: StreamHead, mark: string): void {
    this.#entries.delete(streamId);
    if (this.#entries.size >= this.capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(streamId, { head, mark });
  }
}

interface Sequenced {
  readonly sequenceNumber: number;
}

const COMPACT_AFTER = 4096;

/**
 * Messages waiting for a receiver, in sequence order. New messages append and receivers take from the
 * front in O(1); an abandoned or newly due scheduled message goes back to its place by sequence number,
 * as on the service. Entries that `isLive` rejects (removed meanwhile) are skipped, not searched for.
 */
export class ActiveMessages<T extends Sequenced> {
  private entries: (T | undefined)[] = [];
  private head = 0;

  constructor(private readonly isLive: (entry: T) => boolean) {}

  insert(entry: T): void {
    const last = this.entries[this.entries.length - 1];
    if (this.head === this.entries.length || !last || last.sequenceNumber < entry.sequenceNumber) {
      this.entries.push(entry);
      return;
    }
    let low = this.head;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const candidate = this.entries[middle];
      if (candidate && candidate.sequenceNumber < entry.sequenceNumber) low = middle + 1;
      else high = middle;
    }
    this.entries.splice(low, 0, entry);
  }

  /** Removes and returns the first live entry. */
  shift(): T | undefined {
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head];
      this.entries[this.head++] = undefined;
      if (entry && this.isLive(entry)) {
        this.compact();
        return entry;
      }
    }
    this.entries = [];
    this.head = 0;
    return undefined;
  }

  /** The live entries, front first; removing entries while iterating is safe. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i];
      if (entry && this.isLive(entry)) yield entry;
    }
  }

  private compact(): void {
    if (this.head > COMPACT_AFTER && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}

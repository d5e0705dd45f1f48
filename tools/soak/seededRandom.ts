import { createHash } from 'node:crypto';

/**
 * A small deterministic PRNG (mulberry32): the same seed gives the same workload and fault plan, so a failing soak
 * run can be repeated. Not for anything that needs unpredictability.
 */
export class SeededRandom {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A new seed for a run that was not given one. */
  static newSeed(): number {
    return Math.floor(Math.random() * 2 ** 31);
  }

  /** An independent stream named `label`: drawing more from one stream never shifts another. */
  fork(label: string): SeededRandom {
    const digest = createHash('sha256').update(`${this.seed}:${label}`).digest();
    return new SeededRandom(digest.readUInt32LE(0));
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** One of the keys, with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let point = this.next() * total;
    for (const [key, weight] of entries) {
      point -= weight;
      if (point < 0) return key;
    }
    return (entries[entries.length - 1] as [K, number])[0];
  }
}

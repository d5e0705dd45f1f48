import type { Clock } from '../../src/jobs/ports/clock';

interface Sleeper {
  readonly at: number;
  readonly resolve: () => void;
}

/** A clock that moves only when a test moves it: code waiting on it wakes in `advance`, never by real time. */
export class ManualClock implements Clock {
  private time: number;
  private sleepers: Sleeper[] = [];

  constructor(start = new Date('2026-01-01T00:00:00Z')) {
    this.time = start.getTime();
  }

  now(): Date {
    return new Date(this.time);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        this.sleepers = this.sleepers.filter((other) => other !== sleeper);
        reject(signal!.reason);
      };
      // A wait that ends lets go of the signal, as Node's timers do: one signal may outlive many waits.
      const sleeper = {
        at: this.time + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** How many waits are under way. */
  get waiting(): number {
    return this.sleepers.length;
  }

  /** Moves time on by `ms`, waking every wait that falls due, in order, letting each one's work run before the next. */
  async advance(ms: number): Promise<void> {
    const until = this.time + ms;
    for (;;) {
      await settle();
      const next = this.sleepers.filter((sleeper) => sleeper.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.sleepers = this.sleepers.filter((sleeper) => sleeper !== next);
      this.time = Math.max(this.time, next.at);
      next.resolve();
    }
    this.time = until;
    await settle();
  }
}

/** Lets promise chains already under way run to their next real wait. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A clock whose waits end at once, moving its time on by what they waited: code that waits out an outage runs through
 * its whole schedule of retries without a real pause.
 */
export function fastForwardClock(start = new Date()): Clock {
  let time = start.getTime();
  return {
    now: () => new Date(time),
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      time += ms;
    },
  };
}

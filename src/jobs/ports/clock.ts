import { setTimeout as sleep } from 'node:timers/promises';

/** Time as the core sees it: what time it is, and waiting. Injected, so tests move time instead of sleeping. */
export interface Clock {
  now(): Date;
  /** Resolves after `ms`; rejects when `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};

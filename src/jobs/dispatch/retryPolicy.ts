import type { RetrySettings } from '../jobTypes/jobTypePolicy';

/**
 * Delay before attempt `failedAttempt + 1`: exponential from `baseDelayMs` (×2 per attempt), capped at
 * `maxDelayMs`, then spread by ±`jitter` so jobs that failed together do not all come back together.
 * `random` is injectable so the math is testable.
 */
export function retryDelayMs(
  failedAttempt: number,
  settings: RetrySettings,
  random: () => number = Math.random,
): number {
  const exponential = settings.baseDelayMs * 2 ** Math.max(0, failedAttempt - 1);
  const capped = Math.min(settings.maxDelayMs, exponential);
  const spread = 1 + settings.jitter * (2 * random() - 1);
  return Math.round(Math.min(settings.maxDelayMs, capped * spread));
}

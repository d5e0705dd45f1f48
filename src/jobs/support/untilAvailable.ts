import { isInfrastructureError } from '../errors';
import type { Clock } from '../ports/clock';
import { systemClock } from '../ports/clock';

export interface OutageTolerance {
  /** How long to keep trying, from the first failure. */
  readonly toleranceMs: number;
  /** Stops the waiting early (shutdown): the last error is thrown. */
  readonly signal?: AbortSignal;
  /** Told of each failure that will be tried again. */
  readonly onRetry?: (error: unknown, retryInMs: number) => void;
  /** What the pauses are measured and waited on (the system's by default). */
  readonly clock?: Clock;
}

const firstRetryMs = 250;
const maxRetryMs = 5_000;

/**
 * Runs `operation`, and while it fails with an `InfrastructureError` (store or queue unreachable) tries it again
 * with a growing pause, for up to `toleranceMs`. Any other error, or the last one, is thrown. The operation must be
 * safe to repeat: conditional writes are (a write whose answer was lost is recognised as ours by the store).
 */
export function untilAvailable<T>(operation: () => Promise<T>, tolerance: OutageTolerance): Promise<T> {
  // The first call costs one promise, nothing more: this wraps every store call of every job.
  return operation().catch((error: unknown) => retry(operation, tolerance, error));
}

async function retry<T>(operation: () => Promise<T>, tolerance: OutageTolerance, first: unknown): Promise<T> {
  const clock = tolerance.clock ?? systemClock;
  const giveUpAt = clock.now().getTime() + tolerance.toleranceMs;
  let error = first;
  for (let pauseMs = firstRetryMs; ; pauseMs = Math.min(pauseMs * 2, maxRetryMs)) {
    const remaining = giveUpAt - clock.now().getTime();
    if (!isInfrastructureError(error) || remaining <= 0 || tolerance.signal?.aborted) throw error;
    const wait = Math.min(pauseMs, remaining);
    tolerance.onRetry?.(error, wait);
    try {
      await clock.sleep(wait, tolerance.signal);
    } catch {
      throw error;
    }
    try {
      return await operation();
    } catch (next) {
      error = next;
    }
  }
}

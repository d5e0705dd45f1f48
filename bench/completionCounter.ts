import type { Logger } from '../src/jobs/support/logger';

/**
 * A logger that counts "Job completed" lines and drops the rest: the benchmark learns when every job is done
 * without polling records, and measures the job path without the cost of writing logs.
 */
export function completionCounter(): {
  logger: Logger;
  completed: () => number;
  whenCompleted: (count: number) => Promise<void>;
} {
  let completed = 0;
  let waiting: { count: number; resolve: () => void } | undefined;
  const ignore = (): void => undefined;
  const logger: Logger = {
    debug: ignore,
    warn: ignore,
    error: ignore,
    info: (message) => {
      if (message !== 'Job completed') return;
      completed += 1;
      if (waiting && completed >= waiting.count) waiting.resolve();
    },
    child: () => logger,
  };
  return {
    logger,
    completed: () => completed,
    whenCompleted: (count) =>
      completed >= count ? Promise.resolve() : new Promise((resolve) => (waiting = { count, resolve })),
  };
}

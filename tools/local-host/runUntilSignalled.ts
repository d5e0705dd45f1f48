import { isJobsError } from '../../src/jobs/errors';
import type { Logger } from '../../src/jobs/support/logger';

/** Runs `start`, then on SIGINT/SIGTERM calls the `stop` it returned once and exits 0 (1 if stopping failed). */
export function runUntilSignalled(start: () => Promise<{ stop: () => Promise<void>; logger: Logger }>): void {
  start().then(
    ({ stop, logger }) => {
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (stopping) return;
        stopping = true;
        logger.info('Stopping', { signal });
        stop().then(
          () => process.exit(0),
          (error: unknown) => {
            console.error(error);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    },
    (error: unknown) => {
      // A configuration error already says which setting to fix; a stack trace would only bury it.
      console.error(isJobsError(error) ? error.message : error);
      process.exit(1);
    },
  );
}

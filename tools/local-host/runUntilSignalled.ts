import { isJobsError } from '../../src/jobs/errors';
import type { Logger } from '../../src/jobs/support/logger';
import type { ShutdownReport } from '../../src/runtime';

/**
 * Runs `start`, then on SIGINT/SIGTERM calls the `stop` it returned once and exits 0 (1 if stopping failed), with
 * a last line that says it stopped and what became of the jobs that were running.
 */
export function runUntilSignalled(
  start: () => Promise<{ stop: () => Promise<ShutdownReport>; logger: Logger }>,
): void {
  start().then(
    ({ stop, logger }) => {
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals): void => {
        if (stopping) return;
        stopping = true;
        logger.info('Stopping: no new requests or jobs are taken', { signal });
        stop().then(
          (report) => {
            logger.info(stoppedLine(report), { ...report });
            process.exit(0);
          },
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

/** The last line a local mode prints. */
export function stoppedLine({ running, interrupted, interruptedJobsGo }: ShutdownReport): string {
  if (running === 0) return 'Stopped; no job was running';
  const finished = running - interrupted;
  const ran = `${finished} of ${running} running job${running === 1 ? '' : 's'} finished`;
  return interrupted === 0
    ? `Stopped; ${ran}`
    : `Stopped; ${ran}, ${interrupted} interrupted and ${interruptedJobsGo}`;
}

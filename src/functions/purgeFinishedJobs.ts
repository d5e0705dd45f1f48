import type { InvocationContext, Timer } from '@azure/functions';
import type { JobsRuntime } from '../runtime';

/** How often the timer removes finished jobs past retention in Azure (NCRONTAB: hourly, at minute 17). */
export const purgeFinishedJobsSchedule = '0 17 * * * *';

/** Timer: removes finished jobs older than `Jobs__Retention__Days` (see `JobRetention`), in bounded batches. */
export function createPurgeFinishedJobs({ retention }: Pick<JobsRuntime, 'retention'>) {
  return async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const report = await retention.run();
    context.debug('Retention run', report);
  };
}

import type { InvocationContext, Timer } from '@azure/functions';
import type { SettingName } from '../config';
import type { JobsRuntime } from '../runtime';

/** When the timer removes finished jobs past retention: the app setting's NCRONTAB (default hourly, at minute 17). */
export const purgeFinishedJobsSchedule = '%Jobs__Retention__Schedule%' satisfies `%${SettingName}%`;

/** Timer: removes finished jobs older than `Jobs__Retention__Days` (see `JobRetention`), in bounded batches. */
export function createPurgeFinishedJobs({ retention }: Pick<JobsRuntime, 'retention'>) {
  return async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const report = await retention.run();
    context.debug('Retention run', report);
  };
}

import type { InvocationContext, Timer } from '@azure/functions';
import type { JobsRuntime } from '../runtime';

/** How often the timer runs the reconciler in Azure (NCRONTAB: every minute, on the minute). */
export const reconcileJobsSchedule = '0 */1 * * * *';

/** Timer: moves on jobs that stopped moving (see `JobReconciler`). A failed run is retried by the next one. */
export function createReconcileJobs({ reconciler }: Pick<JobsRuntime, 'reconciler'>) {
  return async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const report = await reconciler.run();
    context.debug('Reconciler run', report);
  };
}

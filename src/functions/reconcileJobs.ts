import type { InvocationContext, Timer } from '@azure/functions';
import type { SettingName } from '../config';
import type { JobsRuntime } from '../runtime';

/** When the timer runs the reconciler: the app setting's NCRONTAB (default every minute, on the minute). */
export const reconcileJobsSchedule = '%Jobs__Reconciler__Schedule%' satisfies `%${SettingName}%`;

/** Timer: moves on jobs that stopped moving (see `JobReconciler`). A failed run is retried by the next one. */
export function createReconcileJobs({ reconciler }: Pick<JobsRuntime, 'reconciler'>) {
  return async (_timer: Timer, context: InvocationContext): Promise<void> => {
    const report = await reconciler.run();
    context.debug('Reconciler run', report);
  };
}

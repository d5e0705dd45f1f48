import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';

/** `GET /api/jobtypes`: every job type with its effective policy (attempts, handler timeout, backoff). */
export function createListJobTypes({ registry, logger }: Pick<JobsRuntime, 'registry' | 'logger'>) {
  return httpFunction(logger, {}, async () => ({
    status: 200,
    jsonBody: {
      jobTypes: registry.jobTypes().map((jobType) => ({ jobType, ...registry.policyOf(jobType) })),
    },
  }));
}

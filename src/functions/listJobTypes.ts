import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';
import { noPathParameters } from './requestInput';

/** `GET /api/jobtypes`: every job type with its effective policy (attempts, handler timeout, backoff). */
export function createListJobTypes({ registry, logger }: Pick<JobsRuntime, 'registry' | 'logger'>) {
  return httpFunction(logger, noPathParameters, async () => ({
    status: 200,
    jsonBody: {
      jobTypes: registry.jobTypes().map((jobType) => ({ jobType, ...registry.policyOf(jobType) })),
    },
  }));
}

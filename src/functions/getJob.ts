import type { JobsRuntime } from '../runtime';
import { problem } from './httpProblem';
import { httpFunction } from './httpFunction';
import { jobIdParams } from './requestInput';

/** `GET /api/jobs/{jobId}`: the job's record. */
export function createGetJob({ store, logger }: Pick<JobsRuntime, 'store' | 'logger'>) {
  return httpFunction(logger, { params: jobIdParams }, async ({ params: { jobId } }) => {
    const record = (await store.get(jobId))?.record;
    if (!record) return problem(404, 'Job not found', `No job with id '${jobId}'.`);
    return { status: 200, jsonBody: record };
  });
}

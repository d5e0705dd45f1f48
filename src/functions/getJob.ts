import { z } from 'zod';
import { jobIdSchema } from '../jobs/jobMessage';
import type { JobsRuntime } from '../runtime';
import { problem } from './httpProblem';
import { httpFunction } from './httpFunction';

// A job id is a GUID: anything else (`a%2Fb`) is a bad request, not a question for the store.
const getJobParams = z.object({ jobId: jobIdSchema.transform((jobId) => jobId.toLowerCase()) });

/** `GET /api/jobs/{jobId}`: the job's record. */
export function createGetJob({ store, logger }: Pick<JobsRuntime, 'store' | 'logger'>) {
  return httpFunction(logger, getJobParams, async ({ params: { jobId } }) => {
    const record = (await store.get(jobId))?.record;
    if (!record) return problem(404, 'Job not found', `No job with id '${jobId}'.`);
    return { status: 200, jsonBody: record };
  });
}

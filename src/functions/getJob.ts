import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { JobsRuntime } from '../runtime';
import { errorResponse, problem } from './httpProblem';

/** `GET /api/jobs/{jobId}`: the job's record. */
export function createGetJob({ store, logger }: Pick<JobsRuntime, 'store' | 'logger'>) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const jobId = (request.params.jobId ?? '').toLowerCase();
    try {
      const record = (await store.get(jobId))?.record;
      if (!record) return problem(404, 'Job not found', `No job with id '${jobId}'.`);
      return { status: 200, jsonBody: record };
    } catch (error) {
      return errorResponse(error, logger.child({ invocationId: context.invocationId, jobId }));
    }
  };
}

import type { JobsRuntime } from '../runtime';
import { problem } from './httpProblem';
import { httpFunction } from './httpFunction';
import { jobIdParams } from './requestInput';

/**
 * `POST /api/jobs/{jobId}/cancel`: 200 when the job is Cancelled (it will never run), 202 when it is running (its
 * handler is asked to stop; the record says Cancelled once the run ends), 409 naming the status of a finished job.
 */
export function createCancelJob({ cancellation, logger }: Pick<JobsRuntime, 'cancellation' | 'logger'>) {
  return httpFunction(logger, { params: jobIdParams }, async ({ params: { jobId } }) => {
    const { outcome, record } = await cancellation.cancel(jobId);
    if (outcome === 'AlreadyFinished') {
      return problem(
        409,
        'Job already finished',
        `Job '${jobId}' is ${record.status}: there is nothing to cancel.`,
        {
          extensions: { jobStatus: record.status },
        },
      );
    }
    const body = {
      jobId,
      status: record.status,
      attempt: record.attempt,
      cancelRequestedAt: record.cancelRequestedAt,
    };
    return { status: outcome === 'Cancelled' ? 200 : 202, jsonBody: body };
  });
}

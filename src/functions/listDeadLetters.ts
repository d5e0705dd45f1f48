import { deadLetterReasonSchema } from '../jobs/model/deadLetterReason';
import { deadLetterListLimit } from '../jobs/operators/deadLetterService';
import { jobTypeNameSchema } from '../jobs/submission/jobSubmissionRequest';
import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';
import { oneOf, queryInteger } from './queryParameters';

const listQuery = {
  limit: queryInteger(1, deadLetterListLimit.max).default(deadLetterListLimit.default),
  jobType: jobTypeNameSchema.optional(),
  reason: oneOf(deadLetterReasonSchema).optional(),
};

/** `GET /api/deadletters?limit=&jobType=&reason=`: dead-lettered jobs, oldest first, with counts; nothing removed. */
export function createListDeadLetters({ deadLetters, logger }: Pick<JobsRuntime, 'deadLetters' | 'logger'>) {
  return httpFunction(logger, { query: listQuery }, async ({ query }) => ({
    status: 200,
    jsonBody: await deadLetters.list(query),
  }));
}

import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import { deadLetterListLimit } from '../jobs/deadLetterService';
import type { JobsRuntime } from '../runtime';
import { errorResponse } from './httpProblem';
import { parseQuery } from './requestInput';

const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(deadLetterListLimit.max).default(deadLetterListLimit.default),
  jobType: z.string().trim().min(1).max(128).optional(),
  reason: z.string().trim().min(1).max(128).optional(),
});

/** `GET /api/deadletters?limit=&jobType=&reason=`: dead-lettered jobs, oldest first, with counts; nothing removed. */
export function createListDeadLetters({ deadLetters, logger }: Pick<JobsRuntime, 'deadLetters' | 'logger'>) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const query = parseQuery(request, listQuerySchema);
    if (!query.ok) return query.response;
    try {
      return { status: 200, jsonBody: await deadLetters.list(query.value) };
    } catch (error) {
      return errorResponse(error, logger.child({ invocationId: context.invocationId }));
    }
  };
}

import { z } from 'zod';
import { deadLetterListLimit } from '../jobs/operators/deadLetterService';
import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';
import { noPathParameters, parseQuery } from './requestInput';

const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(deadLetterListLimit.max).default(deadLetterListLimit.default),
  jobType: z.string().trim().min(1).max(128).optional(),
  reason: z.string().trim().min(1).max(128).optional(),
});

/** `GET /api/deadletters?limit=&jobType=&reason=`: dead-lettered jobs, oldest first, with counts; nothing removed. */
export function createListDeadLetters({ deadLetters, logger }: Pick<JobsRuntime, 'deadLetters' | 'logger'>) {
  return httpFunction(logger, noPathParameters, async ({ request }) => {
    const query = parseQuery(request, listQuerySchema);
    if (!query.ok) return query.response;
    return { status: 200, jsonBody: await deadLetters.list(query.value) };
  });
}

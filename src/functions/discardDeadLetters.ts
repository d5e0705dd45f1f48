import { z } from 'zod';
import { discardMatchingDeadLetters } from '../jobs/discardMatchingDeadLetters';
import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';
import { noPathParameters, parseOptionalJsonBody } from './requestInput';

const filterText = z.string().trim().min(1).max(128);

const bulkDiscardBodySchema = z
  .strictObject({
    reason: filterText.optional(),
    jobType: filterText.optional(),
    all: z.literal(true).optional(),
  })
  .refine((body) => body.reason !== undefined || body.jobType !== undefined || body.all === true, {
    message: 'Name a reason or a jobType to discard, or "all": true to discard every dead-lettered message.',
    path: ['reason'],
  });

/**
 * `POST /api/deadletters/discard` `{ reason?, jobType? }` or `{ all: true }`: discards every match (up to 1000 a
 * call; `truncated` says to call again), with per-message results.
 */
export function createDiscardDeadLetters({
  deadLetters,
  logger,
}: Pick<JobsRuntime, 'deadLetters' | 'logger'>) {
  return httpFunction(logger, noPathParameters, async ({ request }) => {
    const body = await parseOptionalJsonBody(request, bulkDiscardBodySchema, 64 * 1024);
    if (!body.ok) return body.response;
    const { reason, jobType } = body.value;
    return { status: 200, jsonBody: await discardMatchingDeadLetters(deadLetters, { reason, jobType }) };
  });
}

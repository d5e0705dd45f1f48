import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';
import { deadLetterFilterBody, maxDeadLetterFilterBodyBytes, parseOptionalJsonBody } from './requestInput';

const bulkDiscardBodySchema = deadLetterFilterBody(
  'Name a reason or a jobType to discard, or "all": true to discard every dead-lettered message.',
);

/**
 * `POST /api/deadletters/discard` `{ reason?, jobType? }` or `{ all: true }`: discards every match (up to 1000 a
 * call; `truncated` says to call again), with per-message results.
 */
export function createDiscardDeadLetters({
  deadLetters,
  logger,
}: Pick<JobsRuntime, 'deadLetters' | 'logger'>) {
  return httpFunction(logger, {}, async ({ request }) => {
    const body = await parseOptionalJsonBody(request, bulkDiscardBodySchema, maxDeadLetterFilterBodyBytes);
    if (!body.ok) return body.response;
    const { reason, jobType } = body.value;
    return { status: 200, jsonBody: await deadLetters.discardMatching({ reason, jobType }) };
  });
}

import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';
import { deadLetterFilterBody, maxDeadLetterFilterBodyBytes, parseOptionalJsonBody } from './requestInput';

const bulkReplayBodySchema = deadLetterFilterBody(
  'Name a reason or a jobType to replay, or "all": true to replay every dead-lettered job.',
);

/** `POST /api/deadletters/replay` `{ reason?, jobType? }` or `{ all: true }`: replays every match; per-message results. */
export function createReplayDeadLetters({
  deadLetters,
  logger,
}: Pick<JobsRuntime, 'deadLetters' | 'logger'>) {
  return httpFunction(logger, {}, async ({ request }) => {
    const body = await parseOptionalJsonBody(request, bulkReplayBodySchema, maxDeadLetterFilterBodyBytes);
    if (!body.ok) return body.response;
    const { reason, jobType } = body.value;
    return { status: 200, jsonBody: await deadLetters.replayMatching({ reason, jobType }) };
  });
}

import { z } from 'zod';
import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';
import { noPathParameters, parseOptionalJsonBody } from './requestInput';

const filterText = z.string().trim().min(1).max(128);

const bulkReplayBodySchema = z
  .strictObject({
    reason: filterText.optional(),
    jobType: filterText.optional(),
    all: z.literal(true).optional(),
  })
  .refine((body) => body.reason !== undefined || body.jobType !== undefined || body.all === true, {
    message: 'Name a reason or a jobType to replay, or "all": true to replay every dead-lettered job.',
    path: ['reason'],
  });

/** `POST /api/deadletters/replay` `{ reason?, jobType? }` or `{ all: true }`: replays every match; per-message results. */
export function createReplayDeadLetters({
  deadLetters,
  logger,
}: Pick<JobsRuntime, 'deadLetters' | 'logger'>) {
  return httpFunction(logger, noPathParameters, async ({ request }) => {
    const body = await parseOptionalJsonBody(request, bulkReplayBodySchema, 64 * 1024);
    if (!body.ok) return body.response;
    const { reason, jobType } = body.value;
    return { status: 200, jsonBody: await deadLetters.replayMatching({ reason, jobType }) };
  });
}

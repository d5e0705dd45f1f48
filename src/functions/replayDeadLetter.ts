import { z } from 'zod';
import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';
import { parseOptionalJsonBody, sequenceNumberParams } from './requestInput';
import { maxRequestBytes } from './submitJob';

const replayBodySchema = z.strictObject({ payload: z.unknown().optional() });

/**
 * `POST /api/deadletters/{sequenceNumber}/replay`, optional body `{ "payload": … }` (a corrected payload): 202 once
 * the job is queued again.
 */
export function createReplayDeadLetter({ deadLetters, logger }: Pick<JobsRuntime, 'deadLetters' | 'logger'>) {
  return httpFunction(logger, { params: sequenceNumberParams }, async ({ request, params }) => {
    const body = await parseOptionalJsonBody(request, replayBodySchema, maxRequestBytes);
    if (!body.ok) return body.response;
    const result = await deadLetters.replay(params.sequenceNumber, body.value);
    const statusUrl = new URL(`/api/jobs/${result.jobId}`, request.url).toString();
    return { status: 202, headers: { Location: statusUrl }, jsonBody: { ...result, statusUrl } };
  });
}

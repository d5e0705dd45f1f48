import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { z } from 'zod';
import type { JobsRuntime } from '../runtime';
import { errorResponse } from './httpProblem';
import { parseOptionalJsonBody, parseSequenceNumber } from './requestInput';
import { maxRequestBytes } from './submitJob';

const replayBodySchema = z.strictObject({ payload: z.unknown().optional() });

/**
 * `POST /api/deadletters/{sequenceNumber}/replay`, optional body `{ "payload": … }` (a corrected payload): 202 once
 * the job is queued again.
 */
export function createReplayDeadLetter({ deadLetters, logger }: Pick<JobsRuntime, 'deadLetters' | 'logger'>) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const sequenceNumber = parseSequenceNumber(request);
    if (!sequenceNumber.ok) return sequenceNumber.response;
    const body = await parseOptionalJsonBody(request, replayBodySchema, maxRequestBytes);
    if (!body.ok) return body.response;
    try {
      const result = await deadLetters.replay(sequenceNumber.value, body.value);
      const statusUrl = new URL(`/api/jobs/${result.jobId}`, request.url).toString();
      return { status: 202, headers: { Location: statusUrl }, jsonBody: { ...result, statusUrl } };
    } catch (error) {
      return errorResponse(error, logger.child({ invocationId: context.invocationId }));
    }
  };
}

import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { JobsRuntime } from '../runtime';
import { errorResponse } from './httpProblem';
import { parseSequenceNumber } from './requestInput';

/** `DELETE /api/deadletters/{sequenceNumber}`: removes the message for good and records that on the job. */
export function createDiscardDeadLetter({
  deadLetters,
  logger,
}: Pick<JobsRuntime, 'deadLetters' | 'logger'>) {
  return async (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> => {
    const sequenceNumber = parseSequenceNumber(request);
    if (!sequenceNumber.ok) return sequenceNumber.response;
    try {
      return {
        status: 200,
        jsonBody: { ...(await deadLetters.discard(sequenceNumber.value)), discarded: true },
      };
    } catch (error) {
      return errorResponse(error, logger.child({ invocationId: context.invocationId }));
    }
  };
}

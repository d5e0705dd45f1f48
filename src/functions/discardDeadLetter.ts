import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';
import { sequenceNumberParams } from './requestInput';

/** `DELETE /api/deadletters/{sequenceNumber}`: removes the message for good and records that on the job. */
export function createDiscardDeadLetter({
  deadLetters,
  logger,
}: Pick<JobsRuntime, 'deadLetters' | 'logger'>) {
  return httpFunction(logger, { params: sequenceNumberParams }, async ({ params }) => ({
    status: 200,
    jsonBody: { ...(await deadLetters.discard(params.sequenceNumber)), discarded: true },
  }));
}

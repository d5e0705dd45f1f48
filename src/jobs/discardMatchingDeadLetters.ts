import type { DeadLetterFilter, DeadLetterService } from './deadLetterService';
import { deadLetterListLimit } from './deadLetterService';
import { errorMessage, isInfrastructureError, isJobsError } from './errors';

export type BulkDiscardItem =
  | { sequenceNumber: string; jobId: string | null; status: 'discarded' }
  | { sequenceNumber: string; jobId: string | null; status: 'failed'; code: string; error: string };

export interface BulkDiscardResult {
  results: BulkDiscardItem[];
  discarded: number;
  failed: number;
  /** More messages matched than one call discards (or the sub-queue was read only in part): call it again. */
  truncated: boolean;
}

/**
 * Discards every dead-lettered message that matches, oldest first, one by one as `discard` does (each recorded on
 * its job); one failure does not stop the others, but once the queue or store is unavailable the rest are not
 * attempted. One call takes at most one listing's worth ({@link deadLetterListLimit}.max messages).
 */
export async function discardMatchingDeadLetters(
  deadLetters: Pick<DeadLetterService, 'list' | 'discard'>,
  filter: DeadLetterFilter,
): Promise<BulkDiscardResult> {
  const listing = await deadLetters.list({ limit: deadLetterListLimit.max, ...filter });
  const results: BulkDiscardItem[] = [];
  let unavailable: string | undefined;
  for (const { sequenceNumber, jobId } of listing.items) {
    if (unavailable) {
      results.push({ sequenceNumber, jobId, status: 'failed', code: 'NotAttempted', error: unavailable });
      continue;
    }
    try {
      await deadLetters.discard(sequenceNumber);
      results.push({ sequenceNumber, jobId, status: 'discarded' });
    } catch (error) {
      const code = isJobsError(error) ? error.code : 'Unexpected';
      results.push({ sequenceNumber, jobId, status: 'failed', code, error: errorMessage(error) });
      if (isInfrastructureError(error)) unavailable = `Not attempted: ${errorMessage(error)}`;
    }
  }
  const discarded = results.filter((result) => result.status === 'discarded').length;
  return {
    results,
    discarded,
    failed: results.length - discarded,
    truncated: listing.truncated || listing.matched > listing.items.length,
  };
}

import type { BulkFailure, DeadLetterFilter, DeadLetterService } from './deadLetterService';
import { actOnEach, deadLetterListLimit } from './deadLetterService';

export type BulkDiscardItem =
  { sequenceNumber: string; jobId: string | null; status: 'discarded' } | BulkFailure;

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
  const results: BulkDiscardItem[] = await actOnEach(
    listing.items.map((item) => ({ item })),
    async ({ item: { sequenceNumber, jobId } }) => {
      await deadLetters.discard(sequenceNumber);
      return { sequenceNumber, jobId, status: 'discarded' };
    },
  );
  const discarded = results.filter((result) => result.status === 'discarded').length;
  return {
    results,
    discarded,
    failed: results.length - discarded,
    truncated: listing.truncated || listing.matched > listing.items.length,
  };
}

import type {
  DeadLetterItem,
  DeadLetterListing,
  DeadLetterService,
} from '../../../src/jobs/deadLetterService';
import { discardMatchingDeadLetters } from '../../../src/jobs/discardMatchingDeadLetters';
import { InfrastructureError, NotFoundError } from '../../../src/jobs/errors';

function item(sequenceNumber: string): DeadLetterItem {
  return {
    sequenceNumber,
    messageId: `m-${sequenceNumber}`,
    jobId: `job-${sequenceNumber}`,
    jobType: 'a',
    reason: 'Poisoned',
    description: '',
    attempts: 1,
    deadLetteredAt: null,
  };
}

/** A dead-letter service whose listing is `items` (of `matched`), and whose discard does `discard`. */
function fakeService(
  items: DeadLetterItem[],
  discard: (sequenceNumber: string) => Promise<unknown>,
  { matched = items.length, truncated = false } = {},
): Pick<DeadLetterService, 'list' | 'discard'> & { listed: unknown[] } {
  const listed: unknown[] = [];
  return {
    listed,
    list: async (query) => {
      listed.push(query);
      const listing: DeadLetterListing = {
        items,
        counts: { byReason: {}, byJobType: {} },
        scanned: matched,
        matched,
        truncated,
      };
      return listing;
    },
    discard: async (sequenceNumber) => {
      await discard(sequenceNumber);
      return { sequenceNumber, jobId: `job-${sequenceNumber}`, reason: 'Poisoned' };
    },
  };
}

describe('discardMatchingDeadLetters', () => {
  it('discards every message the filter lists, oldest first, and reports each', async () => {
    const discarded: string[] = [];
    const service = fakeService([item('1'), item('2')], async (sequenceNumber) =>
      discarded.push(sequenceNumber),
    );

    const result = await discardMatchingDeadLetters(service, { reason: 'Poisoned', jobType: 'a' });

    expect(service.listed).toEqual([{ limit: 1000, reason: 'Poisoned', jobType: 'a' }]);
    expect(discarded).toEqual(['1', '2']);
    expect(result).toEqual({
      results: [
        { sequenceNumber: '1', jobId: 'job-1', status: 'discarded' },
        { sequenceNumber: '2', jobId: 'job-2', status: 'discarded' },
      ],
      discarded: 2,
      failed: 0,
      truncated: false,
    });
  });

  it('goes on after one failure, but attempts no more once the queue or store is unavailable', async () => {
    const service = fakeService([item('1'), item('2'), item('3'), item('4')], async (sequenceNumber) => {
      if (sequenceNumber === '1') throw new NotFoundError('gone');
      if (sequenceNumber === '3') throw new InfrastructureError('QueueUnavailable', 'down');
    });

    const result = await discardMatchingDeadLetters(service, { jobType: 'a' });

    expect(
      result.results.map((entry) => [entry.sequenceNumber, entry.status === 'failed' ? entry.code : 'ok']),
    ).toEqual([
      ['1', 'NotFound'],
      ['2', 'ok'],
      ['3', 'QueueUnavailable'],
      ['4', 'NotAttempted'],
    ]);
    expect(result).toMatchObject({ discarded: 1, failed: 3 });
  });

  it('says truncated when more match than one listing holds', async () => {
    const service = fakeService([item('1')], async () => undefined, { matched: 1001 });

    expect((await discardMatchingDeadLetters(service, {})).truncated).toBe(true);
  });
});

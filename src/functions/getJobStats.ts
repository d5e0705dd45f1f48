import { InfrastructureError } from '../jobs/errors';
import { jobStatsReport, minutesWindowStart } from '../jobs/model/jobStats';
import type { QueueDepth, QueueDepthReader } from '../jobs/ports/queueDepth';
import type { Logger } from '../jobs/support/logger';
import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';
import { queryInteger } from './queryParameters';

const statsQuery = { hours: queryInteger(1, 720).default(24) };

/** Minutes of the outcome series: the last hour, the current minute included. */
const seriesMinutes = 60;
/** Most listing entries, and most outcomes, one answer counts: a bounded read, whatever the volume. */
const maxStatsEntries = 20_000;

/**
 * `GET /api/jobstats?hours=`: jobs submitted in the last `hours` (24 by default) by status and job type (and how
 * many DeadLettered were discarded), and completed, failed and cancelled attempts per minute over the last hour.
 * `truncated` / `perMinuteTruncated` say the counts cover only the newest {@link maxStatsEntries}. `queue`: the
 * queue's active, scheduled and dead-lettered messages now, as the broker counts them (or why it did not answer).
 */
export function createGetJobStats(
  { store, queue, queueDepth, logger }: Pick<JobsRuntime, 'store' | 'queue' | 'queueDepth' | 'logger'>,
  now: () => Date = () => new Date(),
) {
  return httpFunction(logger, { query: statsQuery }, async ({ query }) => {
    const at = now();
    const submittedSince = new Date(at.getTime() - query.hours * 3_600_000);
    const [snapshot, depth] = await Promise.all([
      store.stats({
        submittedSince,
        outcomesSince: minutesWindowStart(at, seriesMinutes),
        maxEntries: maxStatsEntries,
      }),
      readQueueDepth(queueDepth, logger),
    ]);
    return {
      status: 200,
      headers: { 'Cache-Control': 'no-store' },
      jsonBody: {
        ...jobStatsReport(snapshot, { now: at, submittedSince, minutes: seriesMinutes }),
        queue: { name: queue.queueName, ...depth },
      },
    };
  });
}

/**
 * The queue's depth, or why it could not be read: the broker's counts are a reading beside the records', so a
 * broker that does not answer leaves the rest of the answer standing.
 */
async function readQueueDepth(
  reader: QueueDepthReader,
  logger: Logger,
): Promise<QueueDepth | { unavailable: string }> {
  try {
    return await reader.depth();
  } catch (error) {
    if (!(error instanceof InfrastructureError)) throw error;
    logger.warn('Queue depth unavailable', { error: error.message });
    return { unavailable: error.message };
  }
}

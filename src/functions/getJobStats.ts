import { jobStatsReport, minutesWindowStart } from '../jobs/model/jobStats';
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
 * `truncated` / `perMinuteTruncated` say the counts cover only the newest {@link maxStatsEntries}.
 */
export function createGetJobStats(
  { store, logger }: Pick<JobsRuntime, 'store' | 'logger'>,
  now: () => Date = () => new Date(),
) {
  return httpFunction(logger, { query: statsQuery }, async ({ query }) => {
    const at = now();
    const submittedSince = new Date(at.getTime() - query.hours * 3_600_000);
    const snapshot = await store.stats({
      submittedSince,
      outcomesSince: minutesWindowStart(at, seriesMinutes),
      maxEntries: maxStatsEntries,
    });
    return {
      status: 200,
      headers: { 'Cache-Control': 'no-store' },
      jsonBody: jobStatsReport(snapshot, { now: at, submittedSince, minutes: seriesMinutes }),
    };
  });
}

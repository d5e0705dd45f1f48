import { odata } from '@azure/data-tables';
import type { JobStatus } from '../jobs/model/jobRecord';
import { jobRecordSchema } from '../jobs/model/jobRecord';
import type { JobStatsQuery, JobStatsSnapshot, MinuteOutcomes } from '../jobs/model/jobStats';
import { addJob, addOutcome, minuteKey } from '../jobs/model/jobStats';
import type { CountedRows, IndexRowReader, MinuteCounting } from './minuteRollups';
import { countMinutes, minuteCountdown, minuteEndMs, minuteStartMs } from './minuteRollups';
import { rangeFilter } from './rowRange';
import {
  dayStartMsOf,
  indexPartition,
  listingRangeOf,
  nextDay,
  outcomePartition,
  outcomePartitionPrefix,
  outcomeRange,
  submittedMsOf,
} from './tableIndexRows';

interface JobCounts {
  byJobType: JobStatsSnapshot['byJobType'];
  discarded: number;
  jobs: number;
}

/**
 * The dashboard's counts from the index: jobs submitted since by type and status, and outcomes per minute, each
 * minute from its rollup where the rollup is current and from its rows otherwise (see minuteRollups). Reads grow with
 * the minutes in the window and the rows of minutes still changing, not with the jobs in it; `maxEntries` bounds the
 * rows counted one by one.
 */
export async function tableJobStats(
  index: IndexRowReader,
  { submittedSince, outcomesSince, maxEntries }: JobStatsQuery,
  now: Date,
): Promise<JobStatsSnapshot> {
  const [jobs, outcomes] = await Promise.all([
    countJobs(index, submittedSince, now, maxEntries),
    countOutcomes(index, outcomesSince, now, maxEntries),
  ]);
  return { ...jobs, ...outcomes };
}

async function countJobs(
  index: IndexRowReader,
  since: Date,
  now: Date,
  maxEntries: number,
): Promise<Pick<JobStatsSnapshot, 'byJobType' | 'jobsCounted' | 'jobsTruncated' | 'deadLetteredDiscarded'>> {
  const total: JobCounts = { byJobType: {}, discarded: 0, jobs: 0 };
  const budget = { rows: 0, max: maxEntries };
  let complete = true;
  for (const partition of daysNewestFirst(since, now)) {
    const counting: MinuteCounting<JobCounts> = {
      kind: 'j',
      empty: () => ({ byJobType: {}, discarded: 0, jobs: 0 }),
      countRows: (fromMs, toMs) => countJobRows(index, partition, fromMs, toMs, budget),
    };
    const counted = await countMinutes(index, counting, partition, window(partition, since, now));
    for (const counts of counted.byMinute.values()) addJobCounts(total, counts);
    if (!counted.complete) {
      complete = false;
      break;
    }
  }
  return {
    byJobType: total.byJobType,
    jobsCounted: total.jobs,
    jobsTruncated: !complete,
    deadLetteredDiscarded: total.discarded,
  };
}

async function countJobRows(
  index: IndexRowReader,
  partition: string,
  fromMs: number,
  toMs: number,
  budget: { rows: number; max: number },
): Promise<CountedRows<JobCounts>> {
  const rows = await index.rows(
    rangeFilter(partition, listingRangeOf(fromMs, toMs)),
    ['RowKey', 'jobType', 'status', 'discarded'],
    budget.max - budget.rows + 1,
  );
  const byMinute = new Map<string, JobCounts>();
  for (const row of rows) {
    const minute = minuteCountdown(submittedMsOf(row.rowKey));
    if (budget.rows === budget.max) return { byMinute, countedFromMs: minuteEndMs(minute) };
    budget.rows += 1;
    const status = jobRecordSchema.shape.status.safeParse(row['status']);
    if (!status.success) continue;
    const counts = byMinute.get(minute) ?? { byJobType: {}, discarded: 0, jobs: 0 };
    byMinute.set(minute, counts);
    addJob(counts.byJobType, String(row['jobType']), status.data);
    counts.jobs += 1;
    if (status.data === 'DeadLettered' && row['discarded'] === true) counts.discarded += 1;
  }
  return { byMinute, countedFromMs: fromMs };
}

async function countOutcomes(
  index: IndexRowReader,
  since: Date,
  now: Date,
  maxEntries: number,
): Promise<Pick<JobStatsSnapshot, 'outcomesByMinute' | 'outcomesTruncated'>> {
  const outcomesByMinute: JobStatsSnapshot['outcomesByMinute'] = {};
  const budget = { rows: 0, max: maxEntries };
  // Attempts that ended on another day than their job's submission: rows of their minute's own partition.
  const elsewhere = await index.rows(
    [
      odata`PartitionKey gt ${outcomePartitionPrefix}`,
      odata`PartitionKey le ${outcomePartition(since)}`,
      odata`completedAt ge ${since}`,
    ].join(' and '),
    ['minute', 'status'],
    budget.max + 1,
  );
  for (const row of elsewhere) {
    if (budget.rows === budget.max) return { outcomesByMinute, outcomesTruncated: true };
    budget.rows += 1;
    addOutcome(outcomesByMinute, String(row['minute']), String(row['status']));
  }
  for (const partition of daysNewestFirst(since, now)) {
    const counting: MinuteCounting<MinuteOutcomes> = {
      kind: 'o',
      empty: () => ({ completed: 0, failed: 0, cancelled: 0 }),
      countRows: (fromMs, toMs) => countOutcomeRows(index, partition, fromMs, toMs, budget),
    };
    const counted = await countMinutes(index, counting, partition, window(partition, since, now));
    for (const [minute, counts] of counted.byMinute) {
      const at = minuteKey(minuteStartMs(minute));
      const sum = (outcomesByMinute[at] ??= { completed: 0, failed: 0, cancelled: 0 });
      sum.completed += counts.completed;
      sum.failed += counts.failed;
      sum.cancelled += counts.cancelled;
    }
    if (!counted.complete) return { outcomesByMinute, outcomesTruncated: true };
  }
  return { outcomesByMinute, outcomesTruncated: false };
}

async function countOutcomeRows(
  index: IndexRowReader,
  partition: string,
  fromMs: number,
  toMs: number,
  budget: { rows: number; max: number },
): Promise<CountedRows<MinuteOutcomes>> {
  const rows = await index.rows(
    [
      rangeFilter(partition, outcomeRange(fromMs, toMs)),
      odata`completedAt ge ${new Date(fromMs)}`,
      odata`completedAt lt ${new Date(toMs)}`,
    ].join(' and '),
    ['RowKey', 'status'],
    budget.max - budget.rows + 1,
  );
  const byMinute: Record<string, MinuteOutcomes> = {};
  let countedFromMs = fromMs;
  for (const row of rows) {
    // `o|<minute>|…`
    const minute = row.rowKey.slice(2, 10);
    if (budget.rows === budget.max) {
      countedFromMs = minuteEndMs(minute);
      break;
    }
    budget.rows += 1;
    addOutcome(byMinute, minute, String(row['status']));
  }
  return { byMinute: new Map(Object.entries(byMinute)), countedFromMs };
}

function addJobCounts(total: JobCounts, counts: JobCounts): void {
  for (const [jobType, byStatus] of Object.entries(counts.byJobType)) {
    const sum = (total.byJobType[jobType] ??= {});
    for (const [status, count] of Object.entries(byStatus) as Array<[JobStatus, number]>)
      sum[status] = (sum[status] ?? 0) + count;
  }
  total.discarded += counts.discarded;
  total.jobs += counts.jobs;
}

function daysNewestFirst(since: Date, now: Date): string[] {
  const days: string[] = [];
  const first = indexPartition(since);
  for (let day = indexPartition(now); day >= first; day = nextDay(day, -1)) days.push(day);
  return days;
}

function window(
  partition: string,
  since: Date,
  now: Date,
): { sinceMs: number; nowMs: number; dayStartMs: number } {
  return { sinceMs: since.getTime(), nowMs: now.getTime(), dayStartMs: dayStartMsOf(partition) };
}
